package csvscan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The problems a record can have. A record with a problem is still returned, with its raw
// text, so the caller can reject it and say why. The messages are written for the
// department that has to fix its file.
var (
	ErrUnterminatedQuote = errors.New(`a quoted field is never closed: it runs from its opening " to the end of the file`)
	ErrBareQuote         = errors.New(`a " appears inside a field that is not quoted; put the field in quotes and double the " inside it ("")`)
	ErrTextAfterQuote    = errors.New(`text follows the closing " of a quoted field; a " inside a quoted field must be doubled ("")`)
)

// ParseError is the problem of one record: where it is and which of the Err* values above.
type ParseError struct {
	Line  int // physical line where the record starts
	Field int // 1-based field in which the problem is
	Err   error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d, field %d: %v", e.Line, e.Field, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// RecordIter walks the records of a chunk:
//
//	it := chunk.Records(',')
//	for it.Next() {
//		if err := it.Problem(); err != nil { reject(it.Line(), it.Raw(), err); continue }
//		use(it.Fields())
//	}
//
// It copies nothing except the value of a quoted field holding "", which it unescapes into
// a scratch buffer of its own. Reuse one RecordIter across chunks with Reset.
type RecordIter struct {
	data  []byte
	delim byte
	// stops marks the bytes that end a run of unquoted field text.
	stops [256]bool

	pos  int // start of the next record
	line int // physical line of data[pos]

	recLine int
	raw     []byte
	fields  [][]byte
	problem error

	scratch []byte
	escaped []scratchField
}

// scratchField is a field whose value lives in the scratch buffer, by offset, because the
// buffer may move while the record is being parsed.
type scratchField struct{ field, lo, hi int }

// Records returns an iterator over the chunk's records. delim must be the delimiter the
// Chunker cut the chunk with (its Delim, ',' by default); a different one is a programming
// error and panics, because record boundaries depend on it.
func (c Chunk) Records(delim byte) *RecordIter {
	it := &RecordIter{}
	it.Reset(c, delim)
	return it
}

// Reset points the iterator at a new chunk, keeping its buffers.
func (it *RecordIter) Reset(c Chunk, delim byte) {
	if c.delim != 0 && c.delim != delim {
		panic(fmt.Sprintf("csvscan: Records(%q) on a chunk cut with delimiter %q; set Chunker.Delim", rune(delim), rune(c.delim)))
	}
	if err := checkDelim(delim); err != nil {
		panic(err.Error())
	}
	if it.delim != delim || !it.stops['\n'] {
		it.stops = [256]bool{}
		it.stops[delim] = true
		it.stops['\n'] = true
		it.stops['\r'] = true
		it.stops['"'] = true
		it.delim = delim
	}
	it.data = c.Data
	it.pos = 0
	it.line = max(c.StartLine, 1)
	it.raw = nil
	it.fields = it.fields[:0]
	it.problem = nil
}

// Next moves to the next record that is not blank and reports whether there is one.
func (it *RecordIter) Next() bool {
	for it.pos < len(it.data) {
		if it.parse() {
			return true
		}
	}
	it.raw, it.fields, it.problem = nil, it.fields[:0], nil
	return false
}

// Fields returns the record's field values, unquoted, with "" turned into ", and not
// trimmed. The slice and the values are valid until the next call to Next or Reset.
func (it *RecordIter) Fields() [][]byte { return it.fields }

// Line returns the physical line number on which the record starts.
func (it *RecordIter) Line() int { return it.recLine }

// Raw returns the record's text as it was in the file, without its line end.
func (it *RecordIter) Raw() []byte { return it.raw }

// Problem returns a *ParseError if the record is malformed, nil otherwise.
func (it *RecordIter) Problem() error { return it.problem }

// parse reads the record at it.pos and reports whether it is one to return (false for a
// blank line).
func (it *RecordIter) parse() bool {
	data, delim, stops := it.data, it.delim, &it.stops
	start, n := it.pos, len(data)
	breaks := 0 // line ends inside quoted fields
	quoted := false
	it.fields = it.fields[:0]
	it.scratch = it.scratch[:0]
	it.escaped = it.escaped[:0]
	it.problem = nil

	i := start
	for {
		var value []byte
		if i < n && data[i] == '"' {
			quoted = true
			var escapes bool
			value, i, escapes, breaks = it.quotedField(i, breaks)
			if escapes || (i < n && data[i] != delim && data[i] != '\n' && data[i] != '\r') {
				value, i = it.unescape(value, i)
			}
		} else {
			j := i
			for j < len(data) && !stops[data[j]] {
				j++
			}
			for j < n && data[j] == '"' { // a quote inside an unquoted field is text
				it.flag(ErrBareQuote)
				for j++; j < len(data) && !stops[data[j]]; j++ {
				}
			}
			value, i = data[i:j], j
		}
		it.fields = append(it.fields, value)
		if i < n && data[i] == delim {
			i++
			continue
		}
		break
	}

	end, next := i, i
	if i < n {
		next++ // data[i] is CR or LF
		if data[i] == '\r' && i+1 < n && data[i+1] == '\n' {
			next++
		}
	}
	for _, s := range it.escaped {
		it.fields[s.field] = it.scratch[s.lo:s.hi:s.hi]
	}

	it.raw = data[start:end:end]
	it.recLine = it.line
	it.pos = next
	it.line += breaks
	if next > end {
		it.line++
	}
	if it.problem != nil {
		it.problem.(*ParseError).Line = it.recLine
	}
	return quoted || len(it.fields) > 1 || !blank(it.raw)
}

// quotedField reads the quoted field whose opening quote is at data[i]. It returns the
// field's content still escaped, the offset just past the closing quote, whether the
// content holds "" pairs, and breaks plus the line ends inside the field.
func (it *RecordIter) quotedField(i, breaks int) (content []byte, end int, escapes bool, breaksAfter int) {
	data := it.data
	j := i + 1
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			it.flag(ErrUnterminatedQuote)
			return data[i+1:], len(data), escapes, breaks + lineBreaks(data[j:])
		}
		k += j
		breaks += lineBreaksFast(data[j:k])
		if k+1 < len(data) && data[k+1] == '"' {
			escapes = true
			j = k + 2
			continue
		}
		return data[i+1 : k], k + 1, escapes, breaks
	}
}

