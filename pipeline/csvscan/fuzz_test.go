package csvscan

import (
	"bytes"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// FuzzChunker checks that chunk boundaries never change what is parsed: any chunk size
// gives the records, lines and problems of one big chunk, and the Scanner (which recycles
// its buffer) agrees too.
func FuzzChunker(f *testing.F) {
	for _, tc := range recordCases {
		f.Add([]byte(tc.in), uint16(3), tc.delim == ';')
	}
	f.Add([]byte("a,\"b\r\nc\"\"\",d\r\re\n\"f"), uint16(1), false)
	f.Add([]byte("x;\"y;z\"q;\"\"\r\n;\r"), uint16(2), true)
	f.Fuzz(func(t *testing.T, in []byte, size uint16, semicolon bool) {
		delim := byte(',')
		if semicolon {
			delim = ';'
		}
		want := collect(t, in, len(in)+1, delim)
		got := collect(t, in, int(size%512)+1, delim)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("chunk size %d:\n got %v\nwant %v", size%512+1, got, want)
		}
		sc := NewScanner(iotest.OneByteReader(bytes.NewReader(in)), delim)
		var scanned []rec
		for sc.Scan() {
			scanned = append(scanned, snapshot(sc))
		}
		if sc.Err() != nil || !reflect.DeepEqual(scanned, want) {
			t.Fatalf("Scanner: %v\n got %v\nwant %v", sc.Err(), scanned, want)
		}
		prev := 0
		for _, r := range want {
			if r.Line <= prev || len(r.Fields) == 0 || !bytes.Contains(in, []byte(r.Raw)) {
				t.Fatalf("bad record %v after line %d", r, prev)
			}
			prev = r.Line
		}
	})
}

// FuzzDecoder checks that no input makes the decoder panic or emit invalid UTF-8, that
// valid UTF-8 passes through Auto untouched, and that tiny reads change nothing.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("\xEF\xBB\xBFa,\xC2\xA3b\n"), uint8(0))
	f.Add([]byte("\xFF\xFEa\x00,\x00"), uint8(0))
	f.Add([]byte("a\x00b\x00c\x00"), uint8(0))
	f.Add([]byte("\"\xA3102,000.00\"\r\x80\x8D"), uint8(0))
	f.Add([]byte("\xE2\x82"), uint8(1))
	f.Add([]byte("\xFE\xFF\x00a\xD8\x00"), uint8(2))
	f.Add([]byte("\x93quoted\x94"), uint8(3))
	encodings := []Encoding{Auto, UTF8, UTF16, Windows1252}
	f.Fuzz(func(t *testing.T, in []byte, e uint8) {
		enc := encodings[int(e)%len(encodings)]
		d, err := NewDecoder(bytes.NewReader(in), enc)
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(d)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(out) {
			t.Fatalf("%s: output %q is not valid UTF-8", enc, out)
		}
		if enc == Auto && d.Detected() == UTF8 && !bytes.HasPrefix(in, []byte{0xEF, 0xBB, 0xBF}) && !bytes.Equal(in, out) {
			t.Fatalf("valid UTF-8 %q changed to %q", in, out)
		}
		d2, _ := NewDecoder(iotest.OneByteReader(bytes.NewReader(in)), enc)
		out2, err := io.ReadAll(iotest.OneByteReader(d2))
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("%s: byte-at-a-time reading gives %q, %v; want %q", enc, out2, err, out)
		}
	})
}
