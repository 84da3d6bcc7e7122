//go:build linux || openbsd || dragonfly || darwin || freebsd || netbsd

package fsutil

import (
	"os"
	"syscall"
)

// IdentityOf returns the identity of the file info describes, and false where the system
// gives no device and inode (then nothing may be taken on trust: read the file).
func IdentityOf(info os.FileInfo) (Identity, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return Identity{}, false
	}
	return Identity{
		Dev:     uint64(st.Dev),
		Ino:     uint64(st.Ino),
		Size:    info.Size(),
		MtimeNs: info.ModTime().UnixNano(),
		CtimeNs: ctimeNs(st),
	}, true
}
