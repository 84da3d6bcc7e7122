package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// The counters are the ledger's history: a restart (a new registry seeded from the same
// records) shows the same totals, a duplicate delivery counts as a file but no rows, a
// run record left "running" by a dead process counts as abandoned, and the data-test
// gauges keep the last build's results through an unchanged batch.
func TestTextfileFromHistory(t *testing.T) {
	t0 := time.Date(2026, 6, 9, 2, 0, 0, 0, time.UTC)
	files := []ledger.File{
		{SHA256: "a1", Dataset: "spend", BatchID: "B1", RowsAccepted: 90, RowsRejected: 10, Status: ledger.StatusIngested},
		{SHA256: "b2", Dataset: "", BatchID: "B1", Status: ledger.StatusRejected},
	}
	runs := []ledger.Run{
		{BatchID: "B1", Status: "published", StartedAt: t0, FinishedAt: t0.Add(3 * time.Second), WarehouseBuild: "full", ChecksWarned: 2,
			Deliveries: []ledger.Delivery{{SHA256: "a1", Status: ledger.StatusIngested}, {SHA256: "b2", Status: ledger.StatusRejected}}},
		{BatchID: "B2", Status: "unchanged", StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour + time.Second),
			Deliveries: []ledger.Delivery{{SHA256: "a1", Status: ledger.StatusDuplicate}}},
		{BatchID: "B3", Status: "running", StartedAt: t0.Add(2 * time.Hour)},
	}
	path := filepath.Join(t.TempDir(), "sofpipe.prom")
	if err := Textfile(path, runs, files, 4, 1); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		`sofpipe_batches_total{status="published"} 1`,
		`sofpipe_batches_total{status="unchanged"} 1`,
		`sofpipe_batches_total{status="abandoned"} 1`,
		`sofpipe_batches_total{status="cancelled"} 0`,
		`sofpipe_batch_duration_seconds_count 2`,
		`sofpipe_batch_duration_seconds_sum 4`,
		`sofpipe_rows_total{dataset="spend",outcome="accepted"} 90`,
		`sofpipe_rows_total{dataset="spend",outcome="rejected"} 10`,
		`sofpipe_files_total{dataset="spend",status="ingested"} 1`,
		`sofpipe_files_total{dataset="spend",status="duplicate"} 1`,
		`sofpipe_files_total{dataset="unknown",status="rejected"} 1`,
		`sofpipe_checks_warned 2`,
		`sofpipe_checks_failed 0`,
		// B2's finish, 2026-06-09T03:00:01Z.
		`sofpipe_last_success_timestamp_seconds 1.780974001e+09`,
		`sofpipe_inbox_files_waiting 4`,
		`sofpipe_inbox_files_skipped 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("textfile lacks %q", want)
		}
	}
	if strings.Contains(text, "go_goroutines") || strings.Contains(text, "process_") {
		t.Error("the textfile carries a finished process's Go or process metrics")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}
