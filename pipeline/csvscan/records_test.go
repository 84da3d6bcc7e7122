package csvscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// rec is a record as the tests compare it.
type rec struct {
	Line    int
	Fields  []string
	Raw     string
	Problem error // the Err* value, or nil
}

func (r rec) String() string {
	return fmt.Sprintf("{line %d %q raw=%q problem=%v}", r.Line, r.Fields, r.Raw, r.Problem)
}

// collect runs input through a Chunker of the given size and a RecordIter per chunk.
func collect(t testing.TB, input []byte, chunkBytes int, delim byte) []rec {
	t.Helper()
	ch := NewChunker(bytes.NewReader(input), chunkBytes)
	ch.Delim = delim
	var out []rec
	var it RecordIter
	for seq := 0; ; seq++ {
		c, err := ch.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if c.Seq != seq {
			t.Fatalf("chunk Seq = %d, want %d", c.Seq, seq)
		}
		it.Reset(c, delim)
		for it.Next() {
			out = append(out, snapshot(&it))
		}
	}
	return out
}

func snapshot(it interface {
	Fields() [][]byte
	Line() int
	Raw() []byte
	Problem() error
}) rec {
	r := rec{Line: it.Line(), Raw: string(it.Raw()), Fields: []string{}}
	for _, f := range it.Fields() {
		r.Fields = append(r.Fields, string(f))
	}
	if p := it.Problem(); p != nil {
		var pe *ParseError
		if !errors.As(p, &pe) {
			panic(fmt.Sprintf("Problem %T is not a *ParseError", p))
		}
		if pe.Line != r.Line {
			panic(fmt.Sprintf("ParseError.Line %d != Line() %d", pe.Line, r.Line))
		}
		r.Problem = pe.Err
	}
	return r
}

func f(s ...string) []string { return s }

var recordCases = []struct {
	name  string
	in    string
	delim byte
	want  []rec
}{
	{"empty input", "", ',', nil},
	{"LF", "a,b\nc,d\n", ',', []rec{{1, f("a", "b"), "a,b", nil}, {2, f("c", "d"), "c,d", nil}}},
	{"CRLF", "a,b\r\nc,d\r\n", ',', []rec{{1, f("a", "b"), "a,b", nil}, {2, f("c", "d"), "c,d", nil}}},
	{"CR only (old Mac)", "a,b\rc,d\r", ',', []rec{{1, f("a", "b"), "a,b", nil}, {2, f("c", "d"), "c,d", nil}}},
	{"mixed line ends", "a\rb\r\nc\nd", ',', []rec{{1, f("a"), "a", nil}, {2, f("b"), "b", nil}, {3, f("c"), "c", nil}, {4, f("d"), "d", nil}}},
	{"LF CR is two line ends", "a\n\rb", ',', []rec{{1, f("a"), "a", nil}, {3, f("b"), "b", nil}}},
	{"no final line end", "a,b\nc,d", ',', []rec{{1, f("a", "b"), "a,b", nil}, {2, f("c", "d"), "c,d", nil}}},
	{"blank lines skipped, lines still counted", "\n\r\n  \t \na\n\n\rb\n \n", ',', []rec{{4, f("a"), "a", nil}, {7, f("b"), "b", nil}}},
	{"line of delimiters is not blank", ",,\n", ',', []rec{{1, f("", "", ""), ",,", nil}}},
	{"empty quoted field is not blank", "\"\"\n", ',', []rec{{1, f(""), `""`, nil}}},
	{"trailing delimiter gives an empty last field", "a,b,\r\nc,d,\r\n", ',', []rec{{1, f("a", "b", ""), "a,b,", nil}, {2, f("c", "d", ""), "c,d,", nil}}},
	{"trailing delimiter at EOF", "a,", ',', []rec{{1, f("a", ""), "a,", nil}}},
	{"fields are not trimmed", " a , b \n", ',', []rec{{1, f(" a ", " b "), " a , b ", nil}}},
	{"ragged rows", "a,b,c\nd\ne,f\n", ',', []rec{{1, f("a", "b", "c"), "a,b,c", nil}, {2, f("d"), "d", nil}, {3, f("e", "f"), "e,f", nil}}},
	{"quoted delimiter", `x,"£102,000.00",y` + "\n", ',', []rec{{1, f("x", "£102,000.00", "y"), `x,"£102,000.00",y`, nil}}},
	{"negative quoted amount", `"-£46,528.00"` + "\r\n", ',', []rec{{1, f("-£46,528.00"), `"-£46,528.00"`, nil}}},
	{"escaped quotes", `"say ""hi""",b` + "\n", ',', []rec{{1, f(`say "hi"`, "b"), `"say ""hi""",b`, nil}}},
	{"only an escaped quote", `""""` + "\n", ',', []rec{{1, f(`"`), `""""`, nil}}},
	{"two escaped fields", `"a""","""b"` + "\n", ',', []rec{{1, f(`a"`, `"b`), `"a""","""b"`, nil}}},
	{"quoted LF", "\"a\nb\",c\nd\n", ',', []rec{{1, f("a\nb", "c"), "\"a\nb\",c", nil}, {3, f("d"), "d", nil}}},
	{"quoted CRLF counts one line", "\"a\r\nb\"\r\nd\r\n", ',', []rec{{1, f("a\r\nb"), "\"a\r\nb\"", nil}, {3, f("d"), "d", nil}}},
	{"quoted CR", "\"a\rb\rc\"\rd\r", ',', []rec{{1, f("a\rb\rc"), "\"a\rb\rc\"", nil}, {4, f("d"), "d", nil}}},
	{"quoted field then blank line", "\"a\n\"\n\nb\n", ',', []rec{{1, f("a\n"), "\"a\n\"", nil}, {4, f("b"), "b", nil}}},
	{"semicolon delimiter", "a;\"b;c\";d\n", ';', []rec{{1, f("a", "b;c", "d"), "a;\"b;c\";d", nil}}},
	{"comma is text with another delimiter", "a,b;c\n", ';', []rec{{1, f("a,b", "c"), "a,b;c", nil}}},
	{"tab delimiter keeps tab lines", "a\tb\n\t\n", '\t', []rec{{1, f("a", "b"), "a\tb", nil}, {2, f("", ""), "\t", nil}}},
	{"unicode passes through", "Café,£,€\n", ',', []rec{{1, f("Café", "£", "€"), "Café,£,€", nil}}},

	// Malformed records come back with their raw text and a problem.
	{"unterminated quote at EOF", "a,b\nc,\"d,e\nf\n", ',', []rec{{1, f("a", "b"), "a,b", nil}, {2, f("c", "d,e\nf\n"), "c,\"d,e\nf\n", ErrUnterminatedQuote}}},
	{"unterminated quote with escapes", "\"a\"\"b", ',', []rec{{1, f(`a"b`), "\"a\"\"b", ErrUnterminatedQuote}}},
	{"lone quote", "\"", ',', []rec{{1, f(""), "\"", ErrUnterminatedQuote}}},
	{"bare quote in unquoted field", "HP 24\" MONITOR,5\nnext,row\n", ',', []rec{{1, f("HP 24\" MONITOR", "5"), "HP 24\" MONITOR,5", ErrBareQuote}, {2, f("next", "row"), "next,row", nil}}},
	{"quote after leading space is text", "a, \"b\"\n", ',', []rec{{1, f("a", ` "b"`), `a, "b"`, ErrBareQuote}}},
	{"text after closing quote", "\"HP 24\" MONITOR\",5\nnext\n", ',', []rec{{1, f("HP 24 MONITOR\"", "5"), "\"HP 24\" MONITOR\",5", ErrTextAfterQuote}, {2, f("next"), "next", nil}}},
	{"text after closing quote, field 2", "a,\"b\"c\n", ',', []rec{{1, f("a", "bc"), "a,\"b\"c", ErrTextAfterQuote}}},
	{"first problem wins", "a\"b,\"c\"d\n", ',', []rec{{1, f("a\"b", "cd"), "a\"b,\"c\"d", ErrBareQuote}}},
}

