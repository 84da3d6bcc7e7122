//go:build linux

package fsutil

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// writebackChunk is how much a WritebackWriter lets build up before it asks the kernel to
// start writing it out.
const writebackChunk = 8 << 20

type writebackWriter struct {
	f            *os.File
	off, started int64
}

// WritebackWriter writes to f and, every few megabytes, asks the kernel to start writing
// what it was given to disk (sync_file_range without waiting), so that a large file's
// closing Sync waits for its last megabytes, not for all of them: the disk works while the
// copy goes on. It changes when bytes reach the disk, never what is written; the caller
// still calls Sync for durability.
func WritebackWriter(f *os.File) io.Writer { return &writebackWriter{f: f} }

func (w *writebackWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writebackChunk {
		// Best effort: a file system without it still gets the caller's Sync.
		_ = unix.SyncFileRange(int(w.f.Fd()), w.started, w.off-w.started, unix.SYNC_FILE_RANGE_WRITE)
		w.started = w.off
	}
	return n, err
}

// StartWriteback asks the kernel to start writing f's dirty pages to disk now, without
// waiting for them, so that a later Sync of a file written in one go (a copy) waits for
// little. Best effort: it changes when bytes reach the disk, never what is written.
func StartWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// ReleaseCache tells the kernel that the file at path will not be read soon, so that its
// pages in the page cache may go now (posix_fadvise POSIX_FADV_DONTNEED) rather than when
// memory runs short. Best effort, like StartWriteback: it changes what is cached, never
// what is stored.
func ReleaseCache(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
