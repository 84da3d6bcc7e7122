package batch_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/export"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

// threeNights publishes batches A, B and C: the first night's files, the second night's,
// and a forced rebuild.
func threeNights(t *testing.T) (cfg config.Config, ids []string) {
	t.Helper()
	first, second := splitGolden(t)
	cfg = newWorkspace(t, first)
	now := clock()
	for night := 0; night < 3; night++ {
		if night == 1 {
			deliver(t, cfg, second)
		}
		out := runBatch(t, cfg, now, night == 2)
		if out.Run.Status != batch.StatusPublished {
			t.Fatalf("night %d: %s", night, out.Run.Status)
		}
		ids = append(ids, out.Run.BatchID)
	}
	return cfg, ids
}

// assertHistoryNamedByBuild: every kept warehouse's name is the batch its own _build names.
func assertHistoryNamedByBuild(t *testing.T, cfg config.Config) []string {
	t.Helper()
	files, err := warehouse.History(filepath.Join(cfg.Workspace, "warehouse", "history"))
	if err != nil {
		t.Fatal(err)
	}
	var batches []string
	for _, f := range files {
		named, _ := warehouse.HistoryBatch(f)
		holds, err := warehouse.BatchOf(context.Background(), f)
		if err != nil || holds != named {
			t.Errorf("%s holds the warehouse of batch %q (%v)", filepath.Base(f), holds, err)
		}
		batches = append(batches, named)
	}
	return batches
}

// assertExportsMatchLive: the exports on disk are what the live warehouse exports.
func assertExportsMatchLive(t *testing.T, cfg config.Config) {
	t.Helper()
	fresh := t.TempDir()
	if _, err := export.Run(context.Background(), filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb"), fresh, export.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"scale_up_candidates.csv", "lessons_learned.csv"} {
		want, _ := os.ReadFile(filepath.Join(fresh, name))
		got, err := os.ReadFile(filepath.Join(cfg.Workspace, "exports", name))
		if err != nil || !bytes.Equal(want, got) {
			t.Errorf("exports/%s is not the live warehouse's (%v)", name, err)
		}
	}
}

