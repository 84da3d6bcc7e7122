//go:build darwin || freebsd || netbsd

package fsutil

import "syscall"

// ctimeNs is the inode's change time in nanoseconds (the field is Ctimespec here).
func ctimeNs(st *syscall.Stat_t) int64 {
	return int64(st.Ctimespec.Sec)*1e9 + int64(st.Ctimespec.Nsec)
}
