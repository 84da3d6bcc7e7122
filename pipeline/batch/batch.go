// Package batch runs one sofpipe batch end to end: it takes the workspace lock, reads every
// file waiting in the inbox into the lake (keeping the original bytes and a ledger record of
// each), builds and tests a new warehouse file, publishes it by rename, and exports the
// marts. Each step is safe to interrupt: the lake only counts files the ledger has
// committed, the warehouse is replaced only by a complete tested file, and a rerun picks up
// where the crash left off.
package batch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/history"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// Run statuses.
const (
	StatusRunning      = "running"
	StatusPublished    = "published"
	StatusUnchanged    = "unchanged" // nothing new: the published warehouse still holds
	StatusChecksFailed = "checks_failed"
	StatusFailed       = "failed"
	StatusAbandoned    = "abandoned"   // a run that never finished (crash, kill -9)
	StatusCancelled    = "cancelled"   // stopped on purpose (SIGTERM, shutdown) before it finished
	StatusRolledBack   = "rolled_back" // sofpipe rollback put a kept warehouse back
)

// Options are the parts of a run that do not come from the config.
type Options struct {
	Version string
	Logger  *slog.Logger
	// Now returns the time; tests pin it. Defaults to time.Now.
	Now func() time.Time
	// ForceBuild rebuilds the warehouse even when nothing changed.
	ForceBuild bool
	// LockHeld says the caller already holds the workspace lock (the daemon, which owns
	// the workspace for its whole life): Run does not take it.
	LockHeld bool
	// OnStart, when set, is called once the batch has its id and its run record, before
	// it reads anything.
	OnStart func(batchID string)
	// Progress, when set, is shown the reading of large files and the warehouse build's
	// steps (sofpipe run on a terminal; never the daemon, never the log).
	Progress Progress

	// afterClaim is a test hook: called after a file is claimed, before it is read.
	afterClaim func(rel string)
	// reached is a test hook: called at each named point of a run where a crash leaves
	// records to tidy (see crash_test.go).
	reached func(point string)
}

// reach calls the test hook for a named point of the run.
func (o Options) reach(point string) {
	if o.reached != nil {
		o.reached(point)
	}
}

// Outcome is what a run did and where its outputs are.
type Outcome struct {
	Run       ledger.Run
	Warehouse string
	Exports   []string
	Checks    []warehouse.Check
	Tables    map[string]int64
	// InboxSkipped counts the inbox entries this batch could not read as deliveries
	// (symbolic links and other non-regular files, unreadable files and folders); each
	// was logged.
	InboxSkipped int
}

// Run executes one batch in the workspace cfg names.
func Run(ctx context.Context, cfg config.Config, opt Options) (out Outcome, err error) {
	ws, release, err := begin(cfg, &opt)
	if err != nil {
		return out, err
	}
	defer release()

	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	b := &batch{cfg: cfg, opt: opt, ws: ws, led: led, log: opt.Logger, stage: "starting the batch"}
	// Temporary files of a crashed run go first, so that nothing below reads them.
	if err := b.cleanLeftovers(); err != nil {
		return out, b.failed(err)
	}
	runs, err := led.Runs()
	if err != nil {
		return out, err
	}
	if runs, err = b.recoverRuns(ctx, runs); err != nil {
		return out, b.failed(err)
	}
	b.earlier = runs
	b.run = ledger.Run{BatchID: newBatchID(opt.Now(), runs), Version: opt.Version, ProgramSHA256: programDigestIn(ws.State()), StartedAt: opt.Now().UTC(), Status: StatusRunning}
	b.log = opt.Logger.With("batch", b.run.BatchID)
	if err := led.SaveRun(b.run); err != nil {
		return out, b.failed(err)
	}
	defer func() {
		b.baseCopy.Discard() // a batch that did not build from it
		if err != nil {
			err = b.failed(err)
		}
		b.run.InboxSkipped = b.inboxSkipped
		b.run.FinishedAt = opt.Now().UTC()
		if err != nil && b.run.Status == StatusRunning {
			b.run.Status, b.run.Message = StatusFailed, oneLine(err.Error())
			if ctx.Err() != nil {
				b.run.Status = StatusCancelled
				b.run.Message = "cancelled before it finished (" + oneLine(context.Cause(ctx).Error()) + "); nothing of it was published, and the next batch takes up its files"
			}
		}
		if serr := led.SaveRun(b.run); serr != nil && err == nil {
			err = serr
		} else if serr == nil && b.reading != nil && b.reading.recorded {
			// The file being read when the run failed is in the ledger and in this
			// run's saved record: its claimed copy has done its job.
			os.Remove(b.reading.claimed)
		}
		out.Run = b.run
		out.InboxSkipped = b.inboxSkipped
	}()
	if opt.OnStart != nil {
		opt.OnStart(b.run.BatchID)
	}
	start := time.Now()
	if err := b.ingestInbox(ctx); err != nil {
		return out, err
	}
	if err := os.RemoveAll(filepath.Join(b.ws.Staging(), b.run.BatchID)); err != nil {
		return out, err
	}
	b.run.IngestSeconds = time.Since(start).Seconds()
	return b.buildAndPublish(ctx)
}