func TestRecords(t *testing.T) {
	for _, tc := range recordCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{1 << 20, 1, 2, 3, 7} {
				got := collect(t, []byte(tc.in), size, tc.delim)
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("chunk size %d:\n got %v\nwant %v", size, got, tc.want)
				}
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	got := collect(t, []byte("a,b\nx,\"y\"z\n"), 0, ',')
	it := Chunk{Data: []byte("a,b\nx,\"y\"z\n"), StartLine: 10}.Records(',')
	it.Next()
	it.Next()
	want := `line 11, field 2: text follows the closing " of a quoted field; a " inside a quoted field must be doubled ("")`
	if it.Problem() == nil || it.Problem().Error() != want {
		t.Fatalf("Problem() = %v, want %s", it.Problem(), want)
	}
	if !errors.Is(it.Problem(), ErrTextAfterQuote) {
		t.Fatalf("errors.Is(Problem, ErrTextAfterQuote) = false")
	}
	if got[1].Line != 2 {
		t.Fatalf("line = %d", got[1].Line)
	}
}

func TestFieldsReusedUntilNext(t *testing.T) {
	// Fields that point into the scratch buffer must stay right when the buffer grows
	// while later fields of the same record are unescaped.
	long := strings.Repeat(`x""`, 500)
	in := `"a""",` + `"` + long + `",` + `"b"""` + "\n"
	it := Chunk{Data: []byte(in)}.Records(',')
	if !it.Next() {
		t.Fatal("no record")
	}
	want := []string{`a"`, strings.Repeat(`x"`, 500), `b"`}
	for i, fv := range it.Fields() {
		if string(fv) != want[i] {
			t.Fatalf("field %d = %q, want %q", i, fv, want[i])
		}
	}
}

func TestRecordsWrongDelimiterPanics(t *testing.T) {
	ch := NewChunker(strings.NewReader("a;b\n"), 0)
	ch.Delim = ';'
	c, err := ch.Next()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Records(',') on a ';' chunk did not panic")
		}
	}()
	c.Records(',')
}

func TestRecordsAllocations(t *testing.T) {
	data := []byte(strings.Repeat(`Cabinet Office,01/02/12,IT Costs,"100,685.82","Rental ""charges""",RG12 1RW`+"\r\n", 50))
	c := Chunk{Data: data, StartLine: 1}
	var it RecordIter
	it.Reset(c, ',')
	for it.Next() {
	}
	allocs := testing.AllocsPerRun(100, func() {
		it.Reset(c, ',')
		for it.Next() {
			_ = it.Fields()
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per chunk with a warm iterator, want 0", allocs)
	}
}

// TestLineBreaksFast checks the eight-bytes-at-a-time look for a line end against counting,
// with the line end at every position of stretches of every length up to 40.
func TestLineBreaksFast(t *testing.T) {
	for n := 0; n <= 40; n++ {
		b := bytes.Repeat([]byte{'x'}, n)
		if got := lineBreaksFast(b); got != 0 {
			t.Fatalf("%d bytes without a line end: %d", n, got)
		}
		for i := 0; i < n; i++ {
			for _, end := range []string{"\n", "\r", "\r\n"} {
				c := slices.Clone(b)
				copy(c[i:], end)
				if got, want := lineBreaksFast(c), lineBreaks(c); got != want || want == 0 {
					t.Fatalf("%q: %d line ends, want %d", c, got, want)
				}
			}
		}
	}
}
