package ingest_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/memory"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// TestNonUTF8NameReadsBackInDuckDB is the regression test for a delivery named in
// Windows-1252 (issue 8, defect 2): its rejects file must be one DuckDB reads, showing the
// name as the department typed it. Before the fix the name's raw byte went into
// source_path and DuckDB refused the file, and with it every later build.
//
// The file is Windows-1252 too (a £ in a header and in a rejected value), so the messages
// and raw text that quote them are checked on the same path; the digest is left for the
// ingest to compute, so the rejects file also goes through the provisional-digest rename.
func TestNonUTF8NameReadsBackInDuckDB(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "store-copy")
	data := []byte("project_id,department,financial_year,period,budget_type,actual_gbp,Amount \xA3\r\n" +
		"SOF-1,DfE,2023-24,1,RDEL,\"\xA31,250.00\",x\r\n" +
		"SOF-1,DfE,2023-24,2,RDEL,\"\xA312a\",y\r\n")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ds, _ := contract.Lookup("spend")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	stage := filepath.Join(dir, "stage")
	res, err := ingest.File(context.Background(), ingest.Input{
		Path: path, Source: "inbox/spend/dfe-\xA3-2023-24.csv", Dataset: ds,
	}, ingest.Options{StageDir: stage, BatchID: "b1", Workers: 2, Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	if res.RowsAccepted != 1 || res.RowsRejected != 1 || res.RejectsFile == "" {
		t.Fatalf("accepted %d, rejected %d, rejects file %q: want 1, 1 and a file", res.RowsAccepted, res.RowsRejected, res.RejectsFile)
	}
	for _, s := range append([]string{res.Message}, res.IgnoredColumns...) {
		if !utf8.ValidString(s) {
			t.Errorf("result carries invalid UTF-8: %q", s)
		}
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var source, msg, raw, col string
	err = db.QueryRow(`SELECT source_path, message, raw, "column" FROM read_parquet(?)`,
		filepath.Join(stage, filepath.FromSlash(res.RejectsFile))).Scan(&source, &msg, &raw, &col)
	if err != nil {
		t.Fatalf("DuckDB cannot read the rejects file: %v", err)
	}
	if want := "inbox/spend/dfe-£-2023-24.csv"; source != want {
		t.Errorf("source_path %q, want %q", source, want)
	}
	if want := "SOF-1,DfE,2023-24,2,RDEL,\"£12a\",y"; raw != want {
		t.Errorf("raw %q, want %q", raw, want)
	}
	for _, s := range []string{source, msg, raw, col} {
		if !utf8.ValidString(s) {
			t.Errorf("rejects row carries invalid UTF-8: %q", s)
		}
	}
}
