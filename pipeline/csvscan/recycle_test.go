package csvscan

import (
	"bytes"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
	"testing/iotest"
)

// TestChunkerRecycle checks that recycled buffers change nothing: the records, lines and
// problems are those of a Chunker that allocates every chunk, even when a recycled buffer
// still holds the carried start of the next record.
func TestChunkerRecycle(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		in := genCSV(rng, 1+rng.IntN(60), trial%2 == 1)
		for _, size := range []int{1, 7, 32, 200} {
			want := collect(t, in, size, ',')
			ch := NewChunker(iotest.HalfReader(bytes.NewReader(in)), size)
			var got []rec
			var held []Chunk // give buffers back late and out of order, as workers do
			var it RecordIter
			for {
				c, err := ch.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				it.Reset(c, ',')
				for it.Next() {
					got = append(got, snapshot(&it))
				}
				held = append(held, c)
				if rng.IntN(2) == 0 {
					k := rng.IntN(len(held))
					ch.Recycle(held[k])
					held = append(held[:k], held[k+1:]...)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("input %q, chunk size %d, recycling:\n got %v\nwant %v", in, size, got, want)
			}
		}
	}
}
