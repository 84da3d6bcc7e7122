//go:build linux || openbsd || dragonfly

package fsutil

import "syscall"

// ctimeNs is the inode's change time in nanoseconds (the field is Ctim here).
func ctimeNs(st *syscall.Stat_t) int64 { return int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec) }
