package main

import (
	"bytes"
	"os"
	"testing"
)

// TestNoProgressOffATerminal: with stderr a pipe, a file or a buffer (a log, the journal,
// a test), no progress display is made, so nothing of it is written.
func TestNoProgressOffATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, stderr := range []any{w, f, &bytes.Buffer{}} {
		if p := newProgress(stderr.(interface{ Write([]byte) (int, error) })); p != nil {
			t.Errorf("%T: a progress display off a terminal", stderr)
		}
		if p := batchProgress(stderr.(interface{ Write([]byte) (int, error) })); p != nil {
			t.Errorf("%T: batch progress off a terminal", stderr)
		}
	}
	// A nil display draws nothing and hooks nothing.
	var none *terminalProgress
	if none.File("big.csv", 1<<30) != nil {
		t.Error("a nil display hooks a file")
	}
	none.Step(1, 2, "x")
}
