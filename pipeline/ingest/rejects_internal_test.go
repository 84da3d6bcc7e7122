package ingest

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	_ "github.com/duckdb/duckdb-go/v2"
)

// TestRejectWriterKeepsParquetValidUTF8 holds the guard at the rejects file's door: a
// source name, column, message or raw text with bytes that are not UTF-8 (File cleans the
// name first and the text is decoded, so no path makes one today) is stored valid, its
// bytes read as Windows-1252 as the decoder would, so DuckDB can always read the file.
func TestRejectWriterKeepsParquetValidUTF8(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	stage := t.TempDir()
	sha := strings.Repeat("ab", 32)
	w := newRejectWriter(stage, knownDigest(sha), "inbox/spend/dfe-\xA3.csv", "b1", mem, 5)
	if err := w.add(Reject{Line: 2, Column: "amount \xA3", Reason: ReasonBadMoney, Message: "amount \"\xA3x\" is not money", Raw: "a,\xA3x"}); err != nil {
		t.Fatal(err)
	}
	if wrote, err := w.close(); err != nil || !wrote {
		t.Fatalf("close: wrote %v, %v", wrote, err)
	}
	want := Reject{Line: 2, Column: "amount £", Reason: ReasonBadMoney, Message: "amount \"£x\" is not money", Raw: "a,£x"}
	if len(w.first) != 1 || w.first[0] != want {
		t.Errorf("first rejects %+v, want %+v", w.first, want)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got Reject
	var source string
	err = db.QueryRow(`SELECT line, "column", reason, message, raw, source_path FROM read_parquet(?)`, filepath.Join(stage, RejectsPath(sha))).
		Scan(&got.Line, &got.Column, &got.Reason, &got.Message, &got.Raw, &source)
	if err != nil {
		t.Fatalf("DuckDB cannot read the rejects file: %v", err)
	}
	if got != want {
		t.Errorf("rejects row %+v, want %+v", got, want)
	}
	if source != "inbox/spend/dfe-£.csv" {
		t.Errorf("source_path %q, want %q", source, "inbox/spend/dfe-£.csv")
	}
}
