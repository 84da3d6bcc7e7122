package memtrim

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestTrimRuns(t *testing.T) {
	// Whether memory comes back depends on the allocator's state; what must hold is that
	// the call is safe at any time, repeatedly, and leaves the process working.
	for range 3 {
		Trim()
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				kb, err := strconv.Atoi(strings.Fields(line)[1])
				if err != nil || kb <= 0 {
					t.Errorf("VmRSS after trimming: %q", line)
				}
			}
		}
	}
}

func TestResident(t *testing.T) {
	r, ok := Resident()
	if !ok {
		if _, err := os.Stat("/proc/self/statm"); err == nil {
			t.Fatal("Resident says nothing where /proc/self/statm is there")
		}
		t.Skip("the system does not say how much of the process is resident")
	}
	// A Go test binary holds a few MB in RAM at least, and not terabytes; and memory the
	// process touches is counted.
	if r < 1<<20 || r > 1<<40 {
		t.Fatalf("Resident() = %d bytes", r)
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	after, _ := Resident()
	if after < r+32<<20 {
		t.Errorf("Resident() went from %d to %d after touching 64 MB", r, after)
	}
	runtime.KeepAlive(buf)
}
