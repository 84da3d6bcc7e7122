package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/serve"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr)
	var common commonFlags
	common.register(fs)
	force := fs.Bool("force", false, "rebuild the warehouse and exports even when nothing changed")
	metricsFile := fs.String("metrics-file", "", "after the batch, write its metrics to `PATH` (node_exporter textfile format, e.g. /var/lib/node_exporter/textfile/sofpipe.prom)")
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
	opt := batch.Options{Version: version, Logger: common.logger(stderr), ForceBuild: *force, Progress: batchProgress(stderr)}
	// A batch that sofpipe serve runs as its child holds the daemon's lock.
	ws, err := workspace.New(cfg.Workspace)
	if err != nil {
		return exitCode(stderr, err)
	}
	child, err := serve.ChildOfDaemon(ws)
	if err != nil {
		return exitCode(stderr, err)
	}
	if child != nil {
		defer child.Close()
		opt.LockHeld, opt.OnStart, opt.Progress = true, child.Started, nil
	}
	out, err := batch.Run(ctx, cfg, opt)
	printRunSummary(stdout, cfg.Workspace, out)
	// Not when another process owns the workspace: its batch is not this one, and the
	// holder (a daemon, or the next run) leaves the metrics.
	if *metricsFile != "" && !errors.Is(err, fsutil.ErrLocked) {
		if merr := writeMetricsFile(*metricsFile, cfg.Workspace); merr != nil {
			fmt.Fprintf(stderr, "sofpipe: %v\n", merr)
			if err == nil {
				return ExitFailure
			}
		}
	}
	if child != nil && err != nil {
		// Under the daemon the error is a log line like the others (a JSON stream stays
		// JSON); the daemon reads the outcome from the run record.
		opt.Logger.Error("batch failed", "error", err)
		return exitCode(io.Discard, err)
	}
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
	// Only what this batch wrote: a build whose data tests failed published nothing, and
	// a batch with nothing new left the warehouse and exports standing.
	abs, _ := filepath.Abs(workspace)
	fmt.Fprintln(w, "  outputs:")
	switch {
	case r.Status == batch.StatusUnchanged:
		fmt.Fprintf(w, "    warehouse  %s (unchanged)\n", r.Warehouse)
	case out.Warehouse != "":
		fmt.Fprintf(w, "    warehouse  %s\n", out.Warehouse)
	default:
		fmt.Fprintln(w, "    warehouse  none published: the last published warehouse and exports stand")
	}
	for _, e := range out.Exports {
		fmt.Fprintf(w, "    export     %s\n", e)
	}
	if r.FilesNew+r.FilesRejected+r.FilesQuarantined > 0 {
		fmt.Fprintf(w, "    lake       %s\n", filepath.Join(abs, "lake"))
	}
	if r.RowsRejected > 0 || r.FilesRejected+r.FilesQuarantined > 0 {
		fmt.Fprintf(w, "    rejects    %s\n", filepath.Join(abs, "lake", "_rejects"))
	}
	if out.InboxSkipped > 0 {
		fmt.Fprintf(w, "  inbox: %d entries could not be read as deliveries (see the log)\n", out.InboxSkipped)
	}
}
