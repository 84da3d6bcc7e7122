package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
)

func rereadCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("reread", stderr)
	var common commonFlags
	common.register(fs)
	var sel batch.RereadSelection
	fs.StringVar(&sel.Dataset, "dataset", "", "the files of this dataset")
	fs.StringVar(&sel.Profile, "profile", "", "the files read with, or routed today to, this source profile")
	since := fs.String("since", "", "the files received on or after this date (YYYY-MM-DD, UTC)")
	files := fs.String("files", "", "the files with these SHA-256s (comma-separated; 8 or more leading hex digits each); more may follow as arguments")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sofpipe reread [--dataset D] [--profile P] [--since DATE] [--files SHA,…] [SHA…]")
		fmt.Fprintln(stderr, "\nReads the chosen stored originals again with today's config, as new deliveries of the same")
		fmt.Fprintln(stderr, "bytes: their rows replace what the same files gave before; the ledger keeps both readings.")
		fmt.Fprintln(stderr, "The next batch publishes the result.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *files != "" {
		sel.Files = append(sel.Files, strings.Split(*files, ",")...)
	}
	sel.Files = append(sel.Files, fs.Args()...)
	if *since != "" {
		t, err := time.Parse("2006-01-02", *since)
		if err != nil {
			fmt.Fprintf(stderr, "sofpipe reread: --since %q is not a date YYYY-MM-DD\n", *since)
			return ExitUsage
		}
		sel.Since = t
	}
	if sel.Dataset == "" && sel.Profile == "" && sel.Since.IsZero() && len(sel.Files) == 0 {
		fmt.Fprintln(stderr, "sofpipe reread: say which files: --dataset, --profile, --since or --files")
		return ExitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return exitCode(stderr, err)
	}
	out, err := batch.Reread(ctx, cfg, batch.Options{Version: version, Logger: common.logger(stderr)}, sel)
	r := out.Run
	if r.BatchID != "" {
		fmt.Fprintf(stdout, "reread %s: %s\n", r.BatchID, r.Status)
		for _, d := range r.Deliveries {
			fmt.Fprintf(stdout, "  %s  %s  %s\n", d.SHA256[:12], d.Status, d.SourcePath)
		}
		fmt.Fprintf(stdout, "  rows:  %d read = %d accepted + %d rejected\n", r.RowsRead, r.RowsAccepted, r.RowsRejected)
		if err == nil {
			fmt.Fprintln(stdout, "The next batch (sofpipe run) builds and publishes the warehouse from them.")
		}
	}
	return exitCode(stderr, err)
}