func liveBatch(t *testing.T, cfg config.Config) string {
	t.Helper()
	b, err := warehouse.BatchOf(context.Background(), filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRollbackThenNextBatch: publish A, B, C; roll back to A; publish D. The rollback puts
// A live with its exports and records itself; the next batch builds in full; every
// history file is named by the batch that built it.
func TestRollbackThenNextBatch(t *testing.T) {
	cfg, ids := threeNights(t)
	a, b, c := ids[0], ids[1], ids[2]
	out, err := batch.Rollback(context.Background(), cfg, batch.Options{Version: "test", Now: clock()}, a)
	if err != nil {
		t.Fatal(err)
	}
	if out.Restored != a || out.Replaced != c || out.Run.Status != batch.StatusRolledBack {
		t.Errorf("rollback restored %s in place of %s (%s), want %s in place of %s", out.Restored, out.Replaced, out.Run.Status, a, c)
	}
	if got := liveBatch(t, cfg); got != a {
		t.Fatalf("live warehouse is batch %s, want %s", got, a)
	}
	if kept := assertHistoryNamedByBuild(t, cfg); !slices.Equal(kept, []string{c, b}) {
		t.Errorf("history %v, want [%s %s]", kept, c, b)
	}
	assertExportsMatchLive(t, cfg)
	runs, err := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs")).Runs()
	i := slices.IndexFunc(runs, func(r ledger.Run) bool { return r.BatchID == out.Run.BatchID })
	if err != nil || i < 0 || runs[i].Status != batch.StatusRolledBack {
		t.Fatalf("the rollback is not in the run history (%v)", err)
	}
	rollbackID := out.Run.BatchID

	// D: nothing new, yet the rollback's state means a rebuild, in full.
	d := runBatch(t, cfg, clock(), false)
	if d.Run.Status != batch.StatusPublished || d.Run.WarehouseBuild != "full" {
		t.Errorf("the batch after a rollback: %s, %s build; want published, full", d.Run.Status, d.Run.WarehouseBuild)
	}
	if got := liveBatch(t, cfg); got != d.Run.BatchID {
		t.Errorf("live is batch %s, want %s", got, d.Run.BatchID)
	}
	if kept := assertHistoryNamedByBuild(t, cfg); !slices.Equal(kept, []string{c, b, a}) {
		t.Errorf("history %v, want [%s %s %s] (ordered by batch)", kept, c, b, a)
	}
	assertExportsMatchLive(t, cfg)
	_, rows := tableText(t, openWarehouse(t, cfg), "SELECT status FROM _runs WHERE batch_id = '"+rollbackID+"'")
	if len(rows) != 1 || rows[0][0] != batch.StatusRolledBack {
		t.Errorf("_runs of the next build shows the rollback as %v", rows)
	}
}

// TestHistoryNamedByBuildAfterHandRollback: a warehouse put back by hand (cp, mv, as the
// operations guide once said) is kept under its own batch when the next one replaces it,
// not under the name of the batch the state last published.
func TestHistoryNamedByBuildAfterHandRollback(t *testing.T) {
	cfg, ids := threeNights(t)
	history := filepath.Join(cfg.Workspace, "warehouse", "history")
	live := filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb")
	src, err := os.Open(filepath.Join(history, "sof-"+ids[0]+".duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(cfg.Workspace, "warehouse", ".rollback.duckdb")
	dst, _ := os.Create(tmp)
	io.Copy(dst, src)
	src.Close()
	dst.Close()
	if err := os.Rename(tmp, live); err != nil {
		t.Fatal(err)
	}
	runBatch(t, cfg, clock(), true)
	assertHistoryNamedByBuild(t, cfg)
}

func TestRollbackToUnknownBatch(t *testing.T) {
	cfg, _ := threeNights(t)
	_, err := batch.Rollback(context.Background(), cfg, batch.Options{Version: "test"}, "20000101T000000Z")
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("kept are")) {
		t.Errorf("err %v, want the kept batches listed", err)
	}
}

// TestRollbackStoppedAfterItsSwap: a rollback killed after its rename left the exports and
// the state behind; the next rollback finishes it instead of rolling back again, and a
// batch instead completes its record and builds in full.
func TestRollbackStoppedAfterItsSwap(t *testing.T) {
	for _, next := range []string{"rollback", "run"} {
		t.Run(next, func(t *testing.T) {
			cfg, ids := threeNights(t)
			a, c := ids[0], ids[2]
			// What a rollback to A killed right after its swap leaves: A live, C kept, the
			// exports and state still C's, the run record running.
			ws := filepath.Join(cfg.Workspace, "warehouse")
			led := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs"))
			if err := led.SaveRun(ledger.Run{BatchID: "20270101T000000Z", StartedAt: time.Now().UTC(), Status: batch.StatusRunning, RollbackTo: a}); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(filepath.Join(ws, "sof.duckdb"), filepath.Join(ws, "history", "sof-"+c+".duckdb")); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(ws, "history", "sof-"+a+".duckdb"), filepath.Join(ws, "sof.duckdb")); err != nil {
				t.Fatal(err)
			}
			if next == "rollback" {
				out, err := batch.Rollback(context.Background(), cfg, batch.Options{Version: "test", Now: clock()}, "")
				if err != nil || out.Restored != a || out.Run.BatchID != "20270101T000000Z" {
					t.Fatalf("rollback after a stopped one: %v, restored %s by %s; want the stopped rollback to %s finished", err, out.Restored, out.Run.BatchID, a)
				}
				if got := liveBatch(t, cfg); got != a {
					t.Errorf("live is %s, want %s (not rolled back again)", got, a)
				}
				assertExportsMatchLive(t, cfg)
			} else {
				out := runBatch(t, cfg, clock(), false)
				if out.Run.WarehouseBuild != "full" {
					t.Errorf("the batch after a stopped rollback built %q, want full", out.Run.WarehouseBuild)
				}
			}
			runs, _ := led.Runs()
			for _, r := range runs {
				if r.BatchID == "20270101T000000Z" && r.Status != batch.StatusRolledBack {
					t.Errorf("the stopped rollback is recorded %s, want rolled_back", r.Status)
				}
			}
		})
	}
}
