package batch_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

func fileDigest(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestProgramDigestTakenAtStart replaces the executable on disk, as an upgrade does, after
// the process started and before its first batch. The batch must stamp the digest of the
// program that runs it, not of the file that now has its name.
func TestProgramDigestTakenAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a copy of the test binary: skipped in -short mode")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "sofpipe-test")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, self, 0o755); err != nil {
		t.Fatal(err)
	}
	running := fileDigest(t, exe)
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	gate := filepath.Join(dir, "go")
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childWorkspaceEnv+"="+cfg.Workspace, childGateEnv+"="+gate)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The upgrade: a new file renamed over the path.
	upgrade := filepath.Join(dir, ".sofpipe-test.new")
	if err := os.WriteFile(upgrade, append(self, "upgraded"...), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(upgrade, exe); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child batch: %v\n%s", err, out)
	}
	runs, err := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs")).Runs()
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v (%v)", runs, err)
	}
	if got := runs[0].ProgramSHA256; got != running {
		t.Errorf("the run is stamped with program %s, want %s (the program that ran; the file on disk is now %s)", got, running, fileDigest(t, exe))
	}
}

// TestCancelledBatchIsRecordedAsCancelled stops a batch part way, as SIGTERM does through
// the context: the run is recorded as cancelled on one line, nothing is published, and
// the next batch finishes the work.
func TestCancelledBatchIsRecordedAsCancelled(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started string
	opt := batch.Options{Version: "test", Now: clock(), OnStart: func(id string) { started = id }}
	opt = batch.WithAfterClaim(opt, func(rel string) {
		if strings.HasPrefix(rel, "outcomes/") {
			cancel()
		}
	})
	out, err := batch.Run(ctx, cfg, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want the cancellation", err)
	}
	if out.Run.Status != batch.StatusCancelled || strings.Contains(out.Run.Message, "\n") || !strings.Contains(out.Run.Message, "cancelled") {
		t.Errorf("run %s: %q, want cancelled on one line", out.Run.Status, out.Run.Message)
	}
	if started != out.Run.BatchID || started == "" {
		t.Errorf("OnStart saw batch %q, the run is %q", started, out.Run.BatchID)
	}
	if _, err := os.Stat(filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb")); err == nil {
		t.Error("a cancelled batch published a warehouse")
	}
	next := runBatch(t, cfg, clock(), false)
	if next.Run.Status != batch.StatusPublished {
		t.Fatalf("next batch: %s", next.Run.Status)
	}
	wantCandidates := 4
	var n int
	if err := openWarehouse(t, cfg).QueryRow("SELECT count(*) FROM scale_up_candidates").Scan(&n); err != nil || n != wantCandidates {
		t.Errorf("candidates %d (%v), want %d", n, err, wantCandidates)
	}
	assertNoTemporaryFiles(t, cfg)
}

// TestRunsTableHasNoMadeUpValues: the warehouse's own _runs row for the batch that built
// it cannot know when that batch finished, nor its warehouse and export seconds: NULL,
// never 0001-01-01 or 0.
func TestRunsTableHasNoMadeUpValues(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	out := runBatch(t, cfg, clock(), false)
	_, rows := tableText(t, openWarehouse(t, cfg), "SELECT finished_at IS NULL, warehouse_seconds IS NULL, export_seconds IS NULL, status, program_sha256 = '"+batch.ProgramDigest()+"' FROM _runs WHERE batch_id = '"+out.Run.BatchID+"'")
	if len(rows) != 1 || strings.Join(rows[0], " ") != "true true true published true" {
		t.Errorf("_runs row of the building batch: %v, want finished_at, warehouse_seconds and export_seconds NULL, published, and the program's digest", rows)
	}
}

// TestInboxEntriesThatAreNotFilesAreReported: a symbolic link (or a pipe) in the inbox is
// never read as a delivery; each batch says so and counts it.
func TestInboxEntriesThatAreNotFilesAreReported(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	target := filepath.Join(t.TempDir(), "elsewhere.csv")
	os.WriteFile(target, []byte("project_id\n"), 0o644)
	link := filepath.Join(cfg.Workspace, "inbox", "spend", "linked.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for night := 1; night <= 2; night++ {
		out := runBatch(t, cfg, clock(), false)
		if out.InboxSkipped != 1 {
			t.Errorf("night %d: %d inbox entries skipped, want the link counted", night, out.InboxSkipped)
		}
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("the link was removed: %v", err)
	}
}

// TestHistoryKeepsNewestOfBatchesInOneSecond: three batches that start within one second
// get ids X, X-2 and X-3; with keep_warehouses 1 the history must hold X-2's warehouse.
func TestHistoryKeepsNewestOfBatchesInOneSecond(t *testing.T) {
	first, second := splitGolden(t)
	cfg := newWorkspace(t, first)
	cfg.KeepWarehouses = 1
	sameSecond := func() time.Time { return time.Date(2026, 11, 30, 12, 52, 42, 0, time.UTC) }
	var ids []string
	for night := 0; night < 3; night++ {
		if night == 1 {
			deliver(t, cfg, second)
		}
		out := runBatch(t, cfg, sameSecond, night == 2)
		ids = append(ids, out.Run.BatchID)
	}
	if ids[2] != "20261130T125242Z-3" {
		t.Fatalf("batch ids %v", ids)
	}
	history, err := warehouse.History(filepath.Join(cfg.Workspace, "warehouse", "history"))
	if err != nil || len(history) != 1 {
		t.Fatalf("history %v (%v), want one file", history, err)
	}
	got, err := warehouse.BatchOf(context.Background(), history[0])
	if err != nil || got != ids[1] || filepath.Base(history[0]) != "sof-"+ids[1]+".duckdb" {
		t.Errorf("history keeps %s holding batch %q (%v), want %s", history[0], got, err, ids[1])
	}
}
