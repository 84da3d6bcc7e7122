//go:build linux

package fsutil

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// residentPages counts the pages of the file at path that are in the page cache.
func residentPages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(info.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(data)
	pages := make([]byte, (len(data)+os.Getpagesize()-1)/os.Getpagesize())
	// x/sys/unix has no wrapper for mincore(2).
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), uintptr(unsafe.Pointer(&pages[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, p := range pages {
		n += int(p & 1)
	}
	return n
}

// TestReleaseCache: a file read (so cached) and written to disk leaves the page cache once
// released, and reads back the same; a path that cannot be opened is no error.
func TestReleaseCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kept.duckdb")
	data := bytes.Repeat([]byte("sofpipe "), 1<<20) // 8 MiB
	if err := os.WriteFile(path, data, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := SyncFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	before := residentPages(t, path)
	if before == 0 {
		t.Skip("this file system keeps nothing of the file in the page cache to release")
	}
	ReleaseCache(path)
	if after := residentPages(t, path); after > before/10 {
		t.Errorf("%d of %d pages still cached after ReleaseCache", after, before)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
		t.Errorf("the file after ReleaseCache: %d bytes, %v; want its %d bytes unchanged", len(got), err, len(data))
	}
	ReleaseCache(filepath.Join(t.TempDir(), "missing"))
}
