package csvscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultChunkBytes is the chunk size used when NewChunker is given zero or less: large
// enough that a worker's per-chunk overhead is noise, small enough that a few chunks in
// flight per worker keep memory flat.
const DefaultChunkBytes = 1 << 20

// DefaultMaxRecordBytes bounds one record. Real records are well under a kilobyte; one of
// many megabytes means a quote was never closed, and the bound keeps memory flat when the
// rest of a large file turns into a single record.
const DefaultMaxRecordBytes = 64 << 20

// ErrRecordTooLong is returned (wrapped, with the line number) by Chunker.Next when a record
// exceeds the Chunker's MaxRecordBytes.
var ErrRecordTooLong = errors.New("record too long")

// Chunk is a run of whole records, cut so that it can be parsed on its own.
type Chunk struct {
	// Data holds the records, the last one with its line end unless it ends the file.
	// It is the chunk's own memory, so it may be handed to another goroutine and kept
	// until it is given back with [Chunker.Recycle]; its capacity ends at its length, so
	// appending to it copies.
	Data []byte
	// StartLine is the 1-based physical line number of Data[0].
	StartLine int
	// Seq numbers the chunks of one file 0, 1, 2, … so results can be put back in order.
	Seq int

	delim byte   // the delimiter the chunk was cut with; 0 for a hand-made chunk
	buf   []byte // the whole buffer Data was cut from, for Recycle
}

// Chunker cuts text into chunks of whole records. It only finds record boundaries and
// counts lines; splitting records into fields is left to [Chunk.Records] so that it can run
// on many goroutines. A Chunker is not safe for concurrent use.
type Chunker struct {
	// Delim is the field delimiter, ',' when zero. It must be set before the first call to
	// Next and must be the delimiter later given to Chunk.Records: a quote opens a quoted
	// field only at the start of a field, so record boundaries depend on it.
	Delim byte
	// MaxRecordBytes bounds one record; DefaultMaxRecordBytes when zero or less.
	MaxRecordBytes int

	r     io.Reader
	size  int
	carry []byte // the start of the next chunk: a partial record read past the last cut
	line  int    // physical line of carry[0]
	seq   int
	eof   bool
	err   error       // sticky: io.EOF after the last chunk, or the error that stopped us
	segs  []span      // scratch for lastRecordEnd
	reuse bool        // the Scanner's mode: recycle the previous chunk's buffer
	prev  []byte      // the previous chunk's buffer, when reuse is set
	delim byte        // Delim, validated at the first Next
	valid bool        // delim has been validated
	free  chan []byte // buffers given back by Recycle
}

// span is a half-open byte range [lo, hi).
type span struct{ lo, hi int }

// NewChunker returns a Chunker reading r, which should already be UTF-8 (see NewDecoder).
// chunkBytes is the target chunk size (DefaultChunkBytes when zero or less); a chunk holds
// at least one record, so it grows past chunkBytes when a record is longer.
func NewChunker(r io.Reader, chunkBytes int) *Chunker {
	if chunkBytes <= 0 {
		chunkBytes = DefaultChunkBytes
	}
	return &Chunker{r: r, size: chunkBytes, line: 1, free: make(chan []byte, recycled)}
}

// recycled is how many given-back buffers a Chunker keeps: enough for every chunk in
// flight in a worker pool on a large machine; more are left to the garbage collector.
const recycled = 16

// Recycle gives a chunk's memory back for a later chunk, so a long file is read without
// allocating (and zeroing) a buffer per chunk. After the call, the chunk's Data must not be
// used. It may be called from any goroutine; a chunk not recycled is simply collected.
func (c *Chunker) Recycle(ch Chunk) {
	if ch.buf == nil || c.free == nil {
		return
	}
	select {
	case c.free <- ch.buf[:cap(ch.buf)]:
	default:
	}
}

// buffer returns a buffer of at least size bytes, recycled if one is at hand.
func (c *Chunker) buffer(size int) []byte {
	for {
		select {
		case b := <-c.free:
			if cap(b) >= size {
				return b[:cap(b)]
			}
			continue // too small for this chunk: let it go
		default:
		}
		return make([]byte, size)
	}
}

