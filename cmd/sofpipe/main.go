// Command sofpipe turns government departments' monthly Shared Outcomes Fund returns into
// the evidence the Evaluation Taskforce uses: a tested DuckDB warehouse with the
// scale_up_candidates and lessons_learned marts, and their exports.
//
// main only wires the process to Run; each command lives in its own file.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

// memoryLimit is the Go heap's soft limit unless GOMEMLIMIT says otherwise. The ingest's
// live memory is a few row groups and chunks (well under 100 MiB); without a limit the
// collector lets the heap reach twice that before it runs, and the peak RSS is that
// doubling. Near the limit the collector simply runs sooner; it is a soft limit (DuckDB's
// memory is its own and not counted), so a larger live heap slows the collector rather
// than failing.
const memoryLimit = 192 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
