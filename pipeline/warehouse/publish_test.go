package warehouse

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPublishKeepsHistoryAndPrunes(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "sof.duckdb")
	history := filepath.Join(dir, "history")
	previous := ""
	for i, batch := range []string{"20260101T020000Z", "20260102T020000Z", "20260103T020000Z", "20260104T020000Z"} {
		build := filepath.Join(dir, ".build-"+batch+".duckdb")
		if err := os.WriteFile(build, []byte(batch), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Publish(build, live, history, previous, 2); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		previous = batch
		if b, _ := os.ReadFile(live); string(b) != batch {
			t.Fatalf("live holds %q after publishing %s", b, batch)
		}
	}
	files, err := History(history)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(history, "sof-20260103T020000Z.duckdb"), filepath.Join(history, "sof-20260102T020000Z.duckdb")}
	if len(files) != 2 || files[0] != want[0] || files[1] != want[1] {
		t.Errorf("history %v, want %v (newest first, two kept)", files, want)
	}
	if b, _ := os.ReadFile(files[0]); string(b) != "20260103T020000Z" {
		t.Errorf("history file holds %q", b)
	}
}