// begin readies what every operation on a workspace needs: the options' defaults, the
// workspace's folders, and its lock unless the caller holds it (release gives it back).
func begin(cfg config.Config, opt *Options) (ws workspace.Workspace, release func(), err error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if ws, err = workspace.New(cfg.Workspace); err != nil {
		return ws, nil, err
	}
	if err := ws.Init(); err != nil {
		return ws, nil, err
	}
	if opt.LockHeld {
		return ws, func() {}, nil
	}
	lock, err := ws.Lock()
	if err != nil {
		return ws, nil, err
	}
	return ws, func() { lock.Unlock() }, nil
}

// oneLine folds a message onto one line, as a run record and `sofpipe runs` show it
// (DuckDB's errors span several).
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

type batch struct {
	cfg config.Config
	opt Options
	ws  workspace.Workspace
	led *ledger.Ledger
	log *slog.Logger
	run ledger.Run
	// earlier are the runs before this one, as recoverRuns left them.
	earlier []ledger.Run
	// inboxSkipped counts inbox entries that cannot be read as deliveries.
	inboxSkipped int
	// stage says what the batch is doing, for the message of a failure (a full disk).
	stage string
	// reading is the inbox file being read, from its claim until its claimed copy is
	// removed.
	reading *claimedFile
	// ready is what the warehouse this batch published needs recorded, read from the
	// file before it was published (readyRecord).
	ready *readied
	// baseCopy is the copy of the published warehouse started while the inbox is read
	// (startBaseCopy), until the build takes it.
	baseCopy *warehouse.BaseCopy
}

// claimedFile is an inbox file a batch has claimed.
type claimedFile struct {
	original, claimed string // paths
	recorded          bool   // committed to the ledger and its delivery in b.run
}

// DiskFullError is a batch stopped by a full file system (or an exhausted quota).
type DiskFullError struct {
	Stage     string // what the batch was doing
	Workspace string
	Err       error
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("disk full while %s: %v; nothing of this batch was published, the published warehouse, exports, lake and ledger are as they were, and every delivery is in the inbox or stored and recorded: free space on the file system holding %s and run again", e.Stage, e.Err, e.Workspace)
}

func (e *DiskFullError) Unwrap() error { return e.Err }

// failed tidies up after a batch that stopped with err, so that it leaves nothing half
// done, and returns the error to report: the files it was writing are removed (staged
// lake files, a partial warehouse build and its spill, staged exports, incoming store
// copies, half-written records), a file it had claimed and not yet recorded is given back
// to the inbox under its name, and a full disk is said to be one.
func (b *batch) failed(err error) error {
	if r := b.reading; r != nil && !r.recorded {
		if _, statErr := os.Lstat(r.original); errors.Is(statErr, fs.ErrNotExist) {
			if rerr := os.Rename(r.claimed, r.original); rerr == nil {
				b.reading = nil
			}
		}
	}
	if cerr := b.cleanLeftovers(); cerr != nil {
		b.log.Warn("could not remove what the failed batch left", "error", cerr)
	}
	if fsutil.IsDiskFull(err) && !errors.As(err, new(*DiskFullError)) {
		return &DiskFullError{Stage: b.stage, Workspace: b.ws.Root, Err: err}
	}
	return err
}

// newBatchID is the UTC start time to the second, made unique against earlier runs; batch
// ids sort by time.
func newBatchID(now time.Time, runs []ledger.Run) string {
	base := now.UTC().Format("20060102T150405Z")
	id := base
	taken := map[string]bool{}
	for _, r := range runs {
		taken[r.BatchID] = true
	}
	for n := 2; taken[id]; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}

// cleanLeftovers removes what a crashed run left half-done: staged lake files and partial
// warehouse builds. Nothing there was ever published.
func (b *batch) cleanLeftovers() error {
	if err := os.RemoveAll(b.ws.Staging()); err != nil {
		return err
	}
	if err := os.MkdirAll(b.ws.Staging(), 0o755); err != nil {
		return err
	}
	for _, pattern := range []string{
		filepath.Join(b.ws.Warehouse(), ".build-*"),
		filepath.Join(b.ws.Store(), ".incoming-*"),
		filepath.Join(b.ws.Exports(), ".staging-*"),
		// fsutil.CreateAtomic's temporary files, of records and exports that were being
		// written when the process stopped.
		filepath.Join(b.ws.LedgerFiles(), ".*.tmp-*"),
		filepath.Join(b.ws.LedgerRuns(), ".*.tmp-*"),
		filepath.Join(b.ws.State(), ".*.tmp-*"),
		filepath.Join(b.ws.Exports(), ".*.tmp*"), // export.Run writes .<name>.tmp.<ext>
		filepath.Join(b.ws.Warehouse(), ".*.tmp-*"),
		// a scorecard staged for the lake's history by a batch that stopped before it
		// published (history.Stage)
		filepath.Join(history.Dir(b.ws.Lake()), ".*.tmp"),
	} {
		leftovers, err := filepath.Glob(pattern)
		if err != nil {
			return err
		}
		for _, p := range leftovers {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("batch: clean up after an earlier run: %w", err)
			}
		}
	}
	return nil
}
