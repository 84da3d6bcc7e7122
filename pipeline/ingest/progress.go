package ingest

import (
	"io"
	"time"
)

// ProgressFunc is told, while a file is read, how many of its bytes have been read and how
// many rows parsed. It is called from the goroutine reading the file, at most every
// progressEvery and once at the end of the file, and must return quickly.
type ProgressFunc func(bytesRead, rowsRead int64)

const progressEvery = 100 * time.Millisecond

// progressReader counts the bytes read through it for a ProgressFunc.
type progressReader struct {
	r    io.Reader
	f    ProgressFunc
	n    int64
	rows func() int64
	last time.Time
}

// withProgress wraps r so that f hears of the reading; nil when f is nil.
func withProgress(r io.Reader, f ProgressFunc) *progressReader {
	if f == nil {
		return nil
	}
	return &progressReader{r: r, f: f}
}

// countRows gives the reader the count of rows parsed so far; a nil reader ignores it.
func (p *progressReader) countRows(rows func() int64) {
	if p != nil {
		p.rows = rows
	}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); err != nil || now.Sub(p.last) >= progressEvery {
		p.last = now
		var rows int64
		if p.rows != nil {
			rows = p.rows()
		}
		p.f(p.n, rows)
	}
	return n, err
}
