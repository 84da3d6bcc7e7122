package batch_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
)

func writeInbox(t *testing.T, cfg config.Config, rel, body string) {
	t.Helper()
	p := filepath.Join(cfg.Workspace, "inbox", filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const oneLineSpend = "project_id,department,financial_year,period,budget_type,actual_gbp,line_ref\nSOF-001,Department for Education,2024-25,1,RDEL,%s,T-1\n"

func actualOfT1(t *testing.T, cfg config.Config) string {
	t.Helper()
	db := openWarehouse(t, cfg)
	defer db.Close() // before the next batch replaces the file: DuckDB keeps one instance per path
	var v string
	if err := db.QueryRow("SELECT actual_gbp::VARCHAR FROM spend_lines WHERE line_ref = 'T-1'").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCorrectionNamesArriveAfterTheOriginal: a department's original and its correction
// delivered the same night, named as people name corrections, must leave the corrected
// figure standing.
func TestCorrectionNamesArriveAfterTheOriginal(t *testing.T) {
	for _, correction := range []string{"dfe-2024-04 (corrected).csv", "dfe-2024-04-v2.csv", "dfe-2024-04-corrected.csv", "dfe-2024-04_2.csv"} {
		t.Run(correction, func(t *testing.T) {
			cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
			writeInbox(t, cfg, "spend/dfe-2024-04.csv", fmt.Sprintf(oneLineSpend, "100.00"))
			writeInbox(t, cfg, "spend/"+correction, fmt.Sprintf(oneLineSpend, "999.00"))
			runBatch(t, cfg, clock(), false)
			if got := actualOfT1(t, cfg); got != "999.00" {
				t.Errorf("after the original and %q, actual_gbp = %s, want the corrected 999.00", correction, got)
			}
		})
	}
}

// TestRejectedBytesCanBeTakenInLater: a copy dropped in the wrong folder is rejected, but
// the same bytes in the right folder — that night or a later one — are read, not waved
// through as a duplicate.
func TestRejectedBytesCanBeTakenInLater(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	body := fmt.Sprintf(oneLineSpend, "123.45")
	writeInbox(t, cfg, "returns/dfe-2024-04.csv", body) // sorts before spend/: read first
	writeInbox(t, cfg, "spend/dfe-2024-04.csv", body)
	now := clock()
	out := runBatch(t, cfg, now, false)
	if out.Run.FilesRejected != 1 || out.Run.FilesDuplicate != 0 {
		t.Errorf("rejected %d duplicate %d; want the misfiled copy rejected and the filed one read", out.Run.FilesRejected, out.Run.FilesDuplicate)
	}
	if got := actualOfT1(t, cfg); got != "123.45" {
		t.Errorf("actual_gbp = %s, want 123.45 from the correctly filed copy", got)
	}

	// Misfiled alone one night, filed properly the next.
	cfg2 := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	writeInbox(t, cfg2, "returns/dfe-2024-04.csv", body)
	runBatch(t, cfg2, now, false)
	writeInbox(t, cfg2, "spend/dfe-2024-04.csv", body)
	second := runBatch(t, cfg2, now, false)
	if second.Run.FilesNew != 1 {
		t.Errorf("second night: %d new files, want the once-rejected bytes read (deliveries %+v)", second.Run.FilesNew, second.Run.Deliveries)
	}
	if got := actualOfT1(t, cfg2); got != "123.45" {
		t.Errorf("actual_gbp = %s, want 123.45", got)
	}
}

// TestRecentFilesWaitForTheNextBatch: with min_file_age_seconds set, a file modified just
// now (an upload in progress) stays in the inbox untouched; once old enough it is read.
func TestRecentFilesWaitForTheNextBatch(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	cfg.Ingest.MinFileAgeSeconds = 3600
	old := time.Now().Add(-2 * time.Hour)
	filepath.Walk(filepath.Join(cfg.Workspace, "inbox"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	writeInbox(t, cfg, "spend/uploading.csv", fmt.Sprintf(oneLineSpend, "1.00"))
	now := clock()
	out := runBatch(t, cfg, now, false)
	if out.Run.FilesNew != 8 {
		t.Errorf("%d files read, want the 8 settled golden files only", out.Run.FilesNew)
	}
	if _, err := os.Stat(filepath.Join(cfg.Workspace, "inbox", "spend", "uploading.csv")); err != nil {
		t.Fatalf("the recent file was taken: %v", err)
	}
	os.Chtimes(filepath.Join(cfg.Workspace, "inbox", "spend", "uploading.csv"), old, old)
	if out := runBatch(t, cfg, now, false); out.Run.FilesNew != 1 {
		t.Errorf("next batch read %d files, want the now-settled one", out.Run.FilesNew)
	}
}
