package batch_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// A department's own layout: "Dept" is its department column.
const dfeReturn = "project_id,Dept,financial_year,period,budget_type,actual_gbp\n" +
	"SOF-001,Reread Test Department,2024-25,1,RDEL,1000.00\n" +
	"SOF-001,Reread Test Department,2024-25,2,RDEL,2500.50\n"

func dfeProfile(department string) config.Profile {
	return config.Profile{Name: "dfe", Dataset: "spend", Pattern: "dfe/*.csv", HeaderAliases: map[string]string{"Dept": department}}
}

// TestRereadAfterProfileCorrected: a file rejected under a wrong profile is read again
// once the profile is corrected, and the next batch's warehouse equals that of a clean run
// with the corrected profile from the start; the ledger keeps both readings.
func TestRereadAfterProfileCorrected(t *testing.T) {
	golden := filepath.Join("..", "..", "fixtures", "golden", "inbox")
	deliverDfE := func(cfg config.Config) {
		p := filepath.Join(cfg.Workspace, "inbox", "dfe", "dfe-2024-25.csv")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(dfeReturn), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	clean := newWorkspace(t, golden)
	clean.Profiles = []config.Profile{dfeProfile("department")}
	deliverDfE(clean)
	runBatch(t, clean, clock(), false)
	want := martContents(t, clean)

	cfg := newWorkspace(t, golden)
	cfg.Profiles = []config.Profile{dfeProfile("supplier")} // wrong: department is missing
	deliverDfE(cfg)
	first := runBatch(t, cfg, clock(), false)
	if first.Run.FilesRejected != 1 {
		t.Fatalf("under the wrong profile: %d files rejected, want the DfE return", first.Run.FilesRejected)
	}
	cfg.Profiles = []config.Profile{dfeProfile("department")}
	out, err := batch.Reread(context.Background(), cfg, batch.Options{Version: "test", Now: clock()}, batch.RereadSelection{Profile: "dfe"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Run.Status != batch.StatusReread || out.Run.FilesNew != 1 || out.Run.RowsAccepted != 2 {
		t.Errorf("reread: %s, %d new, %d rows accepted; want the file taken with its 2 rows", out.Run.Status, out.Run.FilesNew, out.Run.RowsAccepted)
	}
	next := runBatch(t, cfg, clock(), false)
	if next.Run.Status != batch.StatusPublished || next.Run.WarehouseBuild != "full" {
		t.Errorf("the batch after the reread: %s, %s build; want published in full", next.Run.Status, next.Run.WarehouseBuild)
	}
	if diff := cmp.Diff(want, martContents(t, cfg)); diff != "" {
		t.Errorf("marts after the reread differ from a clean run with the corrected profile (-clean +reread):\n%s", diff)
	}
	files, err := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs")).Files()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range files {
		if f.SourcePath != "dfe/dfe-2024-25.csv" {
			continue
		}
		found = true
		if f.Status != ledger.StatusIngested || len(f.Previous) != 1 || f.Previous[0].Status != ledger.StatusRejected || f.Previous[0].Reason != "missing_columns" {
			t.Errorf("ledger record: %s with previous %+v; want ingested, the rejected reading kept", f.Status, f.Previous)
		}
	}
	if !found {
		t.Error("no ledger record of the DfE return")
	}
	if _, err := batch.Reread(context.Background(), cfg, batch.Options{Version: "test"}, batch.RereadSelection{}); err == nil {
		t.Error("a reread that names no files must be refused")
	}
}

// TestRereadKeepsItsPlaceBeforeACorrection: reading an old return again must not undo the
// correction the department sent after it.
func TestRereadKeepsItsPlaceBeforeACorrection(t *testing.T) {
	first, second := splitGolden(t)
	cfg := newWorkspace(t, first)
	runBatch(t, cfg, clock(), false)
	deliver(t, cfg, second) // spend/02-moj-correction-2024-08.csv corrects a key of 01-returns
	runBatch(t, cfg, clock(), false)
	want := martContents(t, cfg)
	files, err := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs")).Files()
	if err != nil {
		t.Fatal(err)
	}
	var original ledger.File
	for _, f := range files {
		if f.SourcePath == "spend/01-returns-2024-07.csv" {
			original = f
		}
	}
	out, err := batch.Reread(context.Background(), cfg, batch.Options{Version: "test", Now: clock()}, batch.RereadSelection{Files: []string{original.SHA256[:12]}})
	if err != nil || out.Run.FilesNew != 1 {
		t.Fatalf("reread: %v (%d new)", err, out.Run.FilesNew)
	}
	runBatch(t, cfg, clock(), false)
	if diff := cmp.Diff(want, martContents(t, cfg)); diff != "" {
		t.Errorf("the reread of the original undid the correction (-before +after):\n%s", diff)
	}
}
