package csvscan

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// realReturnsDir holds five published departmental spend files, kept byte for byte. It lives
// outside the module (in the shared workspace), so the test skips when it is absent.
var realReturnsDir = filepath.Join("..", "..", "..", "shared", "data", "real-spend-returns")

// TestRealSpendReturns reads each real file through the whole path: Auto decoding, chunking
// at several sizes, record splitting. The expected counts were cross-checked with Python's
// csv module on the same bytes decoded as cp1252.
func TestRealSpendReturns(t *testing.T) {
	if _, err := os.Stat(realReturnsDir); err != nil {
		t.Skipf("real spend returns not found at %s (../../../shared is absent outside the sofpipe workspace): %v", realReturnsDir, err)
	}
	files := []struct {
		name      string
		records   int   // including the header
		lastLine  int   // physical line of the last record
		fieldsets []int // the field counts rows may have; the first is the header's
		sample    int   // a record (0-based) and one of its fields, as decoded text
		field     int
		value     string
	}{
		// CRLF, trailing empty column, dates 01/02/12, NBSP (0xA0) inside text.
		{"co-CO-February-2012-expenditure-over-25k.csv", 191, 191, []int{13}, 1, 7, "100,685.82"},
		// CR-only line ends except one CRLF at the very end; 0x8D (undefined in cp1252).
		{"dh-CSV__25K_Returns_January_Data_.csv", 850, 850, []int{14}, 2, 7, "-7,147.83"},
		// 03-Jun-2013, unquoted amounts, £ as 0xA3 in text.
		{"hmt-25k_data_June_2013_final.csv", 37, 37, []int{9}, 1, 8, "150000"},
		// "£102,000.00" with the £ as 0xA3, dates 02-Nov-10.
		{"hmt-transparency_november.csv", 44, 44, []int{9}, 1, 7, "£102,000.00"},
		// Ragged: the header has 12 columns, most rows 9 or 12; "Supplier Postcode ".
		{"moj-moj-spend-data-apr-13.csv", 2211, 2211, []int{12, 9}, 0, 9, "Supplier Postcode "},
	}
	for _, tf := range files {
		t.Run(tf.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(realReturnsDir, tf.name))
			if err != nil {
				t.Fatal(err)
			}
			d, err := NewDecoder(bytes.NewReader(raw), Auto)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if _, err := text.ReadFrom(d); err != nil {
				t.Fatal(err)
			}
			if d.Detected() != Windows1252 {
				t.Errorf("Detected() = %q, want windows-1252", d.Detected())
			}

			want := collect(t, text.Bytes(), DefaultChunkBytes, ',')
			if len(want) != tf.records {
				t.Fatalf("%d records, want %d", len(want), tf.records)
			}
			if last := want[len(want)-1].Line; last != tf.lastLine {
				t.Errorf("last record on line %d, want %d", last, tf.lastLine)
			}
			if got := len(want[0].Fields); got != tf.fieldsets[0] {
				t.Errorf("header has %d fields, want %d", got, tf.fieldsets[0])
			}
			for _, r := range want {
				if r.Problem != nil {
					t.Errorf("line %d: unexpected problem %v", r.Line, r.Problem)
				}
				ok := false
				for _, n := range tf.fieldsets {
					ok = ok || len(r.Fields) == n
				}
				if !ok {
					t.Errorf("line %d has %d fields, want one of %v", r.Line, len(r.Fields), tf.fieldsets)
				}
			}
			if got := want[tf.sample].Fields[tf.field]; got != tf.value {
				t.Errorf("record %d field %d = %q, want %q", tf.sample, tf.field, got, tf.value)
			}
			for _, size := range []int{1, 100, 4096} {
				if got := collect(t, text.Bytes(), size, ','); !reflect.DeepEqual(got, want) {
					t.Errorf("chunk size %d gives different records", size)
				}
			}
		})
	}
}
