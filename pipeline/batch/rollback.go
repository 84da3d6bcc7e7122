package batch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/export"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// ErrNoSuchWarehouse means a rollback named a warehouse that is not kept.
var ErrNoSuchWarehouse = errors.New("no such kept warehouse")

// RollbackOutcome is what Rollback did.
type RollbackOutcome struct {
	Run ledger.Run
	// Restored is the batch whose warehouse is live now; Replaced the one it replaced
	// (kept in the history), empty when there was none.
	Restored, Replaced string
	Exports            []string
}

// Rollback puts the warehouse that batch target built, kept in warehouse/history/, back in
// place of the live one, by rename (an empty target: the newest kept). The live one goes
// into the history under the batch its own build record names. The exports are written
// again from the restored warehouse, state/published.json records it with no digest, so
// that the next batch builds in full from the lake (nothing is built on a file that was put
// back), and a run record with status rolled_back says what was done (sofpipe runs, and
// the next build's _runs).
func Rollback(ctx context.Context, cfg config.Config, opt Options, target string) (out RollbackOutcome, err error) {
	ws, release, err := begin(cfg, &opt)
	if err != nil {
		return out, err
	}
	defer release()
	// A rollback stopped after its swap has taken effect: finished, not done again on top
	// (which, with no batch named, would put back the very warehouse it took away).
	if done, err := finishStoppedRollback(ctx, ws, cfg, opt, target); err != nil || done.Run.BatchID != "" {
		return done, err
	}
	kept, err := warehouse.History(ws.WarehouseHistory())
	if err != nil {
		return out, fmt.Errorf("rollback: %w", err)
	}
	var chosen string
	var names []string
	for _, p := range kept {
		b, _ := warehouse.HistoryBatch(p)
		names = append(names, b)
		if chosen == "" && (target == "" || b == target) {
			chosen = p
		}
	}
	if chosen == "" {
		if len(names) == 0 {
			return out, fmt.Errorf("rollback: %w: warehouse/history/ is empty (keep_warehouses %d)", ErrNoSuchWarehouse, cfg.KeepWarehouses)
		}
		return out, fmt.Errorf("rollback: %w for batch %q: kept are %s", ErrNoSuchWarehouse, target, strings.Join(names, ", "))
	}
	stamp, err := warehouse.ReadStamp(ctx, chosen)
	if err != nil {
		return out, fmt.Errorf("rollback: %w", err)
	}
	if b, _ := warehouse.HistoryBatch(chosen); b != stamp.BatchID {
		return out, fmt.Errorf("rollback: %s holds the warehouse of batch %q, not %q: it was renamed by hand; rename it sof-%s.duckdb", chosen, stamp.BatchID, b, stamp.BatchID)
	}
	out.Restored = stamp.BatchID

	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	runs, err := led.Runs()
	if err != nil {
		return out, err
	}
	out.Run = ledger.Run{BatchID: newBatchID(opt.Now(), runs), Version: opt.Version, ProgramSHA256: programDigest(), StartedAt: opt.Now().UTC(), Status: StatusRunning, RollbackTo: stamp.BatchID}
	if err := led.SaveRun(out.Run); err != nil {
		return out, err
	}
	defer func() {
		out.Run.FinishedAt = opt.Now().UTC()
		if err != nil {
			out.Run.Status, out.Run.Message = StatusFailed, oneLine("rollback: "+err.Error())
		}
		if serr := led.SaveRun(out.Run); serr != nil && err == nil {
			err = serr
		}
	}()

	live := ws.WarehouseFile()
	if _, err := os.Stat(live); err == nil {
		if s, err := warehouse.ReadStamp(ctx, live); err == nil {
			out.Replaced = s.BatchID
		}
		// Keep at least the file being replaced, whatever keep_warehouses says: a
		// rollback must be undoable.
		if err := warehouse.KeepInHistory(ctx, live, ws.WarehouseHistory(), max(cfg.KeepWarehouses, 1), warehouse.LiveFile{}); err != nil {
			return out, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return out, err
	}
	if err := fsutil.RenameDurable(chosen, live); err != nil {
		return out, fmt.Errorf("rollback: %w", err)
	}
	return out, finishRollback(ctx, ws, cfg, opt, &out)
}

// finishRollback does what follows a rollback's swap: the state records the restored
// warehouse (so the next batch builds in full), the exports and the report are made from
// it, and the run record says what was done.
func finishRollback(ctx context.Context, ws workspace.Workspace, cfg config.Config, opt Options, out *RollbackOutcome) (err error) {
	live := ws.WarehouseFile()
	out.Restored = out.Run.RollbackTo
	pubState := filepath.Join(ws.State(), "published.json")
	if err := writeState(pubState, published{BatchID: out.Restored, At: opt.Now().UTC(), RolledBack: true}); err != nil {
		return err
	}
	staging := filepath.Join(ws.Exports(), ".staging-"+out.Run.BatchID)
	if _, err := export.Run(ctx, live, staging, export.Options{SuppressBelow: cfg.Export.SuppressBelow}); err != nil {
		os.RemoveAll(staging)
		return err
	}
	if out.Exports, err = publishExports(staging, ws.Exports()); err != nil {
		return err
	}
	if err := writeState(filepath.Join(ws.State(), "exported.json"), published{BatchID: out.Restored, At: opt.Now().UTC(), RolledBack: true}); err != nil {
		return err
	}
	if err := recordPublished(ctx, ws, opt.Logger, nil); err != nil {
		return err
	}
	out.Run.Status = StatusRolledBack
	out.Run.Warehouse = live
	out.Run.Message = fmt.Sprintf("the warehouse of batch %s was put back", out.Restored)
	if out.Replaced != "" {
		out.Run.Message += fmt.Sprintf(" in place of batch %s's (kept in the history)", out.Replaced)
	}
	out.Run.Message += "; the next batch builds in full from the lake"
	opt.Logger.Info("warehouse rolled back", "restored", out.Restored, "replaced", out.Replaced)
	return nil
}

// finishStoppedRollback finds a rollback that stopped (its record still running): when its
// swap had taken effect (the live warehouse is the one it put back) and target names no
// other batch, it finishes it and returns its outcome; otherwise it records it abandoned
// and returns an empty outcome, for the rollback asked for now to go ahead.
func finishStoppedRollback(ctx context.Context, ws workspace.Workspace, cfg config.Config, opt Options, target string) (out RollbackOutcome, err error) {
	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	runs, err := led.Runs()
	if err != nil {
		return out, err
	}
	for _, r := range runs {
		if r.Status != StatusRunning || r.RollbackTo == "" {
			continue
		}
		live, _ := warehouse.BatchOf(ctx, ws.WarehouseFile())
		if live != r.RollbackTo || (target != "" && target != r.RollbackTo) {
			r.Status, r.Message = StatusAbandoned, "the rollback stopped before it took effect"
			if live == r.RollbackTo {
				r.Status, r.Message = StatusRolledBack, "the rollback stopped after it took effect; a later rollback replaced it"
			}
			if err := led.SaveRun(r); err != nil {
				return RollbackOutcome{}, err
			}
			continue
		}
		out.Run = r
		err = finishRollback(ctx, ws, cfg, opt, &out)
		out.Run.FinishedAt = opt.Now().UTC()
		if err == nil {
			out.Run.Message += " (finished after it had been stopped)"
		}
		if serr := led.SaveRun(out.Run); serr != nil && err == nil {
			err = serr
		}
		return out, err
	}
	return RollbackOutcome{}, nil
}
