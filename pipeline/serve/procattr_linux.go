package serve

import "syscall"

// childProcAttr has the kernel send the batch process SIGTERM when the daemon dies.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
