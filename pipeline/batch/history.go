package batch

import (
	"context"
	"database/sql"
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
// the one it last recorded (the same fsutil.Identity, kept in state/recorded.json) it does
// nothing: a night with nothing new opens no DuckDB file, and a daemon does not open one
// every time its schedule ticks. A file renamed over the live one by hand is another
// inode, and is recorded.
//
// ready, when not nil, is what the batch that just published read from its file before
// publishing it (readyRecord); it is used while the live file is still that file, and
// then the live file is not opened at all.
func recordPublished(ctx context.Context, ws workspace.Workspace, log *slog.Logger, ready *readied) error {
	live := ws.WarehouseFile()
	info, err := os.Stat(live)
	if errors.Is(err, fs.ErrNotExist) {
		ready.discard()
		return nil
	}
	if err != nil {
		ready.discard()
		return err
	}
	stampPath := filepath.Join(ws.State(), "recorded.json")
	stamp := identityStamp(info)
	if prev, err := os.ReadFile(stampPath); err == nil && string(prev) == stamp {
		ready.discard()
		return nil
	}
	var id string
	var wrote bool
	var render func() ([]byte, error)
	if id2, ok := ready.isLive(info); ok {
		id = id2
		if wrote, err = ready.history.Commit(); err != nil {
			return err
		}
		render = func() ([]byte, error) { return ready.page, ready.pageErr }
	} else {
		ready.discard()
		// One read-only open for all three: each open of a DuckDB file costs a night a
		// hundredth of a second or more.
		db, err := warehouse.Open(live, true)
		if err != nil {
			return fmt.Errorf("batch: scorecard history: %w", err)
		}
		defer db.Close()
		if id, err = warehouse.ReadBatch(ctx, db); err != nil {
			return fmt.Errorf("batch: scorecard history: %s: %w", live, err)
		}
		if wrote, err = history.Record(ctx, db, ws.Lake(), id); err != nil {
			return err
		}
		render = func() ([]byte, error) { return renderReport(ctx, db) }
	}
	if wrote {
		log.Info("scorecard kept in the lake's history", "published_batch", id)
	}
	if err := history.Settle(ws.Lake(), id); err != nil {
		return err
	}
	if !writeReport(ws, id, log, render) {
		return nil // tried again next time
	}
	return fsutil.WriteFileAtomic(stampPath, []byte(stamp), 0o644)
}

// readied is what recordPublished needs of a warehouse, read from the built file before
// it was published: its scorecard, staged beside the lake's history, and its report page.
type readied struct {
	live    warehouse.LiveFile // the batch and, once published, the file's identity
	history *history.Staged
	page    []byte
	pageErr error
}

// readyRecord reads from the finished build, open in db, what recordPublished will need
// once it is live as batch's warehouse. It runs while the file's digest is taken and its
// exports are written, so that a night does not wait for it after the publish.
func readyRecord(ctx context.Context, ws workspace.Workspace, db *sql.DB, batch string) (*readied, error) {
	r := &readied{live: warehouse.LiveFile{Batch: batch}}
	var err error
	if r.history, err = history.Stage(ctx, db, ws.Lake(), batch); err != nil {
		return nil, err
	}
	r.page, r.pageErr = renderReport(ctx, db)
	return r, nil
}

// isLive reports whether the live file, as info describes it, is the file r was read
// from, and its batch.
func (r *readied) isLive(info os.FileInfo) (string, bool) {
	if r == nil {
		return "", false
	}
	return r.live.Batch, r.live.Is(info)
}

// discard drops what r staged; r may be nil.
func (r *readied) discard() {
	if r != nil && r.history != nil {
		r.history.Discard()
	}
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
// batch id, made by render, and reports/latest/ the same page. A page already there is
// not made again (the page is a function of the warehouse, which a batch never changes
// once published). A report that cannot be made is logged, not fatal: the warehouse and
// exports are published, and the next batch (or sofpipe report) tries again. It reports
// whether the page and reports/latest/ are in place.
func writeReport(ws workspace.Workspace, id string, log *slog.Logger, render func() ([]byte, error)) bool {
	page, err := os.ReadFile(report.PagePath(ws.Reports(), id))
	if err == nil {
		if err := report.PublishLatest(ws.Reports(), page); err != nil {
			log.Warn("report: reports/latest not updated", "error", err)
			return false
		}
		return true
	}
	start := time.Now()
	page, err = render()
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

// renderReport makes the report page of the warehouse open in db.
func renderReport(ctx context.Context, db *sql.DB) ([]byte, error) {
	data, err := reportdata.LoadFrom(ctx, db)
	if err != nil {
		return nil, err
	}
	return report.Bytes(data)
}
