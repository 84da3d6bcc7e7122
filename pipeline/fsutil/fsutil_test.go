package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWriteFileAtomicReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "state.json")
	if err := WriteFileAtomic(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("content %q, want two", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestCreateAtomicFailureLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.parquet")
	os.WriteFile(p, []byte("old"), 0o644)
	boom := errors.New("disk full")
	err := CreateAtomic(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("the old file was touched: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary file left behind: %v", entries)
	}
}

func TestLockIsExclusive(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".lock")
	first, err := TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(p); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: err = %v, want ErrLocked", err)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := TryLock(p)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again.Unlock()
}

// TestAdoptLock: a descriptor that shares the holder's open file (what a child process
// inherits) takes the lock over; any other open of the file does not; and the child's
// release leaves the parent holding it.
func TestAdoptLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".lock")
	held, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	shared, err := syscall.Dup(int(held.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	child, err := AdoptLock(uintptr(shared), path)
	if err != nil {
		t.Fatalf("the inherited descriptor: %v", err)
	}
	other, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AdoptLock(other.Fd(), path); !errors.Is(err, ErrLocked) {
		t.Errorf("another open of the lock file: %v, want ErrLocked", err)
	}
	notLock, _ := os.Create(filepath.Join(dir, "other"))
	if _, err := AdoptLock(notLock.Fd(), path); !errors.Is(err, ErrLocked) {
		t.Errorf("a descriptor of another file: %v, want ErrLocked", err)
	}
	child.Unlock()
	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Errorf("after the child let go, a third process got the lock (%v): the parent must keep it", err)
	}
}
