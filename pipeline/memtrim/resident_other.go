//go:build !linux

package memtrim

func resident() (int64, bool) { return 0, false }
