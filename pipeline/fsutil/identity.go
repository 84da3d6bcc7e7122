package fsutil

import "os"

// Identity tells one version of a file from another without reading it: the device and
// inode it lives in, its size, and when its data (mtime) and its inode (ctime) last
// changed. A write changes mtime and ctime; a file renamed or copied over the path has
// another inode; and ctime cannot be set back from user space, as mtime can (touch -d).
// So while a path's Identity is the one recorded, it holds the bytes it held then, short
// of damage under the file system (sofpipe verify reads every byte for that).
type Identity struct {
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	CtimeNs int64  `json:"ctime_ns"`
}

// IdentityOfPath is IdentityOf for the file at path (following symbolic links).
func IdentityOfPath(path string) (Identity, bool, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Identity{}, false, err
	}
	id, ok := IdentityOf(info)
	return id, ok, nil
}
