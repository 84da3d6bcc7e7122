//go:build !linux && !openbsd && !dragonfly && !darwin && !freebsd && !netbsd

package fsutil

import "os"

// IdentityOf returns false: where the system gives no inode and change time (Windows,
// Plan 9), sofpipe takes no file's identity on trust and reads the file instead.
func IdentityOf(os.FileInfo) (Identity, bool) { return Identity{}, false }