// Next returns the next chunk, or io.EOF after the last one. Any other error is from the
// reader, a bad Delim, or ErrRecordTooLong, and is returned again by every later call.
//
// Every chunk ends at the end of a record (or of the input), so a record never spans two
// chunks. If the input ends inside a quoted field, the last chunk holds that record and
// its iterator reports ErrUnterminatedQuote.
func (c *Chunker) Next() (Chunk, error) {
	if c.err != nil {
		return Chunk{}, c.err
	}
	if !c.valid {
		if err := c.validate(); err != nil {
			c.err = err
			return Chunk{}, err
		}
	}
	maxRecord := c.MaxRecordBytes
	if maxRecord <= 0 {
		maxRecord = DefaultMaxRecordBytes
	}

	// Room for the carried partial record plus a chunk's worth of new input.
	size := c.size
	if len(c.carry) >= size/2 {
		size = len(c.carry) + c.size
	}
	var buf []byte
	if c.reuse && cap(c.prev) >= size {
		buf = c.prev[:cap(c.prev)]
	} else {
		buf = c.buffer(size)
	}
	n := copy(buf, c.carry) // overlapping copy is fine when reusing
	c.carry = nil

	for {
		n = c.fill(buf, n)
		if c.err != nil {
			return Chunk{}, c.err
		}
		if c.eof {
			c.err = io.EOF
			if n == 0 {
				return Chunk{}, io.EOF
			}
			return c.emit(buf, n, n), nil
		}
		if cut := lastRecordEnd(buf[:n], c.delim, &c.segs); cut > 0 {
			return c.emit(buf, cut, n), nil
		}
		// Not one whole record in the buffer: the record is longer than a chunk.
		if n >= maxRecord {
			c.err = fmt.Errorf("csvscan: the record starting on line %d is longer than %d bytes; "+
				"is a quoted field never closed? %w", c.line, maxRecord, ErrRecordTooLong)
			return Chunk{}, c.err
		}
		grown := make([]byte, min(2*len(buf), maxRecord+c.size))
		copy(grown, buf[:n])
		buf = grown
	}
}

// emit hands out buf[:cut] as the next chunk and keeps buf[cut:n] for the one after.
func (c *Chunker) emit(buf []byte, cut, n int) Chunk {
	data := buf[:cut:cut]
	ch := Chunk{Data: data, StartLine: c.line, Seq: c.seq, delim: c.delim, buf: buf}
	c.seq++
	c.line += lineBreaks(data)
	c.carry = buf[cut:n]
	if c.reuse {
		c.prev = buf
	}
	return ch
}

func (c *Chunker) validate() error {
	d := c.Delim
	if d == 0 {
		d = ','
	}
	if err := checkDelim(d); err != nil {
		return err
	}
	c.delim, c.valid = d, true
	return nil
}

func checkDelim(d byte) error {
	if d == '"' || d == '\r' || d == '\n' || d >= 0x80 {
		return fmt.Errorf("csvscan: %q cannot be a delimiter (use an ASCII character other than a quote or line end)", rune(d))
	}
	return nil
}

// fill reads into buf[n:] until buf is full or the input ends, and returns the new length.
func (c *Chunker) fill(buf []byte, n int) int {
	empty := 0
	for n < len(buf) && !c.eof {
		m, err := c.r.Read(buf[n:])
		n += m
		switch {
		case err == io.EOF:
			c.eof = true
		case err != nil:
			c.err = err
			return n
		case m == 0:
			if empty++; empty >= 100 {
				c.err = io.ErrNoProgress
				return n
			}
		}
	}
	return n
}

// lastRecordEnd returns the offset just past the last complete record in data, or 0 if
// data does not hold one. data starts at the start of a record and more input follows it.
//
// It follows the same quoting rule as RecordIter, but without splitting fields: it jumps
// from quote to quote with bytes.IndexByte (vectorised), notes the stretches that lie
// outside quoted fields, and then looks backwards through those for the last line end.
func lastRecordEnd(data []byte, delim byte, segs *[]span) int {
	outside := (*segs)[:0]
	from := 0 // start of the current stretch outside quotes
	i := 0
scan:
	for {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			outside = append(outside, span{from, len(data)})
			break
		}
		q += i
		if q > 0 {
			if p := data[q-1]; p != delim && p != '\n' && p != '\r' {
				i = q + 1 // a quote inside a field is an ordinary character
				continue
			}
		}
		// q opens a quoted field: find its closing quote, stepping over "" pairs.
		outside = append(outside, span{from, q})
		j := q + 1
		for {
			k := bytes.IndexByte(data[j:], '"')
			if k < 0 {
				break scan // the quoted field runs past the end of data
			}
			k += j
			if k+1 == len(data) {
				break scan // a closing quote or the first half of "": wait for more input
			}
			if data[k+1] == '"' {
				j = k + 2
				continue
			}
			from, i = k+1, k+1
			continue scan
		}
	}
	*segs = outside

	for s := len(outside) - 1; s >= 0; s-- {
		lo, hi := outside[s].lo, outside[s].hi
		if hi == len(data) && hi > lo && data[hi-1] == '\r' {
			hi-- // a CR at the very end may be the first half of a CRLF
		}
		for k := hi - 1; k >= lo; k-- {
			if b := data[k]; b == '\n' || b == '\r' {
				return k + 1
			}
		}
	}
	return 0
}

// lineBreaks counts line ends in b, a CRLF counting once.
func lineBreaks(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if cr := bytes.Count(b, []byte{'\r'}); cr > 0 {
		n += cr - bytes.Count(b, []byte("\r\n"))
	}
	return n
}
