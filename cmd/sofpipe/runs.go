package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

func runsCommand(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("runs", stderr)
	var common commonFlags
	common.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := common.load()
	if err != nil {
		return exitCode(stderr, err)
	}
	ws, err := workspace.New(cfg.Workspace)
	if err != nil {
		return exitCode(stderr, err)
	}
	runs, err := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns()).Runs()
	if err != nil {
		return exitCode(stderr, err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BATCH\tSTATUS\tBUILD\tSTARTED\tSECONDS\tFILES NEW\tDUPLICATE\tREJECTED\tROWS READ\tACCEPTED\tREJECTED ROWS\tMESSAGE")
	for _, r := range runs {
		secs := 0.0
		if !r.FinishedAt.IsZero() {
			secs = r.FinishedAt.Sub(r.StartedAt).Seconds()
		}
		build := r.WarehouseBuild
		if build == "" {
			build = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r.BatchID, r.Status, build, r.StartedAt.Format("2006-01-02 15:04:05Z"), secs,
			r.FilesNew, r.FilesDuplicate, r.FilesRejected+r.FilesQuarantined, r.RowsRead, r.RowsAccepted, r.RowsRejected, r.Message)
	}
	tw.Flush()
	return ExitOK
}
