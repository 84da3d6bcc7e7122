package batch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// StatusReread is the status of a run that read stored originals again (Reread).
const StatusReread = "reread"

// RereadSelection chooses the stored originals Reread reads again; a file must match
// every field that is set, and at least one must be.
type RereadSelection struct {
	Dataset string    // as the file's record has it, or as today's config routes it
	Profile string    // the profile the file was read with, or that today's config routes it to
	Since   time.Time // received at or after
	Files   []string  // SHA-256s, or unambiguous prefixes of at least 8 hex digits
}

func (s RereadSelection) empty() bool {
	return s.Dataset == "" && s.Profile == "" && s.Since.IsZero() && len(s.Files) == 0
}

// Reread reads the selected stored originals again with today's config (after a profile
// was corrected, say), as deliveries of the same bytes: its rows replace what the same file
// gave before, and it keeps its place in the order of arrival, so that a department's
// later correction still supersedes it (given a new place, a reread of an old return
// would undo the corrections made since). The ledger record keeps the earlier reading
// under Previous. The run is recorded with status reread; the warehouse is not
// built: the next batch builds it, in full (a record it was built from has changed).
func Reread(ctx context.Context, cfg config.Config, opt Options, sel RereadSelection) (out Outcome, err error) {
	if sel.empty() {
		return out, errors.New("reread: say which files: a dataset, a profile, a date or the files' SHA-256")
	}
	ws, release, err := begin(cfg, &opt)
	if err != nil {
		return out, err
	}
	defer release()
	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	b := &batch{cfg: cfg, opt: opt, ws: ws, led: led, log: opt.Logger}
	if err := b.cleanLeftovers(); err != nil {
		return out, err
	}
	runs, err := led.Runs()
	if err != nil {
		return out, err
	}
	if runs, err = b.recoverRuns(ctx, runs); err != nil {
		return out, err
	}
	files, err := led.Files()
	if err != nil {
		return out, err
	}
	chosen, err := b.selectReread(files, sel)
	if err != nil {
		return out, err
	}
	b.run = ledger.Run{BatchID: newBatchID(opt.Now(), runs), Version: opt.Version, ProgramSHA256: programDigest(), StartedAt: opt.Now().UTC(), Status: StatusRunning}
	b.log = opt.Logger.With("batch", b.run.BatchID)
	if err := led.SaveRun(b.run); err != nil {
		return out, err
	}
	defer func() {
		b.run.FinishedAt = opt.Now().UTC()
		if err != nil && b.run.Status == StatusRunning {
			b.run.Status, b.run.Message = StatusFailed, oneLine(err.Error())
		}
		if serr := led.SaveRun(b.run); serr != nil && err == nil {
			err = serr
		}
		out.Run = b.run
	}()
	start := time.Now()
	for _, old := range chosen {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		rec, err := b.readAgain(ctx, old, old.Arrival)
		if err != nil {
			return out, err
		}
		b.run.Deliveries = append(b.run.Deliveries, ledger.Delivery{SHA256: rec.SHA256, SourcePath: rec.SourcePath, SourcePathBytes: rec.SourcePathBytes, ReceivedAt: rec.ReceivedAt, SizeBytes: rec.SizeBytes, Status: rec.Status})
		countFile(&b.run, rec)
		if err := led.SaveRun(b.run); err != nil {
			return out, err
		}
		b.log.Info("file read again", "file", rec.SourcePath, "status", rec.Status, "was", old.Status, "accepted", rec.RowsAccepted, "was_accepted", old.RowsAccepted, "rejected", rec.RowsRejected, "was_rejected", old.RowsRejected)
	}
	if err := os.RemoveAll(filepath.Join(ws.Staging(), b.run.BatchID)); err != nil {
		return out, err
	}
	b.run.IngestSeconds = time.Since(start).Seconds()
	b.run.Status = StatusReread
	b.run.Message = fmt.Sprintf("%d stored original(s) read again with today's config; the next batch builds the warehouse", len(chosen))
	return out, nil
}

// selectReread returns the records the selection names, in arrival order.
func (b *batch) selectReread(files []ledger.File, sel RereadSelection) ([]ledger.File, error) {
	for _, p := range sel.Files {
		if len(p) < 8 {
			return nil, fmt.Errorf("reread: %q: give at least 8 hex digits of a file's SHA-256", p)
		}
		n := 0
		for _, f := range files {
			if strings.HasPrefix(f.SHA256, strings.ToLower(p)) {
				n++
			}
		}
		switch {
		case n == 0:
			return nil, fmt.Errorf("reread: no file in the ledger has a SHA-256 starting %s", p)
		case n > 1:
			return nil, fmt.Errorf("reread: %d files have a SHA-256 starting %s: give more digits", n, p)
		}
	}
	var chosen []ledger.File
	for _, f := range files {
		ds, profile := b.route(f.SourcePath)
		routed, routedProfile := "", ""
		if ds != nil {
			routed = ds.Name
		}
		if profile != nil {
			routedProfile = profile.Name
		}
		switch {
		case sel.Dataset != "" && f.Dataset != sel.Dataset && routed != sel.Dataset:
		case sel.Profile != "" && f.Profile != sel.Profile && routedProfile != sel.Profile:
		case !sel.Since.IsZero() && f.ReceivedAt.Before(sel.Since):
		case len(sel.Files) > 0 && !slices.ContainsFunc(sel.Files, func(p string) bool { return strings.HasPrefix(f.SHA256, strings.ToLower(p)) }):
		case f.Damage != "":
			b.log.Warn("not read again: its stored original is damaged", "file", f.SourcePath, "sha256", f.SHA256)
		default:
			if _, err := os.Stat(b.ws.StorePath(f.SHA256)); err != nil {
				return nil, fmt.Errorf("reread: the original of %s: %w", f.SourcePath, err)
			}
			chosen = append(chosen, f)
		}
	}
	if len(chosen) == 0 {
		return nil, errors.New("reread: no stored original matches")
	}
	return chosen, nil
}

// readAgain reads old's stored original with today's config as a delivery at arrival and
// commits the new record, keeping old as its previous reading; lake files of the old
// reading that the new one did not write again are removed once it is committed.
func (b *batch) readAgain(ctx context.Context, old ledger.File, arrival int64) (ledger.File, error) {
	rec := ledger.File{SHA256: old.SHA256, SourcePath: old.SourcePath, SourcePathBytes: old.SourcePathBytes, Arrival: arrival,
		BatchID: b.run.BatchID, ReceivedAt: b.opt.Now().UTC(), SizeBytes: old.SizeBytes}
	previous := old
	previous.Previous = nil
	rec.Previous = append(slices.Clone(old.Previous), previous)
	ds, profile := b.route(old.SourcePath)
	if profile != nil {
		rec.Profile = profile.Name
	}
	if ds == nil {
		rec.Status = ledger.StatusRejected
		rec.Reason = string(ingest.ReasonUnknownDataset)
		rec.Message = fmt.Sprintf("no source profile matches %q and its folder names no dataset (one of %s)", old.SourcePath, strings.Join(contract.Names(), ", "))
	} else {
		rec.Dataset = ds.Name
		if _, err := b.readIntoLake(ctx, &rec, ds, profile); err != nil {
			return rec, err
		}
	}
	if err := b.led.Commit(rec); err != nil {
		return rec, err
	}
	for _, p := range old.LakePaths() {
		if !slices.Contains(rec.LakePaths(), p) {
			if err := os.Remove(filepath.Join(b.ws.Lake(), filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return rec, err
			}
		}
	}
	return rec, nil
}
