package batch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/history"
	"github.com/evaluation-taskforce/sofpipe/pipeline/report"
	"github.com/evaluation-taskforce/sofpipe/pipeline/reportdata"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// recordPublished brings what depends on the live warehouse up to date with it: the
// lake's scorecard history holds its batch's scorecard, the batches after it are marked
// withdrawn (history.Settle: it was put back), and reports/ holds its page, with
// reports/latest/ showing it. It is called once a batch has published, after a rollback,
// and at the start of every batch, so that a process stopped between the publish and
// these writes leaves them to the next run instead of losing them. Each write is skipped
// when already done, so the call costs one read-only open of the live file.
func recordPublished(ctx context.Context, ws workspace.Workspace, version string, log *slog.Logger) error {
	live := ws.WarehouseFile()
	if _, err := os.Stat(live); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	id, err := warehouse.BatchOf(ctx, live)
	if err != nil {
		return fmt.Errorf("batch: scorecard history: %w", err)
	}
	wrote, err := history.Record(ctx, live, ws.Lake(), id)
	if err != nil {
		return err
	}
	if wrote {
		log.Info("scorecard kept in the lake's history", "published_batch", id)
	}
	if err := history.Settle(ws.Lake(), id); err != nil {
		return err
	}
	return writeReport(ctx, ws, live, id, log)
}

// writeReport makes sure reports/<id>/index.html holds the page of the live warehouse of
// batch id, and reports/latest/ the same page. A page already there is not made again
// (the page is a function of the warehouse, which a batch never changes once published).
// A report that cannot be made is logged, not fatal: the warehouse and exports are
// published, and the next batch (or sofpipe report) tries again.
func writeReport(ctx context.Context, ws workspace.Workspace, live, id string, log *slog.Logger) error {
	page, err := os.ReadFile(report.PagePath(ws.Reports(), id))
	if err == nil {
		if err := report.PublishLatest(ws.Reports(), page); err != nil {
			log.Warn("report: reports/latest not updated", "error", err)
		}
		return nil
	}
	start := time.Now()
	data, err := reportdata.Load(ctx, live)
	if err == nil {
		page, err = report.Bytes(data)
	}
	if err == nil {
		err = report.Publish(ws.Reports(), id, page, true)
	}
	if err != nil {
		log.Warn("report not written; the next batch tries again", "published_batch", id, "error", err)
		return nil
	}
	log.Info("report written", "path", report.PagePath(ws.Reports(), id), "bytes", len(page), "seconds", time.Since(start).Seconds())
	return nil
}
