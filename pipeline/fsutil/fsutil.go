// Package fsutil holds the few file-system moves that make sofpipe crash-safe: files appear
// by rename only (write a temporary, sync it, rename it, sync the folder), and a workspace is
// owned by one process at a time.
package fsutil

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// WriteFileAtomic writes data to path so that a reader sees either the old file or the
// whole new one, never a part.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return CreateAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// CreateAtomic calls write with a temporary file beside path and, when write succeeds,
// syncs it and renames it over path. On any error the temporary file is removed.
func CreateAtomic(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return RenameDurable(tmp, path)
}

// RenameDurable renames from to to and syncs both folders, so the rename survives a crash.
func RenameDurable(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	if err := SyncDir(filepath.Dir(to)); err != nil {
		return err
	}
	if filepath.Dir(from) != filepath.Dir(to) {
		return SyncDir(filepath.Dir(from))
	}
	return nil
}

// SyncFile flushes a file's contents to stable storage. It opens the file read-only:
// fsync needs no write access, and a file already made read-only (a published warehouse,
// a stored original) must still be syncable by its unprivileged owner.
func SyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// SyncDir flushes a folder's entries, making renames and creations in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// ErrLocked means another process owns the workspace.
var ErrLocked = errors.New("workspace is in use by another sofpipe process")

// Lock is an exclusive advisory lock on a file, released by Unlock or by the process
// ending (so a crashed batch never leaves a stale lock behind).
type Lock struct {
	f *os.File
	// inherited: the lock belongs to a parent process that passed its descriptor down;
	// Unlock only closes this process's copy, and the parent keeps the lock.
	inherited bool
}

// File is the locked file, for passing the lock to a child process (its descriptor shares
// the lock: see AdoptLock).
func (l *Lock) File() *os.File { return l.f }

// AdoptLock takes over, in a child process, the lock its parent holds on path and passed
// down as the open descriptor fd (exec.Cmd.ExtraFiles). flock locks belong to the open
// file, which parent and child share, so locking the descriptor again succeeds only if it
// really is the one holding the lock on path: a descriptor of any other open of the file
// gets ErrLocked, as a second process would.
func AdoptLock(fd uintptr, path string) (*Lock, error) {
	f := os.NewFile(fd, path)
	if f == nil {
		return nil, fmt.Errorf("%w: descriptor %d is not open (lock %s)", ErrLocked, fd, path)
	}
	got, err1 := f.Stat()
	want, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(got, want) {
		f.Close()
		return nil, fmt.Errorf("%w: descriptor %d is not the lock file %s", ErrLocked, fd, path)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: descriptor %d does not hold it (lock %s)", ErrLocked, fd, path)
	}
	return &Lock{f: f, inherited: true}, nil
}

// TryLock takes the lock at path without waiting; it returns an error wrapping ErrLocked
// when another process holds it.
func TryLock(path string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if pid := LockHolder(path); pid > 0 {
				return nil, fmt.Errorf("%w: process %d holds it (lock %s)", ErrLocked, pid, path)
			}
			return nil, fmt.Errorf("%w (lock %s)", ErrLocked, path)
		}
		return nil, err
	}
	// The holder's process id goes in the file, so that the process refused can say who
	// holds the workspace (a daemon that holds it for months, say). The lock is the flock,
	// not the content: a pid left behind by a process that died means nothing, as the
	// kernel released its lock, and the next holder overwrites it.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// LockHolder returns the process id written in the lock file at path, or 0 when there is
// none to read.
func LockHolder(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	if !l.inherited {
		syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// IsDiskFull reports whether err says a file system is full or a quota exhausted, as the
// kernel says it (ENOSPC, EDQUOT) or as DuckDB and other libraries that keep only the text
// of the error report it.
func IsDiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "no space left on device") || strings.Contains(msg, "disk quota exceeded")
}

// SHA256File returns the hex SHA-256 of the file at path and its size in bytes.
func SHA256File(path string) (sum string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if sum, size, err = SHA256Of(f); err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return sum, size, nil
}

// SHA256Of returns the SHA-256 (hex) and size of the whole of the open file f, read from
// its start whatever its offset, without moving the offset (f may be read elsewhere too).
func SHA256Of(f *os.File) (sum string, size int64, err error) {
	h := sha256.New()
	// Read a megabyte at a time: io.Copy's 32 KB is a system call per 32 KB, a tenth of
	// the time of hashing a 170 MB warehouse.
	if size, err = io.CopyBuffer(h, io.NewSectionReader(f, 0, 1<<62), make([]byte, 1<<20)); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}
