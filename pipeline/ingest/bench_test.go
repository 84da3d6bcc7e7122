package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/bench/spendgen"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// BenchmarkFileOneWorker is the whole ingest of a spend file (read, hash, split, validate,
// encode, write) on one goroutine, so that a change to the hot path shows up in ns/row with
// less noise than the two-core comparison of make bench. 1,000,000 rows, about 144 MB.
//
//	go test -run '^$' -bench FileOneWorker -count 6 ./pipeline/ingest
func BenchmarkFileOneWorker(b *testing.B) {
	const rows = 1_000_000
	dir := b.TempDir()
	path := filepath.Join(dir, "spend.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	size, err := spendgen.Write(f, rows, spendgen.Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	ds, _ := contract.Lookup(contract.Spend)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		stage := filepath.Join(dir, "stage")
		res, err := ingest.File(context.Background(), ingest.Input{Path: path, Source: "spend.csv", Dataset: ds},
			ingest.Options{StageDir: stage, BatchID: "b", Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		if res.RowsAccepted != rows {
			b.Fatalf("accepted %d of %d rows", res.RowsAccepted, rows)
		}
		b.StopTimer()
		os.RemoveAll(stage)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}
