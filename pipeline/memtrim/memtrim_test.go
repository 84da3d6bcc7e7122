package memtrim

import (
	"os"
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
