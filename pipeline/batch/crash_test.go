package batch_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

// childWorkspaceEnv makes the test binary run one batch in the named workspace and exit:
// the crash test starts it as a real process so it can kill it with SIGKILL.
const childWorkspaceEnv = "SOFPIPE_TEST_CHILD_WORKSPACE"

// childCrashAtEnv names a point of the run (batch.WithReached) at which the child kills
// itself with SIGKILL; childGateEnv names a file the child waits for before it starts.
const (
	childCrashAtEnv = "SOFPIPE_TEST_CHILD_CRASH_AT"
	childGateEnv    = "SOFPIPE_TEST_CHILD_GATE"
)

func TestMain(m *testing.M) {
	if ws := os.Getenv(childWorkspaceEnv); ws != "" {
		cfg := config.DefaultConfig()
		cfg.Workspace = ws
		opt := batch.Options{Version: "test"}
		if point := os.Getenv(childCrashAtEnv); point != "" {
			opt = batch.WithReached(opt, func(p string) {
				if p == point {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			})
		}
		if gate := os.Getenv(childGateEnv); gate != "" {
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if _, err := os.Stat(gate); err == nil {
					break
				}
				if time.Now().After(deadline) {
					fmt.Fprintln(os.Stderr, "gate never opened")
					os.Exit(2)
				}
			}
		}
		if _, err := batch.Run(context.Background(), cfg, opt); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// splitGolden copies the golden inbox into two delivery folders: the first night's files and
// the corrections that arrive the next night.
func splitGolden(t *testing.T) (first, second string) {
	t.Helper()
	src := filepath.Join("..", "..", "fixtures", "golden", "inbox")
	first, second = t.TempDir(), t.TempDir()
	later := map[string]bool{
		filepath.Join("spend", "02-moj-correction-2024-08.csv"):      true,
		filepath.Join("outcomes", "2024-08-outcomes-correction.csv"): true,
		filepath.Join("gdp_deflators", "hmt-deflators-2024-06.csv"):  true,
	}
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(first, rel)
		if later[rel] {
			dst = filepath.Join(second, rel)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return first, second
}

// TestCrashAnywhereRerunFinishes kills a real batch process with SIGKILL at many points of
// its run. Each time, the published warehouse must be whole (the previous night's or the
// new one, never a mix), and a rerun must finish the job with the marts a clean run gives.
func TestCrashAnywhereRerunFinishes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes at many points: skipped in -short mode")
	}
	first, second := splitGolden(t)

	reference := newWorkspace(t, first)
	deliver(t, reference, second)
	runBatch(t, reference, clock(), false)
	want := martContents(t, reference)
	wantRecords := cleanRecords(t, first, second)

	for _, delay := range []time.Duration{0, 25, 50, 100, 150, 200, 230, 260, 300, 450, 700, 1000} {
		t.Run(fmt.Sprintf("kill_after_%dms", delay), func(t *testing.T) {
			cfg := newWorkspace(t, first)
			runBatch(t, cfg, clock(), false)
			baseline := martContents(t, cfg)
			deliver(t, cfg, second)

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childWorkspaceEnv+"="+cfg.Workspace)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay * time.Millisecond)
			cmd.Process.Kill()
			cmd.Wait()

			got := martContents(t, cfg)
			switch {
			case cmp.Equal(baseline, got):
				t.Logf("killed before publishing: the previous warehouse stands")
			case cmp.Equal(want, got):
				t.Logf("killed after publishing: the new warehouse stands")
			default:
				t.Fatalf("after the kill the published warehouse is neither the previous one nor the new one:\n%s", cmp.Diff(want, got))
			}
			out, err := batch.Run(context.Background(), cfg, batch.Options{Version: "test", Now: clock()})
			if err != nil {
				t.Fatalf("rerun after the kill: %v", err)
			}
			if diff := cmp.Diff(want, martContents(t, cfg)); diff != "" {
				t.Errorf("rerun (status %s) did not finish the job (-want +got):\n%s", out.Run.Status, diff)
			}
			assertNoLeftovers(t, cfg)
			if diff := cmp.Diff(wantRecords, recordsOf(t, cfg)); diff != "" {
				t.Errorf("after the kill and a rerun the ledger and run history differ from a run without the kill (-want +got):\n%s", diff)
			}
		})
	}
}

func assertNoLeftovers(t *testing.T, cfg config.Config) {
	t.Helper()
	staged, _ := filepath.Glob(filepath.Join(cfg.Workspace, "lake", "_staging", "*", "*"))
	if len(staged) > 0 {
		t.Errorf("staging not cleaned: %v", staged)
	}
	builds, _ := filepath.Glob(filepath.Join(cfg.Workspace, "warehouse", ".build-*"))
	if len(builds) > 0 {
		t.Errorf("partial builds left: %v", builds)
	}
	inbox, _ := filepath.Glob(filepath.Join(cfg.Workspace, "inbox", "*", "*"))
	if len(inbox) > 0 {
		t.Errorf("inbox not emptied: %v", inbox)
	}
}

