package csvscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func TestParseEncoding(t *testing.T) {
	for in, want := range map[string]Encoding{
		"": Auto, "auto": Auto, " AUTO ": Auto,
		"utf-8": UTF8, "UTF8": UTF8, "utf-8-sig": UTF8,
		"utf-16": UTF16, "UTF-16LE": UTF16,
		"windows-1252": Windows1252, "CP1252": Windows1252, "latin1": Windows1252, "ISO-8859-1": Windows1252,
	} {
		got, err := ParseEncoding(in)
		if err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseEncoding("ebcdic"); err == nil || !strings.Contains(err.Error(), `"ebcdic"`) {
		t.Errorf("ParseEncoding(ebcdic) error = %v", err)
	}
}

func utf16Bytes(s string, order unicode.Endianness, bom bool) []byte {
	policy := unicode.IgnoreBOM
	if bom {
		policy = unicode.UseBOM
	}
	b, err := unicode.UTF16(order, policy).NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(err)
	}
	return b
}

func TestDecoder(t *testing.T) {
	const text = "Amount,Supplier\r\n\"£102,000.00\",Café €5\r\n"
	cases := []struct {
		name     string
		in       []byte
		enc      Encoding
		want     string
		detected Encoding
		invalid  int64
	}{
		{"ASCII auto", []byte("a,b\nc,d\n"), Auto, "a,b\nc,d\n", UTF8, 0},
		{"empty auto", nil, Auto, "", UTF8, 0},
		{"UTF-8 auto", []byte(text), Auto, text, UTF8, 0},
		{"UTF-8 BOM auto", append([]byte{0xEF, 0xBB, 0xBF}, text...), Auto, text, UTF8, 0},
		{"UTF-8 BOM only", []byte{0xEF, 0xBB, 0xBF}, Auto, "", UTF8, 0},
		{"UTF-8 BOM explicit", append([]byte{0xEF, 0xBB, 0xBF}, text...), UTF8, text, UTF8, 0},
		{"BOM not at start is kept", []byte("a\uFEFFb"), Auto, "a\uFEFFb", UTF8, 0},
		{"cp1252 pound auto", []byte("\"\xA3102,000.00\",\"-\xA346,528.00\"\r"), Auto, "\"£102,000.00\",\"-£46,528.00\"\r", Windows1252, 2},
		{"cp1252 euro and quotes auto", []byte("\x80 5 \x93x\x94 \x92"), Auto, "€ 5 “x” ’", Windows1252, 4},
		{"cp1252 undefined byte", []byte("Fa\x8dade"), Auto, "Fa\uFFFDade", Windows1252, 1},
		{"mixed UTF-8 and cp1252", []byte("£1 and \xA32"), Auto, "£1 and £2", Windows1252, 1},
		{"truncated UTF-8 sequence is decoded byte by byte", []byte("\xE2\x82A"), Auto, "â‚A", Windows1252, 2},
		{"cp1252 at EOF", []byte("abc\xC2"), Auto, "abcÂ", Windows1252, 1},
		{"cp1252 explicit", []byte("\xA3\xC2\xA3\x80"), Windows1252, "£Â£€", Windows1252, 0},
		{"invalid UTF-8 explicit", []byte("a\xA3b"), UTF8, "a\uFFFDb", UTF8, 1},
		{"UTF-16LE BOM auto", utf16Bytes(text, unicode.LittleEndian, true), Auto, text, UTF16, 0},
		{"UTF-16BE BOM auto", utf16Bytes(text, unicode.BigEndian, true), Auto, text, UTF16, 0},
		{"UTF-16LE no BOM auto", utf16Bytes(text, unicode.LittleEndian, false), Auto, text, UTF16, 0},
		{"UTF-16BE no BOM auto", utf16Bytes(text, unicode.BigEndian, false), Auto, text, UTF16, 0},
		{"UTF-16 explicit BE BOM", utf16Bytes(text, unicode.BigEndian, true), UTF16, text, UTF16, 0},
		{"UTF-16 explicit no BOM is LE", utf16Bytes(text, unicode.LittleEndian, false), UTF16, text, UTF16, 0},
		{"UTF-16 odd length", append(utf16Bytes("ab", unicode.LittleEndian, true), 'x'), UTF16, "ab\uFFFD", UTF16, 0},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	}
	for _, tc := range cases {
		for rname, wrap := range readers {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				d, err := NewDecoder(wrap(bytes.NewReader(tc.in)), tc.enc)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(d)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tc.want {
					t.Errorf("decoded %q, want %q", got, tc.want)
				}
				if d.Detected() != tc.detected {
					t.Errorf("Detected() = %q, want %q", d.Detected(), tc.detected)
				}
				if d.Invalid() != tc.invalid {
					t.Errorf("Invalid() = %d, want %d", d.Invalid(), tc.invalid)
				}
			})
		}
		// Reading the decoder a byte at a time exercises the path where one decoded
		// character does not fit in the caller's buffer.
		t.Run(tc.name+"/tiny reads", func(t *testing.T) {
			d, err := NewDecoder(bytes.NewReader(tc.in), tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(iotest.OneByteReader(d))
			if err != nil || string(got) != tc.want {
				t.Errorf("decoded %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestDecoderDetectsLateWindows1252 checks the promise in Detected's doc: a £ beyond the
// first 64 KiB flips the answer once it is read.
func TestDecoderDetectsLateWindows1252(t *testing.T) {
	in := append(bytes.Repeat([]byte("abc,def\n"), 20000), 0xA3)
	d, err := NewDecoder(bytes.NewReader(in), Auto)
	if err != nil {
		t.Fatal(err)
	}
	if d.Detected() != UTF8 {
		t.Fatalf("Detected() before reading = %q, want utf-8", d.Detected())
	}
	out, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	if d.Detected() != Windows1252 || !bytes.HasSuffix(out, []byte("\n£")) {
		t.Fatalf("after reading: Detected() = %q, tail %q", d.Detected(), out[len(out)-3:])
	}

	early, _ := NewDecoder(bytes.NewReader([]byte("x,\xA3\n")), Auto)
	if early.Detected() != Windows1252 {
		t.Fatalf("a £ in the first 64 KiB: Detected() = %q before reading", early.Detected())
	}
}

// TestDecoderWindows1252MatchesCharmap checks every byte against x/text's own decoder,
// which the brief names as the reference for Windows-1252.
func TestDecoderWindows1252MatchesCharmap(t *testing.T) {
	all := make([]byte, 0, 256*3)
	for i := 0; i < 256; i++ {
		all = append(all, byte(i), 'x', byte(255-i))
	}
	want, err := charmap.Windows1252.NewDecoder().Bytes(all)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := NewDecoder(bytes.NewReader(all), Windows1252)
	got, _ := io.ReadAll(d)
	if !bytes.Equal(got, want) {
		t.Fatalf("Windows1252 decoding differs from charmap:\n got %q\nwant %q", got, want)
	}
}

// TestDecoderAutoIsValidUTF8OrWindows1252 checks the Auto rule on every two-byte input: the
// output is valid UTF-8, and it equals the input when the input was valid UTF-8.
func TestDecoderAutoExhaustivePairs(t *testing.T) {
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			in := []byte{byte(a), byte(b), 'z'}
			d, _ := NewDecoder(bytes.NewReader(in), Auto)
			out, _ := io.ReadAll(d)
			if !utf8.Valid(out) {
				t.Fatalf("% x: output % x is not UTF-8", in, out)
			}
			if utf8.Valid(in) && !bytes.Equal(in, out) {
				t.Fatalf("% x: valid UTF-8 changed to % x", in, out)
			}
		}
	}
}

type failAfter struct {
	data []byte
	err  error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	if _, err := NewDecoder(&failAfter{nil, boom}, Auto); !errors.Is(err, boom) {
		t.Fatalf("NewDecoder error = %v, want %v", err, boom)
	}
	// An error after the first buffer arrives after all the data before it.
	in := bytes.Repeat([]byte("a"), decodeBufSize+10)
	d, err := NewDecoder(&failAfter{in, boom}, Auto)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(d)
	if !errors.Is(err, boom) || len(got) != len(in) {
		t.Fatalf("ReadAll = %d bytes, %v; want %d bytes, %v", len(got), err, len(in), boom)
	}
	if _, err := NewDecoder(strings.NewReader(""), "ebcdic"); err == nil {
		t.Fatal("NewDecoder accepted an unknown encoding")
	}
}

func TestDecoderPassThroughAllocations(t *testing.T) {
	in := bytes.Repeat([]byte("Cabinet Office,£12.00,Café\r\n"), 1000)
	r := bytes.NewReader(in)
	d, _ := NewDecoder(r, Auto)
	buf := make([]byte, 4096)
	allocs := testing.AllocsPerRun(10, func() {
		r.Reset(in)
		d.r, d.w, d.eof = 0, 0, false
		for {
			if _, err := d.Read(buf); err != nil {
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per pass, want 0", allocs)
	}
}

// A profile names Windows-1252, but the department re-saved the file as UTF-8 with a BOM:
// the BOM wins, so neither the header nor the £ is mangled.
func TestByteOrderMarkOutweighsNamedWindows1252(t *testing.T) {
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"utf-8 bom":    {[]byte("\xEF\xBB\xBFAmount\n\xC2\xA35\n"), "Amount\n£5\n"},
		"utf-16le bom": {[]byte("\xFF\xFEA\x00\n\x00\xA3\x005\x00\n\x00"), "A\n£5\n"},
		"no bom":       {[]byte("Amount\n\xA35\n"), "Amount\n£5\n"},
	} {
		t.Run(name, func(t *testing.T) {
			d, err := NewDecoder(bytes.NewReader(tc.in), Windows1252)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(d)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("decoded %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDecoderDirectReads covers Read's fast path, which reads a UTF-8 body straight into
// the caller's buffer: characters cut by the end of a read, a late Windows-1252 byte, a
// source that returns nothing now and then, returns its last bytes with io.EOF, or fails
// part way, all give the same text, error, detection and count of invalid bytes as reading
// a byte at a time.
func TestDecoderDirectReads(t *testing.T) {
	var in []byte
	for len(in) < 600<<10 {
		in = append(in, "SOF1-001,Département for £ and €,2023-24,\"a, b\"\n"...)
	}
	late := slices.Clone(in)
	late[len(late)-1000] = 0xA3                           // a Windows-1252 £, well past the first look
	cut := append(slices.Clone(in[:300<<10]), 0xE2, 0x82) // ends inside a €
	for _, tc := range []struct {
		name string
		in   []byte
		enc  Encoding
	}{
		{"utf8-auto", in, Auto},
		{"utf8-named", in, UTF8},
		{"late-1252-auto", late, Auto},
		{"late-1252-utf8", late, UTF8},
		{"cut-at-end-auto", cut, Auto},
		{"cut-at-end-utf8", cut, UTF8},
	} {
		for _, src := range []stepReader{
			{step: decodeBufSize - 1},
			{step: decodeBufSize + 3},
			{step: 3 * decodeBufSize},
			{step: 7919, eofWithData: true},
			{step: decodeBufSize, emptyEvery: 3},
			{step: decodeBufSize + 1, failAt: 200<<10 + 5},
			{step: 1 << 20, failAt: len(tc.in) - 1, eofWithData: true},
		} {
			oneByte := src
			oneByte.data, oneByte.step = tc.in, 1
			want := decodeAll(t, &oneByte, tc.enc, 1)
			src.data = tc.in
			got := decodeAll(t, &src, tc.enc, 4<<20)
			if !bytes.Equal(got.text, want.text) || got.detected != want.detected || got.invalid != want.invalid || fmt.Sprint(got.err) != fmt.Sprint(want.err) {
				t.Errorf("%s, %+v: %d bytes, %s, %d invalid, %v; want %d bytes, %s, %d invalid, %v",
					tc.name, src.params(), len(got.text), got.detected, got.invalid, got.err,
					len(want.text), want.detected, want.invalid, want.err)
			}
		}
	}
}

type decoded struct {
	text     []byte
	detected Encoding
	invalid  int64
	err      error // other than io.EOF
}

// decodeAll reads all of r through a Decoder in reads of up to size bytes, until the end
// or an error.
func decodeAll(t *testing.T, r io.Reader, enc Encoding, size int) decoded {
	t.Helper()
	d, err := NewDecoder(r, enc)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, size)
	for {
		n, err := d.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			err = nil
		}
		if err != nil || n == 0 {
			return decoded{out, d.Detected(), d.Invalid(), err}
		}
	}
}

var errSourceFailed = errors.New("the source failed")

// stepReader returns its data step bytes at a time. It can also return nothing on every
// emptyEvery-th call, hand over its last bytes together with io.EOF, and fail once failAt
// bytes have been read (0: never).
type stepReader struct {
	data        []byte
	step        int
	emptyEvery  int
	eofWithData bool
	failAt      int

	calls, read int
}

func (s *stepReader) params() string {
	return fmt.Sprintf("step %d, empty every %d, EOF with data %v, fail at %d", s.step, s.emptyEvery, s.eofWithData, s.failAt)
}

func (s *stepReader) Read(p []byte) (int, error) {
	s.calls++
	if s.failAt > 0 && s.read >= s.failAt {
		return 0, errSourceFailed
	}
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	if s.emptyEvery > 0 && s.calls%s.emptyEvery == 0 {
		return 0, nil
	}
	k := min(len(p), s.step)
	if s.failAt > 0 {
		k = min(k, s.failAt-s.read)
	}
	n := copy(p[:k], s.data)
	s.data, s.read = s.data[n:], s.read+n
	if len(s.data) == 0 && s.eofWithData {
		return n, io.EOF
	}
	return n, nil
}
