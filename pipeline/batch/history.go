package batch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/evaluation-taskforce/sofpipe/pipeline/history"
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

// writeReport is a placeholder until the report lands.
func writeReport(ctx context.Context, ws workspace.Workspace, live, id string, log *slog.Logger) error {
	return nil
}