// TestAnalystReadsWhileBatchPublishes holds the published file open read-only, as an
// analyst's DuckDB session does, while the next batch builds and publishes.
func TestAnalystReadsWhileBatchPublishes(t *testing.T) {
	first, second := splitGolden(t)
	cfg := newWorkspace(t, first)
	now := clock()
	runBatch(t, cfg, now, false)

	analyst, err := warehouse.Open(filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer analyst.Close()
	conn, err := analyst.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var before float64
	if err := conn.QueryRowContext(context.Background(), "SELECT sum(cost_pv_gbp) FROM project_scorecard").Scan(&before); err != nil {
		t.Fatal(err)
	}

	deliver(t, cfg, second)
	out := runBatch(t, cfg, now, false)
	if out.Run.Status != batch.StatusPublished {
		t.Fatalf("batch with an analyst reading: status %s: %s", out.Run.Status, out.Run.Message)
	}
	var during float64
	if err := conn.QueryRowContext(context.Background(), "SELECT sum(cost_pv_gbp) FROM project_scorecard").Scan(&during); err != nil {
		t.Fatalf("the analyst's open session broke when the batch published: %v", err)
	}
	if during != before {
		t.Errorf("the analyst's session saw its data change under it: %v then %v", before, during)
	}
	// DuckDB shares one database instance per path within a process, so the new session is
	// opened once the analyst's is closed; in production they are different processes.
	conn.Close()
	analyst.Close()
	fresh := openWarehouse(t, cfg)
	var after float64
	if err := fresh.QueryRow("SELECT sum(cost_pv_gbp) FROM project_scorecard").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Errorf("a new session sees the old figures (%v): the correction was not published", after)
	}
	history, err := warehouse.History(filepath.Join(cfg.Workspace, "warehouse", "history"))
	if err != nil || len(history) != 1 {
		t.Errorf("history %v (%v), want the previous warehouse kept for rollback", history, err)
	}
}

// TestFailedChecksKeepLastPublished delivers a register with a project listed twice: the
// projects_unique error test fails, so the batch must not publish, and the previous
// warehouse and exports stay as they were.
func TestFailedChecksKeepLastPublished(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	now := clock()
	runBatch(t, cfg, now, false)
	before := martContents(t, cfg)
	exportBefore, err := os.ReadFile(filepath.Join(cfg.Workspace, "exports", "scale_up_candidates.csv"))
	if err != nil {
		t.Fatal(err)
	}

	bad := filepath.Join(cfg.Workspace, "inbox", "projects", "register-2024-09.csv")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	register := "project_id,project_name,sof_round,lead_department,policy_area,start_date\n" +
		"SOF-001,Duplicate entry one,1,HM Treasury,justice,2022-04-01\n" +
		"SOF-001,Duplicate entry two,1,HM Treasury,justice,2022-04-01\n"
	if err := os.WriteFile(bad, []byte(register), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := batch.Run(context.Background(), cfg, batch.Options{Version: "test", Now: now})
	if !errors.Is(err, warehouse.ErrChecksFailed) {
		t.Fatalf("err = %v, want the data-tests-failed error", err)
	}
	if out.Run.Status != batch.StatusChecksFailed {
		t.Errorf("run status %s, want %s", out.Run.Status, batch.StatusChecksFailed)
	}
	var failedChecks []string
	for _, c := range out.Checks {
		if c.Failed() && c.Severity == "error" {
			failedChecks = append(failedChecks, c.Name)
		}
	}
	if out.Run.ChecksFailed != len(failedChecks) || !slices.Contains(failedChecks, "projects_unique") {
		t.Errorf("run record: %d checks failed; the checks that failed at error severity: %v (want projects_unique among them)", out.Run.ChecksFailed, failedChecks)
	}
	if diff := cmp.Diff(before, martContents(t, cfg)); diff != "" {
		t.Errorf("the published warehouse changed although its checks failed:\n%s", diff)
	}
	exportAfter, _ := os.ReadFile(filepath.Join(cfg.Workspace, "exports", "scale_up_candidates.csv"))
	if string(exportAfter) != string(exportBefore) {
		t.Error("exports changed although the checks failed")
	}
	failed, _ := filepath.Glob(filepath.Join(cfg.Workspace, "warehouse", "failed-*.duckdb"))
	if len(failed) != 1 {
		t.Fatalf("failed build kept: %v, want one file to inspect", failed)
	}
	db, err := sql.Open("duckdb", failed[0]+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var status string
	if err := db.QueryRow("SELECT status FROM _checks WHERE name = 'projects_unique'").Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != "fail" {
		t.Errorf("projects_unique status %q in the failed build, want fail", status)
	}
}
