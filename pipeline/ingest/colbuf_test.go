package ingest

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestColBufValidity checks the validity bitmap against one built bit by bit: a bit set
// for each non-null row and clear for each null one and past the last row, however many
// rows, and after a reset.
func TestColBufValidity(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	b := colBuf{kind: kindInt64, dt: arrow.PrimitiveTypes.Int64}
	for trial := 0; trial < 300; trial++ {
		b.reset()
		rows := r.Intn(70)
		want := make([]byte, (rows+7)/8)
		nulls := 0
		for row := 0; row < rows; row++ {
			c := cell{null: r.Intn(3) == 0, i: int64(row)}
			if c.null {
				nulls++
			} else {
				want[row>>3] |= 1 << (row & 7)
			}
			b.append(&c, row)
		}
		if b.nulls != nulls {
			t.Fatalf("rows %d: nulls %d, want %d", rows, b.nulls, nulls)
		}
		if nulls == 0 {
			continue
		}
		data := b.arrayData(rows)
		got := data.Buffers()[0].Bytes()
		if string(got) != string(want) {
			t.Fatalf("rows %d: bitmap %08b, want %08b", rows, got, want)
		}
		data.Release()
	}
}

// TestDictArrayMatchesMap checks the dictionary encoding, cache and all, against a plain
// map: ids in order of first appearance, every row's value through its id, and nulls kept,
// over row groups that reuse the scratch with different values.
//
// Both ways are checked: encoding a row group's stored values at write time, and a live
// dictionary column, whose rows become ids as they are appended.
func TestDictArrayMatchesMap(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("live=%v", live), func(t *testing.T) { testDictArrayMatchesMap(t, live) })
	}
}

func testDictArrayMatchesMap(t *testing.T, live bool) {
	r := rand.New(rand.NewSource(2))
	g := &rowGroup{cols: []colBuf{{kind: kindBinary, dt: arrow.BinaryTypes.String}}, dicts: make([]dictScratch, 1)}
	if live {
		g.goLive([]bool{true})
	}
	for trial := 0; trial < 40; trial++ {
		g.reset()
		distinct := 1 + r.Intn(5000) // past the cache's size, so slots are shared
		var vals []string
		for row := 0; row < 3000; row++ {
			c := cell{null: r.Intn(10) == 0}
			if !c.null {
				v := fmt.Sprintf("%s%d", []string{"", "SOF2-", "Department for ", "x"}[trial%4], r.Intn(distinct))
				if r.Intn(4) == 0 && len(vals) > 0 && vals[len(vals)-1] != "" {
					v = vals[len(vals)-1]
				}
				c.s = []byte(v)
				vals = append(vals, v)
			} else {
				vals = append(vals, "")
			}
			if live {
				g.appendRow([]cell{c}, []int{0}, int64(row))
			} else {
				g.cols[0].append(&c, row)
				g.rows++
			}
		}
		arr := g.dictArray(0).(*array.Dictionary)
		dict := arr.Dictionary().(*array.String)
		ids := map[string]int{}
		for row, v := range vals {
			if arr.IsNull(row) != (g.cols[0].valid[row>>3]&(1<<(row&7)) == 0) {
				t.Fatalf("row %d: null mismatch", row)
			}
			if arr.IsNull(row) {
				continue
			}
			id, ok := ids[v]
			if !ok {
				id = len(ids)
				ids[v] = id
			}
			if got := arr.GetValueIndex(row); got != id {
				t.Fatalf("trial %d row %d %q: id %d, want %d", trial, row, v, got, id)
			}
			if dict.Value(id) != v {
				t.Fatalf("trial %d row %d: dictionary[%d] = %q, want %q", trial, row, id, dict.Value(id), v)
			}
		}
		if dict.Len() != max(len(ids), 1) {
			t.Fatalf("trial %d: dictionary of %d values, want %d", trial, dict.Len(), len(ids))
		}
		arr.Release()
	}
}
