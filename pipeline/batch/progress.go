package batch

import "github.com/evaluation-taskforce/sofpipe/pipeline/ingest"

// Progress is what a progress display is told of a batch: each large file as it is read,
// and each step of the warehouse build. The batch calls it from its own goroutines; an
// implementation draws and returns at once.
type Progress interface {
	// File is called as a file of size bytes starts to be read under its delivered name;
	// the func it returns, if not nil, hears the bytes read and rows parsed so far.
	File(name string, size int64) ingest.ProgressFunc
	// Step is called as step n of steps of the warehouse build starts.
	Step(n, steps int, name string)
}

// fileProgress is the ingest's progress hook for one file, or nil without a display.
func (b *batch) fileProgress(name string, size int64) ingest.ProgressFunc {
	if b.opt.Progress == nil {
		return nil
	}
	return b.opt.Progress.File(name, size)
}

// buildProgress is the warehouse build's progress hook, or nil without a display.
func (b *batch) buildProgress() func(step, steps int, name string) {
	if b.opt.Progress == nil {
		return nil
	}
	return b.opt.Progress.Step
}
