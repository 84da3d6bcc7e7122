package batch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

// recoverRuns completes the records of runs that stopped without finishing (a crash, a
// kill -9, a power cut), so that the ledger and the run history say what those runs did,
// as a run that was not stopped would have left them:
//
//   - a file committed to the ledger whose delivery the run had not yet recorded is
//     recorded as that run's delivery (else the rerun would count the same delivery again,
//     as a duplicate);
//   - a run whose warehouse was published before it stopped is recorded as published, with
//     what the published file says of its build and data tests (else `sofpipe runs` would
//     call abandoned the batch the warehouse's _runs calls published), and
//     state/published.json is brought up to date with it;
//   - any other is recorded as abandoned;
//   - and the latest run, when it recorded itself failed although its warehouse is the
//     live one (it failed after publishing), is recorded as published, as above.
//
// Files such a run had claimed in the inbox are dealt with by ingestInbox: removed when
// their delivery is recorded, read again otherwise. It returns runs as recorded now.
func (b *batch) recoverRuns(ctx context.Context, runs []ledger.Run) ([]ledger.Run, error) {
	var stopped []int
	for i, r := range runs {
		if r.Status == StatusRunning {
			stopped = append(stopped, i)
		}
	}
	// A run that failed after its warehouse went live (the disk filled as it wrote
	// state/, say) recorded itself failed; the live file's _runs calls it published.
	// Only the latest run can be that one, and only then is the live file opened.
	var failedLive bool
	if n := len(runs); n > 0 && runs[n-1].Status == StatusFailed {
		stopped, failedLive = append(stopped, n-1), true
	}
	if len(stopped) == 0 {
		return runs, nil
	}
	files, err := b.led.Files()
	if err != nil {
		return nil, err
	}
	live, err := b.liveStamp(ctx)
	if err != nil {
		return nil, err
	}
	for _, i := range stopped {
		r := &runs[i]
		if r.Status == StatusFailed {
			if !failedLive || live == nil || live.BatchID != r.BatchID {
				continue // it failed before publishing: its record stands
			}
			if err := b.recordLive(r, live, "published; then it failed ("+r.Message+"), and the next batch completed its record"); err != nil {
				return nil, err
			}
			if err := b.led.SaveRun(*r); err != nil {
				return nil, err
			}
			b.log.Warn("an earlier batch failed after it published: its record is completed", "earlier_batch", r.BatchID)
			continue
		}
		recorded := map[string]bool{}
		for _, d := range r.Deliveries {
			recorded[d.SHA256] = true
		}
		for _, f := range files {
			if f.BatchID != r.BatchID || recorded[f.SHA256] {
				continue
			}
			r.Deliveries = append(r.Deliveries, ledger.Delivery{SHA256: f.SHA256, SourcePath: f.SourcePath, ReceivedAt: f.ReceivedAt, SizeBytes: f.SizeBytes, Status: f.Status})
			countFile(r, f)
		}
		if r.RollbackTo != "" && live != nil && live.BatchID == r.RollbackTo {
			// A rollback stopped after its swap: the warehouse it put back is live. The
			// state says so (this batch then builds in full and exports anew).
			r.Status = StatusRolledBack
			r.Message = fmt.Sprintf("the warehouse of batch %s was put back; the rollback stopped before it finished, and the next batch completed its record", r.RollbackTo)
			r.Warehouse = b.ws.WarehouseFile()
			if err := writeState(filepath.Join(b.ws.State(), "published.json"), published{BatchID: r.RollbackTo, At: b.opt.Now().UTC(), RolledBack: true}); err != nil {
				return nil, err
			}
		} else if live != nil && live.BatchID == r.BatchID {
			if err := b.recordLive(r, live, "the process stopped after publishing, before it finished its record; the record was completed by the next batch"); err != nil {
				return nil, err
			}
		} else {
			r.Status = StatusAbandoned
			r.Message = "the process stopped before the run finished; the next run picked up its work"
		}
		if err := b.led.SaveRun(*r); err != nil {
			return nil, err
		}
		b.log.Warn("an earlier batch stopped part way: its record is completed", "earlier_batch", r.BatchID, "status", r.Status, "deliveries", len(r.Deliveries))
	}
	return runs, nil
}

// recordLive records r as the run that published the live warehouse, as its own _build
// and _runs describe it, and brings state/published.json up to date with it.
func (b *batch) recordLive(r *ledger.Run, live *warehouse.Stamp, message string) error {
	r.Status = StatusPublished
	r.Message = message
	r.Warehouse = b.ws.WarehouseFile()
	r.WarehouseBuild = live.Kind
	r.Fingerprint = live.Fingerprint
	r.ChecksFailed, r.ChecksWarned = live.ChecksFailed, live.ChecksWarned
	return b.adoptLive(live)
}

// countFile adds a committed file to a run's counts, as ingestOne does.
func countFile(r *ledger.Run, f ledger.File) {
	r.RowsRead += f.RowsRead
	r.RowsAccepted += f.RowsAccepted
	r.RowsRejected += f.RowsRejected
	switch f.Status {
	case ledger.StatusIngested:
		r.FilesNew++
	case ledger.StatusRejected:
		r.FilesRejected++
	case ledger.StatusQuarantined:
		r.FilesQuarantined++
	}
}

// liveStamp reads what the published warehouse says of itself, or nil when there is none.
func (b *batch) liveStamp(ctx context.Context) (*warehouse.Stamp, error) {
	if _, err := os.Stat(b.ws.WarehouseFile()); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	s, err := warehouse.ReadStamp(ctx, b.ws.WarehouseFile())
	if err != nil {
		return nil, fmt.Errorf("batch: the published warehouse: %w", err)
	}
	return &s, nil
}

// adoptLive records the published warehouse in state/published.json when a run published
// it and stopped before it could: the next batch then sees it as the base it is.
func (b *batch) adoptLive(live *warehouse.Stamp) error {
	p := filepath.Join(b.ws.State(), "published.json")
	pub, err := readState(p)
	if err != nil {
		return err
	}
	if pub.BatchID == live.BatchID {
		return nil
	}
	sum, err := fileSHA256(b.ws.WarehouseFile())
	if err != nil {
		return err
	}
	return writeState(p, published{BatchID: live.BatchID, Fingerprint: live.Fingerprint, At: b.opt.Now().UTC(), WarehouseSHA256: sum})
}
