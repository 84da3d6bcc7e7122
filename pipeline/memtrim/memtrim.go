// Package memtrim hands memory the C allocator holds but no longer uses back to the
// system. DuckDB allocates through C's malloc from several threads, and glibc keeps the
// freed memory of each thread's arena for reuse: a process that builds a warehouse every
// night and idles between (sofpipe serve) would otherwise keep, and slowly add to, the
// high-water mark of every build. It also says how much of the process is resident, for
// a build to hand memory back only when it holds much (Resident). The Go heap is not its
// concern (runtime/debug does that).
package memtrim

// Trim asks the C allocator to return its free memory to the system, where it can (glibc's
// malloc_trim); elsewhere it does nothing. It reports whether any memory was returned.
func Trim() bool { return trim() }

// Resident returns the memory of this process the system holds in RAM (its resident set),
// in bytes; false where the system does not say (Linux's /proc/self/statm).
func Resident() (int64, bool) { return resident() }
