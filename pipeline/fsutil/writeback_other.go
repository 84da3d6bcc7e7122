//go:build !linux

package fsutil

import (
	"io"
	"os"
)

// WritebackWriter returns f: only Linux is asked to start writing early (see the Linux
// file).
func WritebackWriter(f *os.File) io.Writer { return f }

// StartWriteback does nothing here: the caller's Sync writes the file.
func StartWriteback(*os.File) {}

// ReleaseCache does nothing here: the system decides what stays cached.
func ReleaseCache(string) {}
