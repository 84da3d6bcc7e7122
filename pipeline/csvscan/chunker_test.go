package csvscan

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestChunkerChunks(t *testing.T) {
	in := "h1,h2\r\n\"a\r\nb\",c\r\nd,e\r\nf,g"
	ch := NewChunker(strings.NewReader(in), 8)
	var got []Chunk
	for {
		c, err := ch.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	// The quoted CRLF is not a record end: the second buffer ("\"a\r\nb\",c") holds no
	// whole record, so it doubles and then takes the next record as well.
	want := []struct {
		data      string
		startLine int
	}{
		{"h1,h2\r\n", 1},
		{"\"a\r\nb\",c\r\nd,e\r\n", 2},
		{"f,g", 5},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d chunks %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if string(got[i].Data) != w.data || got[i].StartLine != w.startLine || got[i].Seq != i {
			t.Errorf("chunk %d = {%q line %d seq %d}, want {%q line %d seq %d}",
				i, got[i].Data, got[i].StartLine, got[i].Seq, w.data, w.startLine, i)
		}
		if cap(got[i].Data) != len(got[i].Data) {
			t.Errorf("chunk %d: cap %d > len %d, an append would write into the next chunk", i, cap(got[i].Data), len(got[i].Data))
		}
	}
	if _, err := ch.Next(); err != io.EOF {
		t.Fatalf("Next after the end = %v, want io.EOF", err)
	}
}

func TestChunkerNeverSplitsCRLF(t *testing.T) {
	// With chunk size 4 the buffer "ab\r" ends in a CR that may be half a CRLF.
	for size := 1; size <= 8; size++ {
		ch := NewChunker(strings.NewReader("ab\r\ncd\r\n"), size)
		for {
			c, err := ch.Next()
			if err == io.EOF {
				break
			}
			if bytes.HasPrefix(c.Data, []byte("\n")) {
				t.Fatalf("size %d: chunk %q starts with the LF of a CRLF", size, c.Data)
			}
		}
	}
}

func TestChunkerFreshBuffers(t *testing.T) {
	in := strings.Repeat("abc,def\n", 1000)
	ch := NewChunker(strings.NewReader(in), 64)
	var chunks []Chunk
	for {
		c, err := ch.Next()
		if err != nil {
			break
		}
		chunks = append(chunks, c)
	}
	// Every chunk must still hold its own bytes after later chunks were read.
	var all []byte
	for _, c := range chunks {
		all = append(all, c.Data...)
	}
	if string(all) != in {
		t.Fatal("chunks kept by the caller were overwritten by later reads")
	}
}

func TestChunkerLongRecordAndLimit(t *testing.T) {
	long := "\"" + strings.Repeat("x,\n", 10000) + "\""
	in := "a\n" + long + "\nb\n"
	recs := collect(t, []byte(in), 16, ',')
	if len(recs) != 3 || recs[1].Line != 2 || recs[2].Line != 10003 || recs[1].Problem != nil {
		t.Fatalf("long record: %d records, lines %v", len(recs), recs)
	}

	ch := NewChunker(strings.NewReader(in), 16)
	ch.MaxRecordBytes = 1000
	var err error
	for err == nil {
		_, err = ch.Next()
	}
	if !errors.Is(err, ErrRecordTooLong) || !strings.Contains(err.Error(), "line 2 ") {
		t.Fatalf("err = %v, want ErrRecordTooLong on line 2", err)
	}
	if _, again := ch.Next(); again != err {
		t.Fatalf("error not sticky: %v", again)
	}
}

func TestChunkerErrors(t *testing.T) {
	boom := errors.New("network share vanished")
	ch := NewChunker(io.MultiReader(strings.NewReader("a,b\n"), iotest.ErrReader(boom)), 0)
	if _, err := ch.Next(); !errors.Is(err, boom) {
		t.Fatalf("Next = %v, want %v", err, boom)
	}

	for _, d := range []byte{'"', '\n', '\r', 0xA3} {
		ch := NewChunker(strings.NewReader("a"), 0)
		ch.Delim = d
		if _, err := ch.Next(); err == nil || errors.Is(err, io.EOF) {
			t.Errorf("delimiter %q accepted", d)
		}
	}

	ch = NewChunker(iotest.TimeoutReader(strings.NewReader("")), 0)
	if _, err := ch.Next(); err != io.EOF {
		t.Fatalf("empty input: %v, want io.EOF", err)
	}
}

// genCSV builds messy but mostly well-formed CSV: quoted fields with delimiters, line ends
// of all three kinds and doubled quotes, blank lines, ragged rows, and now and then a
// malformed field.
func genCSV(rng *rand.Rand, records int, malformed bool) []byte {
	var b bytes.Buffer
	ends := []string{"\n", "\r\n", "\r"}
	pieces := []string{"a", "£12", "x y", ",", "\n", "\r\n", "\r", `""`, " ", "Café"}
	for r := 0; r < records; r++ {
		if rng.IntN(10) == 0 {
			b.WriteString(strings.Repeat(" ", rng.IntN(3)))
			b.WriteString(ends[rng.IntN(3)])
			continue
		}
		nf := 1 + rng.IntN(5)
		for fi := 0; fi < nf; fi++ {
			if fi > 0 {
				b.WriteByte(',')
			}
			switch rng.IntN(4) {
			case 0: // empty
			case 1, 2:
				b.WriteString([]string{"abc", "12.50", "N/A", "x y z", "£1"}[rng.IntN(5)])
			case 3:
				b.WriteByte('"')
				for k := rng.IntN(4); k > 0; k-- {
					b.WriteString(pieces[rng.IntN(len(pieces))])
				}
				b.WriteByte('"')
			}
			if malformed && rng.IntN(30) == 0 {
				b.WriteString([]string{`"`, `x"y`, `"z`}[rng.IntN(3)])
			}
		}
		if r < records-1 || rng.IntN(2) == 0 {
			b.WriteString(ends[rng.IntN(3)])
		}
	}
	return b.Bytes()
}

// TestChunkSizesAgree is the property the parallel ingest rests on: however the input is
// cut into chunks, the records, their lines and their problems are the same.
func TestChunkSizesAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		in := genCSV(rng, 1+rng.IntN(40), trial%2 == 1)
		want := collect(t, in, len(in)+1, ',')
		for size := 1; size <= 64; size++ {
			got := collect(t, in, size, ',')
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("input %q\nchunk size %d:\n got %v\nwant %v", in, size, got, want)
			}
		}
		sc := NewScanner(iotest.HalfReader(bytes.NewReader(in)), ',')
		var got []rec
		for sc.Scan() {
			got = append(got, snapshot(sc))
		}
		if sc.Err() != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Scanner on %q: %v\n got %v\nwant %v", in, sc.Err(), got, want)
		}
	}
}

