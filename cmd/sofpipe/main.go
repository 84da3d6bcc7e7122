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
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
