package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// TestProgressReportsTheWholeFile: a progress hook hears of every byte of the file and,
// at the end, of every row read.
func TestProgressReportsTheWholeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("project_id,department,financial_year,period,budget_type,actual_gbp\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "SOF-001,Department for Education,2024-25,%d,RDEL,%d.00\n", i%12+1, i)
	}
	path := filepath.Join(t.TempDir(), "spend.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var calls int
	var lastBytes, lastRows int64
	opt := ingest.Options{StageDir: t.TempDir(), Workers: 1, Progress: func(bytes, rows int64) {
		calls++
		if bytes < lastBytes || rows < lastRows {
			t.Errorf("progress went back: %d bytes, %d rows after %d, %d", bytes, rows, lastBytes, lastRows)
		}
		lastBytes, lastRows = bytes, rows
	}}
	ds, _ := contract.Lookup("spend")
	res, err := ingest.File(context.Background(), ingest.Input{Path: path, Source: "spend.csv", Dataset: ds}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || lastBytes != int64(b.Len()) {
		t.Errorf("%d calls, last at %d bytes; want the file's %d", calls, lastBytes, b.Len())
	}
	if lastRows > res.RowsRead || res.RowsRead != 5000 {
		t.Errorf("progress rows %d, rows read %d", lastRows, res.RowsRead)
	}
}
