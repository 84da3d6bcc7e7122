package csvscan

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

var (
	spendOnce sync.Once
	spendCSV  []byte
)

// spendLike returns about 50 MB of CSV shaped like a departmental spend return: 14 columns,
// CRLF, quoted amounts with thousands commas, quoted descriptions with commas and doubled
// quotes, empty trailing columns.
func spendLike() []byte {
	spendOnce.Do(func() {
		rng := rand.New(rand.NewPCG(7, 7))
		suppliers := []string{"NHS SHARED BUSINESS SERVICES", `"CAPITA RESOURCING, LTD"`, "CABLE & WIRELESS PLC", `"MITIE ""MANAGED"" SERVICES"`}
		descs := []string{"Rental charges", `"Support for Public Service Network, including development"`, `"Wellington House - ""Front"" Facade, Masonry"`, "Legal Aid Payments: Crime Higher"}
		var b bytes.Buffer
		b.WriteString("Departmental Family,Entity,Date,Expense Type,Expense Area,Supplier,Transaction Number,Amount,Description,Supplier Postcode,Supplier Type,Contract Number,Project Code,Expenditure Type\r\n")
		for b.Len() < 50<<20 {
			fmt.Fprintf(&b, "Department of Health,Department of Health,%02d/01/2015,IT minor costs non capital,DG: SFNHS,%s,%d,\"%d,%03d.%02d\",%s,WF3 1WE,PUBLIC,,,Admin\r\n",
				1+rng.IntN(28), suppliers[rng.IntN(len(suppliers))], 100000000+rng.IntN(900000000),
				rng.IntN(999), rng.IntN(1000), rng.IntN(100), descs[rng.IntN(len(descs))])
		}
		spendCSV = b.Bytes()
	})
	return spendCSV
}

// BenchmarkChunkerRecords is the ingest's hot path on one goroutine: cut chunks, split every
// record, touch every field.
func BenchmarkChunkerRecords(b *testing.B) {
	data := spendLike()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var it RecordIter
	for b.Loop() {
		ch := NewChunker(bytes.NewReader(data), DefaultChunkBytes)
		records, fields := 0, 0
		for {
			c, err := ch.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			it.Reset(c, ',')
			for it.Next() {
				records++
				fields += len(it.Fields())
			}
		}
		if fields != records*14 {
			b.Fatalf("%d fields in %d records", fields, records)
		}
	}
}

// BenchmarkChunkerRecordsParallel is the ingest's shape: one goroutine cutting, the others
// parsing.
func BenchmarkChunkerRecordsParallel(b *testing.B) {
	data := spendLike()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	workers := runtime.GOMAXPROCS(0)
	for b.Loop() {
		chunks := make(chan Chunk, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var it RecordIter
				for c := range chunks {
					it.Reset(c, ',')
					for it.Next() {
						_ = it.Fields()
					}
				}
			}()
		}
		ch := NewChunker(bytes.NewReader(data), DefaultChunkBytes)
		for {
			c, err := ch.Next()
			if err != nil {
				break
			}
			chunks <- c
		}
		close(chunks)
		wg.Wait()
	}
}

// BenchmarkChunkerOnly measures the sequential part of the parallel path.
func BenchmarkChunkerOnly(b *testing.B) {
	data := spendLike()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ch := NewChunker(bytes.NewReader(data), DefaultChunkBytes)
		for {
			if _, err := ch.Next(); err != nil {
				break
			}
		}
	}
}

func BenchmarkScanner(b *testing.B) {
	data := spendLike()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sc := NewScanner(bytes.NewReader(data), ',')
		for sc.Scan() {
		}
	}
}

func benchmarkDecoder(b *testing.B, data []byte, enc Encoding) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	buf := make([]byte, 1<<20)
	for b.Loop() {
		d, err := NewDecoder(bytes.NewReader(data), enc)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := d.Read(buf); err != nil {
				break
			}
		}
	}
}

// BenchmarkDecoderAutoUTF8 is the pass-through fast path, the common case.
func BenchmarkDecoderAutoUTF8(b *testing.B) { benchmarkDecoder(b, spendLike(), Auto) }

// BenchmarkDecoderAutoWindows1252 is a cp1252 file with a £ in every row.
func BenchmarkDecoderAutoWindows1252(b *testing.B) {
	benchmarkDecoder(b, bytes.ReplaceAll(spendLike(), []byte("WF3"), []byte("\xA33")), Auto)
}
