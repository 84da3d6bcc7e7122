package batch_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// records is what the ledger and the run history say of a workspace, with what differs
// between any two runs of the same deliveries (batch ids, times) left out.
type records struct {
	// Files: each commit record's digest, dataset, path, arrival, status and counts.
	Files []string
	// Deliveries: every delivery of every run (digest, path, status), sorted.
	Deliveries []string
	// Totals: the runs' counts added up.
	Totals string
	// Outcomes: the statuses of the runs that published, in order (abandoned and failed
	// runs and runs with nothing new are left out: a kill or a fault and a rerun add
	// them).
	Outcomes []string
	// Warehouse: what the published warehouse's _files and _runs say: each file's
	// deliveries, and each run's status as the ledger has it.
	WarehouseFiles []string
}

func recordsOf(t *testing.T, cfg config.Config) records {
	t.Helper()
	led := ledger.Open(filepath.Join(cfg.Workspace, "lake", "_ledger", "files"), filepath.Join(cfg.Workspace, "lake", "_ledger", "runs"))
	files, err := led.Files()
	if err != nil {
		t.Fatal(err)
	}
	runs, err := led.Runs()
	if err != nil {
		t.Fatal(err)
	}
	var r records
	for _, f := range files {
		r.Files = append(r.Files, fmt.Sprintf("%s %s %s arrival=%d %s read=%d accepted=%d rejected=%d outputs=%v", f.SHA256[:12], f.Dataset, f.SourcePath, f.Arrival, f.Status, f.RowsRead, f.RowsAccepted, f.RowsRejected, f.Outputs))
	}
	var tot ledger.Run
	status := map[string]string{}
	for _, run := range runs {
		status[run.BatchID] = run.Status
		if run.Status == batch.StatusRunning {
			t.Errorf("run %s is still recorded as running", run.BatchID)
		}
		for _, d := range run.Deliveries {
			r.Deliveries = append(r.Deliveries, fmt.Sprintf("%s %s %s", d.SHA256[:12], d.SourcePath, d.Status))
		}
		tot.FilesNew += run.FilesNew
		tot.FilesDuplicate += run.FilesDuplicate
		tot.FilesRejected += run.FilesRejected
		tot.FilesQuarantined += run.FilesQuarantined
		tot.RowsRead += run.RowsRead
		tot.RowsAccepted += run.RowsAccepted
		tot.RowsRejected += run.RowsRejected
		if run.Status != batch.StatusAbandoned && run.Status != batch.StatusUnchanged && run.Status != batch.StatusFailed {
			r.Outcomes = append(r.Outcomes, run.Status)
		}
	}
	sort.Strings(r.Deliveries)
	r.Totals = fmt.Sprintf("files new=%d duplicate=%d rejected=%d quarantined=%d rows read=%d accepted=%d rejected=%d",
		tot.FilesNew, tot.FilesDuplicate, tot.FilesRejected, tot.FilesQuarantined, tot.RowsRead, tot.RowsAccepted, tot.RowsRejected)

	db := openWarehouse(t, cfg)
	_, rows := tableText(t, db, "SELECT left(file_sha256, 12), deliveries FROM _files ORDER BY arrival")
	for _, row := range rows {
		r.WarehouseFiles = append(r.WarehouseFiles, strings.Join(row, " deliveries="))
	}
	_, rows = tableText(t, db, "SELECT batch_id, status FROM _runs")
	for _, row := range rows {
		// The run that built the file shows as published; every other as the ledger has
		// it now, or as it had it when the file was built (a later run may complete it).
		if ledgerStatus, ok := status[row[0]]; ok && row[1] == batch.StatusPublished && ledgerStatus != batch.StatusPublished {
			t.Errorf("the warehouse's _runs shows batch %s published, the ledger %s", row[0], ledgerStatus)
		}
	}
	db.Close() // before the workspace goes (an unmount, say)
	return r
}

// cleanRecords runs the two nights without a kill and returns their records.
func cleanRecords(t *testing.T, first, second string) records {
	t.Helper()
	cfg := newWorkspace(t, first)
	runBatch(t, cfg, clock(), false)
	deliver(t, cfg, second)
	runBatch(t, cfg, clock(), false)
	return recordsOf(t, cfg)
}

// assertNoTemporaryFiles fails for any file a crashed step could leave behind anywhere in
// the workspace: records being written, claimed inbox files, staged lake files, partial
// builds and exports, incoming store copies.
func assertNoTemporaryFiles(t *testing.T, cfg config.Config) {
	t.Helper()
	assertNoTemporaryFilesExcept(t, cfg, "")
}

// assertNoTemporaryFilesExcept is assertNoTemporaryFiles passing over names ending in
// suffix (when not empty).
func assertNoTemporaryFilesExcept(t *testing.T, cfg config.Config, suffix string) {
	t.Helper()
	filepath.WalkDir(cfg.Workspace, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if suffix != "" && strings.HasSuffix(name, suffix) {
			return nil
		}
		if strings.Contains(name, ".tmp") || strings.HasPrefix(name, ".sofpipe-claimed.") || strings.HasPrefix(name, ".build-") || strings.HasPrefix(name, ".incoming-") || strings.HasPrefix(name, ".staging-") {
			t.Errorf("temporary file left: %s", p)
		}
		if d.IsDir() && filepath.Base(filepath.Dir(p)) == "_staging" {
			entries, _ := os.ReadDir(p)
			if len(entries) > 0 {
				t.Errorf("staged files left in %s", p)
			}
		}
		return nil
	})
}

