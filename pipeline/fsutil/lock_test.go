package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A process refused the lock is told who holds it; the pid is the holder's, written when
// the lock was taken over whatever an earlier holder left.
func TestLockNamesHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	if err := os.WriteFile(path, []byte("99999999\nstale"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if got := LockHolder(path); got != os.Getpid() {
		t.Errorf("LockHolder = %d, want this process, %d", got, os.Getpid())
	}
	// flock locks belong to the open file, so a second open in this process is refused as
	// another process would be.
	_, err = TryLock(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("error %q does not name the holder's pid %d", err, os.Getpid())
	}
}
