package main

import (
	"fmt"

	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/metrics"
	"github.com/evaluation-taskforce/sofpipe/pipeline/watch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// writeMetricsFile leaves the batch metrics of the workspace at root in path, for
// node_exporter's textfile collector: the timer install is watched with the same metrics
// as the daemon. It runs after the batch, whatever the batch's outcome, so a failure
// shows in sofpipe_batches_total{status="failed"}.
func writeMetricsFile(path, root string) error {
	ws, err := workspace.New(root)
	if err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	runs, err := led.Runs()
	if err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	files, err := led.Files()
	if err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	snap, err := watch.Scan(ws.Inbox())
	if err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	return metrics.Textfile(path, runs, files, len(snap.Files), len(snap.Skipped))
}
