package batch_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// deliverFile puts one file in the workspace's inbox under rel.
func deliverFile(t *testing.T, cfg config.Config, rel string, data []byte) {
	t.Helper()
	dst := filepath.Join(cfg.Workspace, "inbox", filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func queryText(t *testing.T, cfg config.Config, q string) [][]string {
	t.Helper()
	db := openWarehouse(t, cfg)
	defer db.Close()
	_, rows := tableText(t, db, q)
	return rows
}

// TestRedeliverySameBytes: a department sends the same file again, under another name. The
// ledger records the delivery as a duplicate; no file, row or mart changes.
func TestRedeliverySameBytes(t *testing.T) {
	cfg := newWorkspace(t, goldenInbox)
	now := clock()
	first := runBatch(t, cfg, now, false)
	before := martContents(t, cfg)
	filesBefore := queryText(t, cfg, `SELECT file_sha256, source_path, arrival, rows_accepted FROM _files ORDER BY arrival`)

	original, err := os.ReadFile(filepath.Join(goldenInbox, "spend", "01-returns-2024-07.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// The ledger keeps the original bytes, content-addressed, with their size.
	sum := sha256.Sum256(original)
	sha := hex.EncodeToString(sum[:])
	if kept, err := os.ReadFile(workspace.Workspace{Root: cfg.Workspace}.StorePath(sha)); err != nil || !bytes.Equal(kept, original) {
		t.Errorf("store/sha256/%s/%s does not hold the original bytes: %v", sha[:2], sha, err)
	}
	if diff := cmp.Diff([][]string{{"spend/01-returns-2024-07.csv", fmt.Sprint(len(original)), "ingested"}},
		queryText(t, cfg, `SELECT source_path, size_bytes::VARCHAR, status FROM _files WHERE file_sha256 = '`+sha+`'`)); diff != "" {
		t.Errorf("_files for the sha256 (-want +got):\n%s", diff)
	}
	deliverFile(t, cfg, "spend/01-returns-2024-07-resent.csv", original)
	second := runBatch(t, cfg, now, false)
	if second.Run.FilesNew != 0 || second.Run.FilesDuplicate != 1 || second.Run.RowsRead != 0 {
		t.Errorf("second run: %d new, %d duplicate, %d rows read; want 0, 1, 0", second.Run.FilesNew, second.Run.FilesDuplicate, second.Run.RowsRead)
	}
	if len(second.Run.Deliveries) != 1 || second.Run.Deliveries[0].Status != "duplicate" || second.Run.Deliveries[0].SourcePath != "spend/01-returns-2024-07-resent.csv" {
		t.Errorf("second run deliveries %+v, want the resent file as a duplicate", second.Run.Deliveries)
	}
	// Nothing new: the published warehouse is not even rebuilt.
	if second.Run.Status != batch.StatusUnchanged || second.Run.Fingerprint != first.Run.Fingerprint {
		t.Errorf("second run status %s, fingerprint changed %v; want unchanged", second.Run.Status, second.Run.Fingerprint != first.Run.Fingerprint)
	}
	if _, err := os.Stat(filepath.Join(cfg.Workspace, "inbox", "spend", "01-returns-2024-07-resent.csv")); !os.IsNotExist(err) {
		t.Errorf("the duplicate is still in the inbox: %v", err)
	}

	// A forced rebuild shows the duplicate delivery in the warehouse, and the same marts.
	runBatch(t, cfg, now, true)
	if diff := cmp.Diff(before, martContents(t, cfg)); diff != "" {
		t.Errorf("marts changed after a duplicate delivery (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(filesBefore, queryText(t, cfg, `SELECT file_sha256, source_path, arrival, rows_accepted FROM _files ORDER BY arrival`)); diff != "" {
		t.Errorf("_files changed after a duplicate delivery (-before +after):\n%s", diff)
	}
	got := queryText(t, cfg, `
		SELECT d.source_path, d.status, f.source_path, f.deliveries::VARCHAR
		FROM _deliveries d JOIN _files f USING (file_sha256)
		WHERE f.source_path = 'spend/01-returns-2024-07.csv' ORDER BY d.received_at`)
	want := [][]string{
		{"spend/01-returns-2024-07.csv", "ingested", "spend/01-returns-2024-07.csv", "2"},
		{"spend/01-returns-2024-07-resent.csv", "duplicate", "spend/01-returns-2024-07.csv", "2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("_deliveries of the file (-want +got):\n%s", diff)
	}
}

// TestRedeliveryCorrection: DfE corrects one line of its July return in a later batch. The
// marts move to the corrected figure; the old line stays in the lake and raw_spend as
// history; spend_lines holds only the new one.
func TestRedeliveryCorrection(t *testing.T) {
	cfg := newWorkspace(t, goldenInbox)
	now := clock()
	runBatch(t, cfg, now, false)
	costBefore := queryText(t, cfg, `SELECT project_id, cost_nominal_gbp::VARCHAR FROM scale_up_candidates ORDER BY project_id`)
	wantBefore := [][]string{{"SOF-001", "548400.00"}, {"SOF-002", "497622.50"}, {"SOF-003", "250000.00"}, {"SOF-004", "403500.00"}}
	if diff := cmp.Diff(wantBefore, costBefore); diff != "" {
		t.Fatalf("golden cost before the correction (-want +got):\n%s", diff)
	}

	// The same natural key as the golden line SOF-001, DfE, 2024-25 P1, RDEL, no line_ref
	// (actual 52,500.00), now 50,000.00; written the way a department might, in Windows-1252.
	correction := []byte("project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref,supplier,description\r\n" +
		"SOF-001,Department for Education,2024-25,1,RDEL,\"\xA355,000.00\",\"\xA350,000.00\",,Local authorities,Attendance mentors (corrected)\r\n")
	deliverFile(t, cfg, "spend/03-dfe-correction-2024-09.csv", correction)
	out := runBatch(t, cfg, now, false)
	if out.Run.Status != batch.StatusPublished || out.Run.FilesNew != 1 {
		t.Fatalf("correction run: status %s, %d new files: %s", out.Run.Status, out.Run.FilesNew, out.Run.Message)
	}

	costAfter := queryText(t, cfg, `SELECT project_id, cost_nominal_gbp::VARCHAR FROM scale_up_candidates ORDER BY project_id`)
	wantAfter := [][]string{{"SOF-001", "545900.00"}, {"SOF-002", "497622.50"}, {"SOF-003", "250000.00"}, {"SOF-004", "403500.00"}}
	if diff := cmp.Diff(wantAfter, costAfter); diff != "" {
		t.Errorf("cost after the correction (-want +got):\n%s", diff)
	}
	const key = `project_id = 'SOF-001' AND department = 'Department for Education' AND financial_year = '2024-25' AND period = 1`
	if diff := cmp.Diff([][]string{{"50000.00", "Attendance mentors (corrected)", "spend/03-dfe-correction-2024-09.csv"}},
		queryText(t, cfg, `SELECT s.actual_gbp::VARCHAR, s.description, f.source_path FROM spend_lines s JOIN _files f ON f.file_sha256 = s._file_sha256 WHERE `+key)); diff != "" {
		t.Errorf("spend_lines for the key (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"50000.00", "1"}}, queryText(t, cfg, `SELECT actual_gbp::VARCHAR, lines::VARCHAR FROM spend_monthly WHERE `+key)); diff != "" {
		t.Errorf("spend_monthly for the key (-want +got):\n%s", diff)
	}
	history := [][]string{
		{"52500.00", "spend/01-returns-2024-07.csv", "5"},
		{"50000.00", "spend/03-dfe-correction-2024-09.csv", "2"},
	}
	if diff := cmp.Diff(history, queryText(t, cfg, `SELECT r.actual_gbp::VARCHAR, f.source_path, r._source_line::VARCHAR FROM raw_spend r JOIN _files f ON f.file_sha256 = r._file_sha256 WHERE `+key+` ORDER BY r._arrival`)); diff != "" {
		t.Errorf("raw_spend history for the key (-want +got):\n%s", diff)
	}
	// The superseded line is still in the lake's Parquet, not just in the warehouse.
	lake := filepath.ToSlash(filepath.Join(cfg.Workspace, "lake", "spend", "*", "*.parquet"))
	if diff := cmp.Diff([][]string{{"52500.00"}, {"50000.00"}}, queryText(t, cfg, `SELECT actual_gbp::VARCHAR FROM read_parquet('`+lake+`', hive_partitioning = true) WHERE `+key+` ORDER BY actual_gbp DESC`)); diff != "" {
		t.Errorf("lake Parquet for the key (-want +got):\n%s", diff)
	}
	// The other lines of the July return are untouched: 40 accepted, less the two the golden
	// MoJ correction supersedes, less this one.
	if diff := cmp.Diff([][]string{{"37", "40"}}, queryText(t, cfg, `SELECT (SELECT count(*) FROM spend_lines s JOIN _files f ON f.file_sha256 = s._file_sha256 WHERE f.source_path = 'spend/01-returns-2024-07.csv')::VARCHAR, rows_accepted::VARCHAR FROM _files WHERE source_path = 'spend/01-returns-2024-07.csv'`)); diff != "" {
		t.Errorf("July return lines current / accepted (-want +got):\n%s", diff)
	}
}
