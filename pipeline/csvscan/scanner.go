package csvscan

import (
	"errors"
	"io"
)

// scannerChunkBytes is small because a Scanner serves small files and header rows, and it
// recycles one buffer, so a large one would buy nothing.
const scannerChunkBytes = 64 << 10

// Scanner reads records one at a time from a reader, for small files, `sofpipe validate`
// and tests. It is the Chunker and RecordIter run back to back on one goroutine, so it
// splits records exactly as the parallel path does. Unlike the Chunker it recycles its
// buffer, so Fields and Raw are valid only until the next Scan.
type Scanner struct {
	ch   *Chunker
	it   RecordIter
	init bool
	err  error
}

// NewScanner returns a Scanner reading UTF-8 text from r with the given field delimiter.
func NewScanner(r io.Reader, delim byte) *Scanner {
	ch := NewChunker(r, scannerChunkBytes)
	ch.Delim = delim
	ch.reuse = true
	return &Scanner{ch: ch}
}

// Scan advances to the next record that is not blank and reports whether there is one.
// After it returns false, Err reports any error other than io.EOF.
func (s *Scanner) Scan() bool {
	for {
		if s.init && s.it.Next() {
			return true
		}
		if s.err != nil {
			return false
		}
		c, err := s.ch.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = err
			} else {
				s.err = io.EOF
			}
			return false
		}
		s.it.Reset(c, c.delim)
		s.init = true
	}
}

// Fields returns the current record's fields; see RecordIter.Fields.
func (s *Scanner) Fields() [][]byte { return s.it.Fields() }

// Line returns the physical line on which the current record starts.
func (s *Scanner) Line() int { return s.it.Line() }

// Raw returns the current record's text without its line end.
func (s *Scanner) Raw() []byte { return s.it.Raw() }

// Problem returns the current record's *ParseError, or nil.
func (s *Scanner) Problem() error { return s.it.Problem() }

// Err returns the error that stopped Scan, or nil at the end of the input.
func (s *Scanner) Err() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}