// TestAgreesWithEncodingCSV checks well-formed input against the standard library, which
// differs from us only in what we add: lone CR line ends and skipping whitespace lines.
func TestAgreesWithEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 500; trial++ {
		in := genCSV(rng, 1+rng.IntN(30), false)
		if bytes.IndexByte(bytes.ReplaceAll(in, []byte("\r\n"), nil), '\r') >= 0 {
			continue // encoding/csv does not know lone CR line ends
		}
		r := csv.NewReader(bytes.NewReader(in))
		r.FieldsPerRecord = -1
		var want []rec
		for {
			fields, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("encoding/csv on %q: %v", in, err)
			}
			line, _ := r.FieldPos(0)
			if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" && !bytes.HasPrefix(in[lineOffset(in, line):], []byte(`"`)) {
				continue // a whitespace-only line, which we skip
			}
			// encoding/csv turns a quoted CRLF into LF; we keep the bytes as they are.
			want = append(want, rec{Line: line, Fields: fields})
		}
		got := collect(t, in, 1+rng.IntN(50), ',')
		if len(got) != len(want) {
			t.Fatalf("%q: %d records, encoding/csv %d\n got %v\nwant %v", in, len(got), len(want), got, want)
		}
		for i := range got {
			for k := range got[i].Fields {
				got[i].Fields[k] = strings.ReplaceAll(got[i].Fields[k], "\r\n", "\n")
			}
			if got[i].Line != want[i].Line || !reflect.DeepEqual(got[i].Fields, want[i].Fields) || got[i].Problem != nil {
				t.Fatalf("%q record %d:\n got %v\nwant %v", in, i, got[i], want[i])
			}
		}
	}
}

// lineOffset returns the byte offset of a 1-based line in LF/CRLF text.
func lineOffset(b []byte, line int) int {
	off := 0
	for l := 1; l < line; l++ {
		off += bytes.IndexByte(b[off:], '\n') + 1
	}
	return off
}
