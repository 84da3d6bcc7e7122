package csvscan

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestScanner(t *testing.T) {
	in := "Department Family,Amount\r\n\r\nHM Treasury,\"£102,000.00\"\r\"a\nb\",\"x\"y\r"
	sc := NewScanner(strings.NewReader(in), ',')
	var got []rec
	for sc.Scan() {
		got = append(got, snapshot(sc))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	want := []rec{
		{1, f("Department Family", "Amount"), "Department Family,Amount", nil},
		{3, f("HM Treasury", "£102,000.00"), "HM Treasury,\"£102,000.00\"", nil},
		{4, f("a\nb", "xy"), "\"a\nb\",\"x\"y", ErrTextAfterQuote},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("\n got %v\nwant %v", got, want)
	}
	if sc.Scan() {
		t.Fatal("Scan after the end returned true")
	}
}

func TestScannerErrors(t *testing.T) {
	boom := errors.New("stale NFS handle")
	sc := NewScanner(io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(boom)), ',')
	for sc.Scan() {
	}
	if !errors.Is(sc.Err(), boom) {
		t.Fatalf("Err() = %v, want %v", sc.Err(), boom)
	}

	sc = NewScanner(strings.NewReader("a\"b\n"), '"')
	if sc.Scan() || sc.Err() == nil {
		t.Fatalf("a quote as delimiter: Scan ok, Err() = %v", sc.Err())
	}
}

// TestScannerReusesBuffer checks the Scanner's one difference from the Chunker: it recycles
// its buffer, so a long file costs no allocations per chunk.
func TestScannerReusesBuffer(t *testing.T) {
	in := strings.Repeat("Cabinet Office,\"100,685.82\",\"Rental \"\"charges\"\"\"\r\n", 20000)
	r := strings.NewReader(in)
	sc := NewScanner(r, ',')
	for sc.Scan() {
	}
	allocs := testing.AllocsPerRun(3, func() {
		r.Reset(in)
		sc.ch.r, sc.ch.eof, sc.ch.err, sc.ch.line, sc.err, sc.init = r, false, nil, 1, nil, false
		n := 0
		for sc.Scan() {
			n++
		}
		if n != 20000 {
			t.Fatalf("%d records", n)
		}
	})
	if allocs > 0 {
		t.Fatalf("%v allocations per pass over %d bytes, want 0", allocs, len(in))
	}
}
