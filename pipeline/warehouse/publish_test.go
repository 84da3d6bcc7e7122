package warehouse

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// tinyWarehouse makes a real DuckDB file at path whose build record names batch.
func tinyWarehouse(t *testing.T, path, batch string) {
	t.Helper()
	db, err := Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE _build AS SELECT ?::VARCHAR AS batch_id", batch); err != nil {
		t.Fatal(err)
	}
}

func publishAll(t *testing.T, dir string, keep int, batches ...string) (live, history string) {
	t.Helper()
	live = filepath.Join(dir, "sof.duckdb")
	history = filepath.Join(dir, "history")
	for i, batch := range batches {
		build := filepath.Join(dir, ".build-"+batch+".duckdb")
		tinyWarehouse(t, build, batch)
		if err := Publish(context.Background(), build, live, history, keep, LiveFile{}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if got, err := BatchOf(context.Background(), live); err != nil || got != batch {
			t.Fatalf("live holds batch %q (%v) after publishing %s", got, err, batch)
		}
	}
	return live, history
}

func TestPublishKeepsHistoryAndPrunes(t *testing.T) {
	dir := t.TempDir()
	_, history := publishAll(t, dir, 2, "20260101T020000Z", "20260102T020000Z", "20260103T020000Z", "20260104T020000Z")
	files, err := History(history)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(history, "sof-20260103T020000Z.duckdb"), filepath.Join(history, "sof-20260102T020000Z.duckdb")}
	if len(files) != 2 || files[0] != want[0] || files[1] != want[1] {
		t.Errorf("history %v, want %v (newest first, two kept)", files, want)
	}
	for _, f := range files {
		b, _ := HistoryBatch(f)
		if got, err := BatchOf(context.Background(), f); err != nil || got != b {
			t.Errorf("%s holds batch %q (%v)", f, got, err)
		}
	}
}

// Batches started within one second get ids X, X-2, X-3: as file names "sof-X-2.duckdb"
// sorts before "sof-X.duckdb", so ordering by name pruned the newer file.
func TestPublishHistoryOrdersBatchesOfOneSecond(t *testing.T) {
	dir := t.TempDir()
	_, history := publishAll(t, dir, 1, "20261130T125242Z", "20261130T125242Z-2", "20261130T125242Z-3")
	files, err := History(history)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(history, "sof-20261130T125242Z-2.duckdb"); len(files) != 1 || files[0] != want {
		t.Errorf("history %v, want only %s (the newest before the live one)", files, want)
	}
}

// The published file is read-only; publishing must not need write access to it, which a
// non-root owner does not have once it is 0444.
func TestPublishLeavesReadOnlyFile(t *testing.T) {
	dir := t.TempDir()
	live, _ := publishAll(t, dir, 1, "20260101T020000Z", "20260102T020000Z")
	info, err := os.Stat(live)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o444 {
		t.Errorf("live file mode %v, want read-only 0444", info.Mode().Perm())
	}
}