// TestCrashAtEachPointLeavesCleanRecords kills a real batch at each point where the data
// is safe but the records are between two writes (a file committed but its delivery not
// yet recorded; its delivery recorded but the inbox copy not yet removed; the warehouse
// published but the state and run record not yet saved), with the temporary files of
// half-written records lying about as a kill mid-write leaves them. A rerun must leave the
// ledger and run history as two nights without a kill do, and no temporary file.
func TestCrashAtEachPointLeavesCleanRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes: skipped in -short mode")
	}
	first, second := splitGolden(t)
	want := cleanRecords(t, first, second)
	wantMarts := func() map[string][][]string {
		cfg := newWorkspace(t, first)
		runBatch(t, cfg, clock(), false)
		deliver(t, cfg, second)
		runBatch(t, cfg, clock(), false)
		return martContents(t, cfg)
	}()
	for _, point := range []string{"file committed", "delivery recorded", "warehouse published", "state saved"} {
		t.Run(strings.ReplaceAll(point, " ", "_"), func(t *testing.T) {
			cfg := newWorkspace(t, first)
			runBatch(t, cfg, clock(), false)
			deliver(t, cfg, second)

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childWorkspaceEnv+"="+cfg.Workspace, childCrashAtEnv+"="+point)
			out, err := cmd.CombinedOutput()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				t.Fatalf("the child did not die at %q (%v):\n%s", point, err, out)
			}
			// What a kill in the middle of writing a record leaves.
			for _, dir := range []string{"lake/_ledger/files", "lake/_ledger/runs", "state"} {
				stray := filepath.Join(cfg.Workspace, dir, ".x.json.tmp-123456")
				if err := os.WriteFile(stray, []byte("{"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rerun := runBatch(t, cfg, clock(), false)
			t.Logf("rerun after a kill at %q: %s, %d new, %d already seen", point, rerun.Run.Status, rerun.Run.FilesNew, rerun.Run.FilesDuplicate)
			if rerun.Run.FilesDuplicate != 0 {
				t.Errorf("the rerun counted %d deliveries as already seen: the killed run's deliveries were counted twice", rerun.Run.FilesDuplicate)
			}
			if diff := cmp.Diff(want, recordsOf(t, cfg)); diff != "" {
				t.Errorf("records after a kill at %q and a rerun differ from a run without the kill (-want +got):\n%s", point, diff)
			}
			if diff := cmp.Diff(wantMarts, martContents(t, cfg)); diff != "" {
				t.Errorf("marts after a kill at %q and a rerun (-want +got):\n%s", point, diff)
			}
			assertNoTemporaryFiles(t, cfg)
		})
	}
}

// TestCorrectionDeliveredDuringBatchIsKept replaces a file, the documented way (upload as
// .name, then rename over the name), while the batch is reading it. The batch must take
// the bytes it claimed and leave the correction for the next batch, which takes it.
func TestCorrectionDeliveredDuringBatchIsKept(t *testing.T) {
	first, _ := splitGolden(t)
	cfg := newWorkspace(t, first)
	// The correction's bytes: the original file with its amounts changed.
	name := filepath.Join(cfg.Workspace, "inbox", "spend", "01-returns-2024-07.csv")
	original, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	corrected := []byte(strings.ReplaceAll(string(original), ".00,", ".01,"))
	if string(corrected) == string(original) {
		t.Fatal("the correction must differ from the original")
	}
	delivered := false
	opt := batch.WithAfterClaim(batch.Options{Version: "test", Now: clock()}, func(rel string) {
		if rel != "spend/01-returns-2024-07.csv" {
			return
		}
		upload := filepath.Join(filepath.Dir(name), ".01-returns-2024-07.csv")
		if err := os.WriteFile(upload, corrected, 0o644); err != nil {
			t.Error(err)
		}
		if err := os.Rename(upload, name); err != nil {
			t.Error(err)
		}
		delivered = true
	})
	out, err := batch.Run(context.Background(), cfg, opt)
	if err != nil || !delivered {
		t.Fatalf("batch: %v (correction delivered: %v)", err, delivered)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("the correction delivered during the batch is gone: %v", err)
	}
	if string(got) != string(corrected) {
		t.Fatal("the file under the name is not the correction")
	}
	if !slices.ContainsFunc(out.Run.Deliveries, func(d ledger.Delivery) bool { return d.SourcePath == "spend/01-returns-2024-07.csv" }) {
		t.Error("the batch did not take the original it had claimed")
	}
	next := runBatch(t, cfg, clock(), false)
	if next.Run.FilesNew != 1 || next.Run.Status != batch.StatusPublished {
		t.Errorf("next batch: %s with %d new files, want the correction taken and published", next.Run.Status, next.Run.FilesNew)
	}
	if _, err := os.Stat(name); err == nil {
		t.Error("the correction is still in the inbox after the next batch")
	}
}
