package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
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
// these writes leaves them to the next run instead of losing them. When the live file is
// the one it last recorded (the same inode, size and modification time, kept in
// state/recorded.json) it does nothing: a night with nothing new opens no DuckDB file,
// and a daemon does not open one every time its schedule ticks. A file renamed over the
// live one by hand is another inode, and is recorded.
func recordPublished(ctx context.Context, ws workspace.Workspace, version string, log *slog.Logger) error {
	live := ws.WarehouseFile()
	info, err := os.Stat(live)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	stampPath := filepath.Join(ws.State(), "recorded.json")
	stamp := identityStamp(info)
	if prev, err := os.ReadFile(stampPath); err == nil && string(prev) == stamp {
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
	if !writeReport(ctx, ws, live, id, log) {
		return nil // tried again next time
	}
	return fsutil.WriteFileAtomic(stampPath, []byte(stamp), 0o644)
}

// identityStamp is the file's fsutil.Identity as JSON, to be compared as text (its size and
// modification time alone where the system gives no identity).
func identityStamp(info os.FileInfo) string {
	id, ok := fsutil.IdentityOf(info)
	if !ok {
		id = fsutil.Identity{Size: info.Size(), MtimeNs: info.ModTime().UnixNano()}
	}
	b, _ := json.Marshal(id)
	return string(b) + "\n"
}

// writeReport makes sure reports/<id>/index.html holds the page of the live warehouse of
// batch id, and reports/latest/ the same page. A page already there is not made again
// (the page is a function of the warehouse, which a batch never changes once published).
// A report that cannot be made is logged, not fatal: the warehouse and exports are
// published, and the next batch (or sofpipe report) tries again. It reports whether the
// page and reports/latest/ are in place.
func writeReport(ctx context.Context, ws workspace.Workspace, live, id string, log *slog.Logger) bool {
	page, err := os.ReadFile(report.PagePath(ws.Reports(), id))
	if err == nil {
		if err := report.PublishLatest(ws.Reports(), page); err != nil {
			log.Warn("report: reports/latest not updated", "error", err)
			return false
		}
		return true
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
		return false
	}
	log.Info("report written", "path", report.PagePath(ws.Reports(), id), "bytes", len(page), "seconds", time.Since(start).Seconds())
	return true
}
