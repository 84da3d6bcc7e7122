package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// digest is a file's SHA-256. When the caller does not know it yet, it is computed beside
// the ingest rather than before it: nothing needs it until the first row group or reject
// is written, and by then a second reader of the file (from the page cache, at over a GB/s)
// has usually finished, so the hash costs almost no wall time.
type digest struct {
	done chan struct{}
	sum  string
	err  error
}

func knownDigest(sum string) *digest {
	d := &digest{done: make(chan struct{}), sum: sum}
	close(d.done)
	return d
}

func hashInBackground(path string) *digest {
	d := &digest{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		f, err := os.Open(path)
		if err != nil {
			d.err = err
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			d.err = err
			return
		}
		d.sum = hex.EncodeToString(h.Sum(nil))
	}()
	return d
}

// wait returns the digest once it is known.
func (d *digest) wait() (string, error) {
	<-d.done
	return d.sum, d.err
}
