package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
)

func rollbackCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rollback", stderr)
	var common commonFlags
	common.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sofpipe rollback [flags] [BATCH]")
		fmt.Fprintln(stderr, "\nPuts the warehouse batch BATCH built (default: the newest kept in warehouse/history/) back")
		fmt.Fprintln(stderr, "in place of the published one, which is kept in the history; writes the exports again")
		fmt.Fprintln(stderr, "from it and records the rollback in the run history. The next batch builds in full.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "sofpipe rollback: one batch at most, not %d\n", fs.NArg())
		return ExitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return exitCode(stderr, err)
	}
	out, err := batch.Rollback(ctx, cfg, batch.Options{Version: version, Logger: common.logger(stderr)}, fs.Arg(0))
	if errors.Is(err, batch.ErrNoSuchWarehouse) {
		fmt.Fprintf(stderr, "sofpipe: %v\n", err)
		return ExitUsage
	}
	if err != nil {
		return exitCode(stderr, err)
	}
	fmt.Fprintf(stdout, "rollback %s: the warehouse of batch %s is published", out.Run.BatchID, out.Restored)
	if out.Replaced != "" {
		fmt.Fprintf(stdout, " (batch %s's is kept in warehouse/history/)", out.Replaced)
	}
	fmt.Fprintln(stdout)
	for _, e := range out.Exports {
		fmt.Fprintf(stdout, "  export  %s\n", e)
	}
	fmt.Fprintln(stdout, "The next batch builds the warehouse in full from the lake.")
	return ExitOK
}
