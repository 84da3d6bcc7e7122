package batch_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/report"
	"github.com/evaluation-taskforce/sofpipe/pipeline/reportdata"
)

// TestReportListsFilesOfBatchesThatPublishedNothing: a batch cancelled after taking a file
// in publishes nothing; the next batch's report must still list that file, and count it in
// its sentence (the review found such files on no page at all).
func TestReportListsFilesOfBatchesThatPublishedNothing(t *testing.T) {
	first, second := splitGolden(t)
	cfg := newWorkspace(t, first)
	now := clock()
	runBatch(t, cfg, now, false)
	deliver(t, cfg, second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := batch.WithReached(batch.Options{Version: "test", Now: now}, func(p string) {
		if p == "delivery recorded" {
			cancel()
		}
	})
	if out, _ := batch.Run(ctx, cfg, opt); out.Run.Status != batch.StatusCancelled || out.Run.FilesNew != 1 {
		t.Fatalf("the cancelled batch: %s, %d new", out.Run.Status, out.Run.FilesNew)
	}
	next := runBatch(t, cfg, now, false)
	if next.Run.FilesNew != 2 {
		t.Fatalf("the next batch took %d new files, want the other 2", next.Run.FilesNew)
	}
	data, err := reportdata.Load(context.Background(), filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if data.Batch.FilesNew != 3 || len(data.Files) != 3 {
		t.Errorf("the report counts %d new files and lists %d, want all 3 since the last publish", data.Batch.FilesNew, len(data.Files))
	}
	if !slices.ContainsFunc(data.Files, func(f report.File) bool { return f.Path == "gdp_deflators/hmt-deflators-2024-06.csv" }) {
		t.Errorf("the file the cancelled batch took in is not listed: %+v", data.Files)
	}
}
