package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr)
	var common commonFlags
	common.register(fs)
	force := fs.Bool("force", false, "rebuild the warehouse and exports even when nothing changed")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sofpipe run: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return exitCode(stderr, err)
	}
	out, err := batch.Run(ctx, cfg, batch.Options{Version: version, Logger: common.logger(stderr), ForceBuild: *force})
	printRunSummary(stdout, cfg.Workspace, out)
	return exitCode(stderr, err)
}

func printRunSummary(w io.Writer, workspace string, out batch.Outcome) {
	r := out.Run
	if r.BatchID == "" {
		return
	}
	fmt.Fprintf(w, "batch %s: %s\n", r.BatchID, r.Status)
	fmt.Fprintf(w, "  files: %d new, %d already seen, %d rejected, %d quarantined\n", r.FilesNew, r.FilesDuplicate, r.FilesRejected, r.FilesQuarantined)
	fmt.Fprintf(w, "  rows:  %d read = %d accepted + %d rejected\n", r.RowsRead, r.RowsAccepted, r.RowsRejected)
	if r.ChecksFailed+r.ChecksWarned > 0 {
		fmt.Fprintf(w, "  data tests: %d failed, %d warnings (see _checks)\n", r.ChecksFailed, r.ChecksWarned)
	}
	if len(out.Tables) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, "  tables:")
		for _, t := range warehouse.AnalystTables {
			if n, ok := out.Tables[t]; ok {
				fmt.Fprintf(tw, "    %s\t%d\t\n", t, n)
			}
		}
		tw.Flush()
	}
	abs, _ := filepath.Abs(workspace)
	fmt.Fprintln(w, "  outputs:")
	fmt.Fprintf(w, "    warehouse  %s\n", out.Warehouse)
	for _, e := range out.Exports {
		fmt.Fprintf(w, "    export     %s\n", e)
	}
	fmt.Fprintf(w, "    lake       %s\n", filepath.Join(abs, "lake"))
	fmt.Fprintf(w, "    rejects    %s\n", filepath.Join(abs, "lake", "_rejects"))
}
