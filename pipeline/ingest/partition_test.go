package ingest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// TestPartitionsUnderPressure ingests a spend file spread over seven financial years with
// many workers, tiny chunks, tiny row groups and a buffer bound so small that row groups
// are cut early all the time. Every accepted row must land once, in its partition's one
// file, with its own values and lineage; no row group may exceed BatchRows; nothing may be
// left allocated.
func TestPartitionsUnderPressure(t *testing.T) {
	type want struct {
		fy      string
		actual  int64 // pence
		planned int64 // pence; -1 for empty
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	b.WriteString("project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref,supplier,description\n")
	wants := map[int64]want{} // by line
	rejected := 0
	for line := int64(2); line < 3000; line++ {
		fy := 2019 + rng.IntN(7)
		w := want{fy: fmt.Sprintf("%d-%02d", fy, (fy+1)%100), actual: rng.Int64N(2_000_000) - 100_000, planned: -1}
		planned := ""
		if rng.IntN(3) > 0 {
			w.planned = rng.Int64N(1_000_000)
			planned = money(w.planned)
		}
		budget := "RDEL"
		if rng.IntN(40) == 0 {
			budget = "OPEX" // not allowed: rejected
			rejected++
		} else {
			wants[line] = w
		}
		fmt.Fprintf(&b, "SOF1-%03d,\"Department for Environment, Food and Rural Affairs\",%s,%d,%s,%s,%s,L%d,\"Acme \"\"Ltd\"\"\",%s\n",
			1+rng.IntN(15), w.fy, 1+rng.IntN(12), budget, planned, money(w.actual), line, strings.Repeat("x", rng.IntN(80)))
	}
	path := filepath.Join(t.TempDir(), "spend.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, _ := contract.Lookup(contract.Spend)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	stage := t.TempDir()
	const batchRows = 50
	res, err := ingest.File(context.Background(), ingest.Input{Path: path, Source: "spend.csv", SHA256: strings.Repeat("ab", 32), Dataset: ds},
		ingest.Options{BatchID: "b1", StageDir: stage, Workers: 4, BatchRows: batchRows, ChunkBytes: 300, BufferBytes: 3000, Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	if res.RowsAccepted != int64(len(wants)) || res.RowsRejected != int64(rejected) {
		t.Fatalf("accepted %d rejected %d, want %d and %d", res.RowsAccepted, res.RowsRejected, len(wants), rejected)
	}
	if len(res.Outputs) != 7 {
		t.Errorf("outputs %v: want one file for each of 7 partitions", res.Outputs)
	}
	seen := map[int64]bool{}
	for _, o := range res.Outputs {
		fy := strings.TrimPrefix(filepath.Base(filepath.Dir(o)), "financial_year=")
		pf, err := file.OpenParquetFile(filepath.Join(stage, o), false)
		if err != nil {
			t.Fatal(err)
		}
		for g := 0; g < pf.NumRowGroups(); g++ {
			if n := pf.RowGroup(g).NumRows(); n > batchRows || n == 0 {
				t.Errorf("%s row group %d has %d rows; want 1-%d", o, g, n, batchRows)
			}
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.NewGoAllocator()) // see readParquet
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rr := array.NewTableReader(tbl, 1000)
		for rr.Next() {
			rec := rr.RecordBatch()
			col := func(name string) int { return rec.Schema().FieldIndices(name)[0] }
			lines := rec.Column(col(contract.LineageSourceLine)).(*array.Int64)
			actual := rec.Column(col("actual_gbp")).(*array.Decimal128)
			planned := rec.Column(col("planned_gbp")).(*array.Decimal128)
			sha := rec.Column(col(contract.LineageFileSHA256)).(*array.String)
			batch := rec.Column(col(contract.LineageBatchID)).(*array.String)
			for i := 0; i < int(rec.NumRows()); i++ {
				line := lines.Value(i)
				w, ok := wants[line]
				if !ok || seen[line] {
					t.Fatalf("line %d: unexpected or repeated (known %v, seen %v)", line, ok, seen[line])
				}
				seen[line] = true
				gotPlanned := int64(-1)
				if planned.IsValid(i) {
					gotPlanned = int64(planned.Value(i).LowBits())
				}
				if fy != w.fy || actual.Value(i).LowBits() != uint64(w.actual) || gotPlanned != w.planned {
					t.Errorf("line %d: fy %s actual %v planned %d; want %+v", line, fy, actual.Value(i), gotPlanned, w)
				}
				if sha.Value(i) != strings.Repeat("ab", 32) || batch.Value(i) != "b1" {
					t.Errorf("line %d: lineage %q %q", line, sha.Value(i), batch.Value(i))
				}
			}
		}
		rr.Release()
		tbl.Release()
		pf.Close()
	}
	if len(seen) != len(wants) {
		t.Errorf("the lake holds %d rows, want %d", len(seen), len(wants))
	}
}

func money(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	return fmt.Sprintf("%s%d.%02d", sign, pence/100, pence%100)
}
