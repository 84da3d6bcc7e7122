// Package batch runs one sofpipe batch end to end: it takes the workspace lock, reads every
// file waiting in the inbox into the lake (keeping the original bytes and a ledger record of
// each), builds and tests a new warehouse file, publishes it by rename, and exports the
// marts. Each step is safe to interrupt: the lake only counts files the ledger has
// committed, the warehouse is replaced only by a complete tested file, and a rerun picks up
// where the crash left off.
package batch

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
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
	StatusAbandoned    = "abandoned" // a run that never finished (crash, kill -9)
)

// Options are the parts of a run that do not come from the config.
type Options struct {
	Version string
	Logger  *slog.Logger
	// Now returns the time; tests pin it. Defaults to time.Now.
	Now func() time.Time
	// ForceBuild rebuilds the warehouse even when nothing changed.
	ForceBuild bool
}

// Outcome is what a run did and where its outputs are.
type Outcome struct {
	Run       ledger.Run
	Warehouse string
	Exports   []string
	Checks    []warehouse.Check
	Tables    map[string]int64
}

// Run executes one batch in the workspace cfg names.
func Run(ctx context.Context, cfg config.Config, opt Options) (out Outcome, err error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	ws, err := workspace.New(cfg.Workspace)
	if err != nil {
		return out, err
	}
	if err := ws.Init(); err != nil {
		return out, err
	}
	lock, err := ws.Lock()
	if err != nil {
		return out, err
	}
	defer lock.Unlock()

	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	runs, err := led.Runs()
	if err != nil {
		return out, err
	}
	if err := markAbandoned(led, runs); err != nil {
		return out, err
	}
	b := &batch{cfg: cfg, opt: opt, ws: ws, led: led}
	b.run = ledger.Run{BatchID: newBatchID(opt.Now(), runs), Version: opt.Version, StartedAt: opt.Now().UTC(), Status: StatusRunning}
	b.log = opt.Logger.With("batch", b.run.BatchID)
	if err := led.SaveRun(b.run); err != nil {
		return out, err
	}
	defer func() {
		b.run.FinishedAt = opt.Now().UTC()
		if err != nil && b.run.Status == StatusRunning {
			b.run.Status = StatusFailed
			b.run.Message = err.Error()
		}
		if serr := led.SaveRun(b.run); serr != nil && err == nil {
			err = serr
		}
		out.Run = b.run
	}()
	if err := b.cleanLeftovers(); err != nil {
		return out, err
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

type batch struct {
	cfg config.Config
	opt Options
	ws  workspace.Workspace
	led *ledger.Ledger
	log *slog.Logger
	run ledger.Run
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

func markAbandoned(led *ledger.Ledger, runs []ledger.Run) error {
	for _, r := range runs {
		if r.Status == StatusRunning {
			r.Status = StatusAbandoned
			r.Message = "the process stopped before the run finished; the next run picked up its work"
			if err := led.SaveRun(r); err != nil {
				return err
			}
		}
	}
	return nil
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
