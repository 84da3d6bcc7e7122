package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// progressMinBytes: files smaller than this are read before a bar would be worth drawing.
const progressMinBytes = 4 << 20

// terminalProgress draws progress bars on a terminal (github.com/schollz/progressbar/v3:
// one bar at a time, bytes with MB/s and time left, throttled redraws, cleared when done),
// for the large files a batch or `sofpipe ingest` reads and for the warehouse build's
// steps. It implements batch.Progress.
type terminalProgress struct {
	w   io.Writer
	mu  sync.Mutex
	bar *progressbar.ProgressBar // the warehouse build's, while it runs
}

// newProgress returns a progress display on stderr when stderr is a terminal, else nil:
// nothing of it reaches a log file, a pipe or the journal. The daemon never asks for one.
func newProgress(stderr io.Writer) *terminalProgress {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &terminalProgress{w: stderr}
}

// File draws a bytes bar for a file of at least progressMinBytes: the file's name and the
// rows parsed so far, MB read of the size, MB/s and time left.
func (p *terminalProgress) File(name string, size int64) ingest.ProgressFunc {
	if p == nil || size < progressMinBytes {
		return nil
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(24),
		progressbar.OptionClearOnFinish(),
	)
	return func(read, rows int64) {
		bar.Describe(fmt.Sprintf("%s: %d rows", name, rows))
		bar.Set64(read)
		if read >= size {
			bar.Finish()
		}
	}
}

// Step draws the warehouse build as step n of steps, naming the step.
func (p *terminalProgress) Step(n, steps int, name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		p.bar = progressbar.NewOptions(steps,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(24),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Describe(fmt.Sprintf("warehouse: %s", name))
	p.bar.Set(n)
	if n >= steps {
		p.bar.Finish()
		p.bar = nil
	}
}

// batchProgress is newProgress as a batch.Progress: a nil *terminalProgress must reach the
// batch as a nil interface, so that it draws nothing.
func batchProgress(stderr io.Writer) batch.Progress {
	if p := newProgress(stderr); p != nil {
		return p
	}
	return nil
}
