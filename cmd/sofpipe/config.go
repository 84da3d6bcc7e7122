package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// configCommand is `sofpipe config check`: the effective config, defaults filled in, as
// JSON; exit 2 when the file is wrong, naming each key.
func configCommand(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: sofpipe config check [--config FILE] [--workspace DIR]")
		return ExitUsage
	}
	fs := newFlagSet("config check", stderr)
	var common commonFlags
	common.register(fs)
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sofpipe config check: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	cfg, err := common.load()
	if err != nil {
		fmt.Fprintf(stderr, "sofpipe config check: %v\n", err)
		return ExitUsage
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return exitCode(stderr, err)
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return ExitOK
}
