package batch_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
)

// TestBuildOutOfMemoryIsRetried: spend spread over many files can run a build out of
// memory at a small warehouse.memory_limit (the review found every night failing at the
// default). The build is done again with more, and publishes.
func TestBuildOutOfMemoryIsRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a warehouse of 400,000 spend lines twice")
	}
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	cfg.Warehouse.MemoryLimit = "64MB"
	for k := 1; k <= 4; k++ {
		var b strings.Builder
		b.WriteString("project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref\n")
		for i := range 100_000 {
			fmt.Fprintf(&b, "SOF-001,Department %d,2023-24,%d,RDEL,100.00,%d.%02d,F%d-%07d\n", i%7, i%12+1, 90+i%50, i%100, k, i)
		}
		if err := os.WriteFile(filepath.Join(cfg.Workspace, "inbox", "spend", fmt.Sprintf("bulk-%d.csv", k)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var log bytes.Buffer
	out, err := batch.Run(context.Background(), cfg, batch.Options{Version: "test", Now: clock(), Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil || out.Run.Status != batch.StatusPublished {
		t.Fatalf("batch: %v (%s)", err, out.Run.Status)
	}
	if !strings.Contains(log.String(), "ran out of memory at warehouse.memory_limit") {
		t.Errorf("the build did not run out of memory at 64MB, so the retry went untested:\n%s", log.String())
	}
	var n int64
	if err := openWarehouse(t, cfg).QueryRow("SELECT count(*) FROM spend_lines WHERE line_ref LIKE 'F%'").Scan(&n); err != nil || n != 400_000 {
		t.Errorf("spend_lines holds %d of the 400,000 lines (%v)", n, err)
	}
}