// unescape builds a quoted field's value in the scratch buffer: the content with each ""
// made one ", followed by any text between the closing quote at data[i-1] and the end of
// the field, which is kept as it is (and flagged). It returns the value and the offset of
// the end of the field.
func (it *RecordIter) unescape(content []byte, i int) ([]byte, int) {
	data := it.data
	lo := len(it.scratch)
	for {
		k := bytes.Index(content, []byte(`""`))
		if k < 0 {
			it.scratch = append(it.scratch, content...)
			break
		}
		it.scratch = append(it.scratch, content[:k+1]...)
		content = content[k+2:]
	}
	j := i
	for j < len(data) && data[j] != it.delim && data[j] != '\n' && data[j] != '\r' {
		j++
	}
	if j > i {
		it.flag(ErrTextAfterQuote)
		it.scratch = append(it.scratch, data[i:j]...)
	}
	hi := len(it.scratch)
	it.escaped = append(it.escaped, scratchField{len(it.fields), lo, hi})
	return it.scratch[lo:hi], j
}

// flag records the first problem of the current record. The line is filled in when the
// record ends.
func (it *RecordIter) flag(err error) {
	if it.problem == nil {
		it.problem = &ParseError{Field: len(it.fields) + 1, Err: err}
	}
}

// blank reports whether a line holds nothing but spaces and tabs.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// lineBreaksFast is lineBreaks for the short stretches inside quoted fields, where a line
// end is rare: it looks for one, eight bytes at a time, before counting.
func lineBreaksFast(b []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		lf, cr := w^('\n'*ones), w^('\r'*ones)
		// (x - ones) &^ x has a high bit set in some byte exactly when x has a zero byte.
		if ((lf-ones)&^lf|(cr-ones)&^cr)&highs != 0 {
			return lineBreaks(b)
		}
	}
	for _, c := range b[i:] {
		if c == '\n' || c == '\r' {
			return lineBreaks(b)
		}
	}
	return 0
}
