package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/history"
)

// writeScorecard writes batch's scorecard of n projects to the lake's history, as a
// published batch leaves it (with fewer columns than today's: a file of an older version).
func writeScorecard(t *testing.T, db *sql.DB, lake, batch string, n int) {
	t.Helper()
	if err := os.MkdirAll(history.Dir(lake), 0o755); err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf(`COPY (SELECT %s AS batch_id, 'SOF-' || i AS project_id, 'extend' AS band, i * 10.0 AS score
		FROM range(%d) AS r(i)) TO %s (FORMAT parquet)`, quote(batch), n, quote(filepath.Join(history.Dir(lake), batch+".parquet")))
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// historyRows returns raw_scorecard_history's rows as text, sorted.
func historyRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT batch_seq, withdrawn, batch_id, project_id, band, score FROM raw_scorecard_history ORDER BY ALL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var seq int
		var withdrawn bool
		var batch, project, band string
		var score float64
		if err := rows.Scan(&seq, &withdrawn, &batch, &project, &band, &score); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %t %s %s %s %g", seq, withdrawn, batch, project, band, score))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHistoryLoadedIncrementally: an incremental build reads only the scorecards published
// since its base (the others are not read again: here one is no longer Parquet at all), and
// its raw_scorecard_history has the rows a full load gives; a batch flagged withdrawn since,
// or a scorecard the base lacks that has rows after all, makes it load the whole history
// again.
func TestHistoryLoadedIncrementally(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	open := func(name string) *sql.DB {
		db, err := Open(filepath.Join(dir, name), false)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		return db
	}
	build := open("build.duckdb")
	writeScorecard(t, build, lake, "20260101T020000Z", 2)
	writeScorecard(t, build, lake, "20260102T020000Z", 0) // no project registered yet
	writeScorecard(t, build, lake, "20260103T020000Z", 3)
	if err := loadHistory(ctx, build, lake, "20260104T020000Z", false); err != nil {
		t.Fatal(err)
	}
	full := func(building string) []string {
		t.Helper()
		db := open("full-" + building + ".duckdb")
		if err := loadHistory(ctx, db, lake, building, false); err != nil {
			t.Fatal(err)
		}
		return historyRows(t, db)
	}
	same := func(what, building string) {
		t.Helper()
		if diff := cmp.Diff(full(building), historyRows(t, build)); diff != "" {
			t.Errorf("%s: raw_scorecard_history against a full load (-full +incremental):\n%s", what, diff)
		}
	}

	// The base's batch is published; the next build adds its scorecard alone.
	writeScorecard(t, build, lake, "20260104T020000Z", 3)
	first := filepath.Join(history.Dir(lake), "20260101T020000Z.parquet")
	kept, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(first, []byte("not Parquet: a file the build must not read again"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := loadHistory(ctx, build, lake, "20260105T020000Z", true); err != nil {
		t.Fatalf("incremental load read a scorecard it holds already: %v", err)
	}
	if err := os.WriteFile(first, kept, 0o644); err != nil {
		t.Fatal(err)
	}
	same("a night after the base", "20260105T020000Z")
	if got := len(historyRows(t, build)); got != 2+3+3 {
		t.Errorf("%d rows, want 8", got)
	}

	// A rollback flags batches withdrawn: the flags are read again with every row.
	if err := os.WriteFile(filepath.Join(history.Dir(lake), "20260103T020000Z.withdrawn"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	writeScorecard(t, build, lake, "20260105T020000Z", 1)
	if err := loadHistory(ctx, build, lake, "20260106T020000Z", true); err != nil {
		t.Fatal(err)
	}
	same("a night after a batch was withdrawn", "20260106T020000Z")

	// The empty scorecard the table has no row for turns out to hold rows (put back by
	// hand): it is read.
	writeScorecard(t, build, lake, "20260102T020000Z", 2)
	writeScorecard(t, build, lake, "20260106T020000Z", 1)
	if err := loadHistory(ctx, build, lake, "20260107T020000Z", true); err != nil {
		t.Fatal(err)
	}
	same("a night after an empty scorecard gained rows", "20260107T020000Z")
	if rows := strings.Join(historyRows(t, build), "\n"); !strings.Contains(rows, "20260102T020000Z") {
		t.Errorf("the scorecard that gained rows is not in the table:\n%s", rows)
	}
}
