//go:build !linux

package serve

import "syscall"

func childProcAttr() *syscall.SysProcAttr { return nil }
