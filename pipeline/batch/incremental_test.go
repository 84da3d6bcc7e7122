package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

// warehouseTables returns every table of the published warehouse, each as its rows in
// text, sorted, under its name; skip names tables left out.
func warehouseTables(t *testing.T, cfg config.Config, skip ...string) map[string][][]string {
	t.Helper()
	// The scorecard history holds one scorecard per published batch, so two builds of the
	// same warehouse by different batches differ there by design; history_test.go holds
	// those tables to what each build must give.
	skip = append(skip, "raw_scorecard_history", "scorecard_history", "band_changes")
	db := openWarehouse(t, cfg)
	defer db.Close()
	// Views too: raw_spend is one (spend_lines and spend_superseded together).
	_, names := tableText(t, db, "SELECT table_name FROM duckdb_tables() WHERE NOT temporary UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary ORDER BY 1")
	out := map[string][][]string{}
	for _, n := range names {
		if strings.Contains(strings.Join(skip, " "), n[0]) {
			continue
		}
		cols, rows := tableText(t, db, fmt.Sprintf("SELECT * FROM %q ORDER BY ALL", n[0]))
		out[n[0]] = append([][]string{cols}, rows...)
	}
	return out
}

// TestIncrementalBuildMatchesFullBuild delivers returns over several nights, each of which
// builds the warehouse incrementally (the published one plus the night's files), and then
// rebuilds it in full from the same ledger: every table must hold the same rows. The nights
// restate lines every way the restatement rule knows: a correction replacing a set of lines
// by fewer, a key without line_ref (NULL in the key), two files of one night carrying the
// same key, a file adding new keys only, outcomes and deflators restated, a rejected file
// and a quarantined one, lines with plans restated without (so that a file's sums for a
// month go from current to superseded), and a register that adds a project whose spend
// came before it (in_register changes with no spend line changing).
func TestIncrementalBuildMatchesFullBuild(t *testing.T) {
	first, second := splitGolden(t)
	cfg := newWorkspace(t, first)
	now := clock()
	nights := []func(){
		func() { deliver(t, cfg, second) },
		func() {
			// SOF-001's DfE line of 2024-25 P1 has no line_ref: its key holds a NULL.
			writeInbox(t, cfg, "spend/03-dfe-correction.csv", "project_id,department,financial_year,period,budget_type,actual_gbp,description\n"+
				"SOF-001,Department for Education,2024-25,1,RDEL,50000.00,corrected\n"+
				"SOF-004,Department for Education,2024-25,3,CDEL,1234.56,a new key\n")
		},
		func() {
			// Two files of one night with the same key: the correction arrives after the
			// original, so its line stands.
			writeInbox(t, cfg, "spend/04-dfe.csv", "project_id,department,financial_year,period,budget_type,actual_gbp,line_ref\n"+
				"SOF-001,Department for Education,2024-25,2,RDEL,100.00,T-9\nSOF-001,Department for Education,2024-25,2,RDEL,200.00,T-9\n")
			writeInbox(t, cfg, "spend/04-dfe (corrected).csv", "project_id,department,financial_year,period,budget_type,actual_gbp,line_ref\n"+
				"SOF-001,Department for Education,2024-25,2,RDEL,300.00,T-9\n")
			writeInbox(t, cfg, "spend/05-unreadable.csv", "this is not a spend return\n")
			writeInbox(t, cfg, "spend/06-mostly-bad.csv", "project_id,department,financial_year,period,budget_type,actual_gbp\n"+
				"SOF-001,DfE,2024-25,1,RDEL,x\nSOF-001,DfE,2024-25,1,RDEL,y\nSOF-001,DfE,2024-25,1,RDEL,z\n")
		},
		func() {
			// Lines with plans, in a month of their own, for a project not yet registered.
			writeInbox(t, cfg, "spend/07-plans.csv", "project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref\n"+
				"SOF-001,Department for Education,2024-25,6,RDEL,500.00,450.00,P-1\n"+
				"SOF-001,Department for Education,2024-25,6,RDEL,700.00,800.00,\n"+
				"SOF-001,Department for Education,2024-25,6,RDEL,,25.00,\n"+
				"SOF-001,Department for Education,2024-25,6,RDEL,,30.00,P-2\n"+
				"SOF-077,Home Office,2024-25,6,CDEL,100.00,90.00,\n")
		},
		func() {
			// The planned lines restated without plans, and the unregistered project's line
			// with one: every (month, file) sum moves, 07's current sums for the month keep
			// only P-2, which has no plan (its planned sum is NULL again, not 0.00).
			writeInbox(t, cfg, "spend/08-plans-restated.csv", "project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref\n"+
				"SOF-001,Department for Education,2024-25,6,RDEL,,460.00,P-1\n"+
				"SOF-001,Department for Education,2024-25,6,RDEL,,810.00,\n"+
				"SOF-077,Home Office,2024-25,6,CDEL,120.00,95.00,\n")
		},
		func() {
			// A register that adds the project: its spend is in the register now, though
			// no spend line changed.
			reg, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "golden", "inbox", "projects", "register-2024-07.csv"))
			if err != nil {
				t.Fatal(err)
			}
			writeInbox(t, cfg, "projects/register-2024-09.csv", string(reg)+
				"SOF-077,Safer streets,2,Home Office,,Crime,Less crime,grant,2024-04-01,2026-03-31,500000.00,did,3\n")
		},
	}
	if out := runBatch(t, cfg, now, false); out.Run.WarehouseBuild != "full" {
		t.Fatalf("first night: %q build, want full", out.Run.WarehouseBuild)
	}
	for i, night := range nights {
		night()
		out := runBatch(t, cfg, now, false)
		if out.Run.WarehouseBuild != "incremental" || out.Run.FilesNew == 0 {
			t.Fatalf("night %d: %q build with %d new files (%s), want incremental", i+2, out.Run.WarehouseBuild, out.Run.FilesNew, out.Run.Message)
		}
		// The run record counts the data tests as the warehouse's _checks has them.
		warned := queryText(t, cfg, "SELECT count(*)::VARCHAR FROM _checks WHERE rows > 0 AND severity = 'warn'")
		if got := fmt.Sprint(out.Run.ChecksWarned); got != warned[0][0] || out.Run.ChecksFailed != 0 || len(out.Checks) == 0 || out.Tables["scale_up_candidates"] < 4 {
			t.Errorf("night %d: run record %d warned, %d failed, %d checks, tables %v; _checks has %s warned",
				i+2, out.Run.ChecksWarned, out.Run.ChecksFailed, len(out.Checks), out.Tables, warned[0][0])
		}
	}
	if got := actualOfT9(t, cfg); got != "300.00" {
		t.Errorf("T-9 after the same-night correction: %s, want 300.00", got)
	}
	incremental := warehouseTables(t, cfg, "_runs", "_build")

	if out := runBatch(t, cfg, now, true); out.Run.WarehouseBuild != "full" {
		t.Fatalf("forced rebuild: %q build, want full", out.Run.WarehouseBuild)
	}
	full := warehouseTables(t, cfg, "_runs", "_build")
	if len(full) < 19 { // five raw tables, nine models, _params, _files, _deliveries, _rejects, _checks
		t.Fatalf("only %d tables compared", len(full))
	}
	sameTables(t, "incremental build", full, incremental)
	if len(full["spend_lines"]) < 40 || len(full["raw_spend"]) <= len(full["spend_lines"]) {
		t.Errorf("spend_lines %d rows, raw_spend %d: the nights restated too little to prove anything", len(full["spend_lines"])-1, len(full["raw_spend"])-1)
	}
}

func actualOfT9(t *testing.T, cfg config.Config) string {
	t.Helper()
	rows := queryText(t, cfg, "SELECT actual_gbp::VARCHAR FROM spend_lines WHERE line_ref = 'T-9'")
	if len(rows) != 1 {
		t.Fatalf("T-9: %v, want one line", rows)
	}
	return rows[0][0]
}

// TestIncrementalBuildsGiveWayToFull checks when a build must start afresh: after a chain
// of incremental builds, when the mart constants change, and when the published warehouse
// is not the one its build record describes.
func TestIncrementalBuildsGiveWayToFull(t *testing.T) {
	cfg := newWorkspace(t, goldenInbox)
	now := clock()
	var kinds []string
	for night := range 9 {
		if night > 0 {
			writeInbox(t, cfg, fmt.Sprintf("spend/night-%d.csv", night), fmt.Sprintf(oneLineSpend, fmt.Sprintf("%d.00", night)))
		}
		if night == 8 {
			cfg.Marts.Discount += 0.001
		}
		kinds = append(kinds, runBatch(t, cfg, now, false).Run.WarehouseBuild)
	}
	want := []string{"full", "incremental", "incremental", "incremental", "incremental", "incremental", "incremental", "full", "full"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("builds night by night (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"full", "0"}}, queryText(t, cfg, "SELECT kind, builds_since_full::VARCHAR FROM _build")); diff != "" {
		t.Errorf("the last build's record (-want +got):\n%s", diff)
	}

	// A warehouse put back from history (say, by hand) is a build of fewer files: the next
	// build may start from it, as long as what it adds makes the same warehouse as a full
	// build would.
	history, _ := filepath.Glob(filepath.Join(cfg.Workspace, "warehouse", "history", "*.duckdb"))
	if len(history) == 0 {
		t.Fatal("no warehouse in history")
	}
	old, err := os.ReadFile(history[len(history)-1])
	if err != nil {
		t.Fatal(err)
	}
	rollback := filepath.Join(cfg.Workspace, "warehouse", ".rollback.duckdb")
	if err := os.WriteFile(rollback, old, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(rollback, filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb")); err != nil {
		t.Fatal(err)
	}
	writeInbox(t, cfg, "spend/night-9.csv", fmt.Sprintf(oneLineSpend, "9.00"))
	runBatch(t, cfg, now, false)
	if got := actualOfT1(t, cfg); got != "9.00" {
		t.Errorf("T-1 after night 9: %s, want 9.00", got)
	}
	afterHistory := warehouseTables(t, cfg, "_runs", "_build")
	runBatch(t, cfg, now, true)
	sameTables(t, "the build after a rollback", warehouseTables(t, cfg, "_runs", "_build"), afterHistory)

	// Bytes once rejected (filed in the wrong folder), then filed properly, change that
	// file's ledger record: no base holds it as it now is.
	body := fmt.Sprintf(oneLineSpend, "10.00")
	writeInbox(t, cfg, "returns/night-10.csv", body)
	if out := runBatch(t, cfg, now, false); out.Run.FilesRejected != 1 {
		t.Fatalf("night 10: %d files rejected, want 1", out.Run.FilesRejected)
	}
	writeInbox(t, cfg, "spend/night-10.csv", body)
	out := runBatch(t, cfg, now, false)
	if out.Run.FilesNew != 1 || out.Run.WarehouseBuild != "full" {
		t.Errorf("night 11, the rejected bytes filed properly: %d new files, %q build; want 1, full", out.Run.FilesNew, out.Run.WarehouseBuild)
	}
	if got := actualOfT1(t, cfg); got != "10.00" {
		t.Errorf("T-1 after night 11: %s, want 10.00", got)
	}
}

// sameTables reports each table in which got differs from want, and any table only one of
// them has.
func sameTables(t *testing.T, what string, want, got map[string][][]string) {
	t.Helper()
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s has a table %s that a full build does not", what, name)
		}
	}
	for name, w := range want {
		if diff := cmp.Diff(w, got[name]); diff != "" {
			t.Errorf("table %s, %s (+) against a full build (-):\n%s", name, what, diff)
		}
	}
}

// TestChangedWarehouseIsNoBase: a published warehouse changed by hand (here, spend lines deleted
// and a table added through a read-write DuckDB) is not built upon: the next build is full,
// and the change does not survive it.
func TestChangedWarehouseIsNoBase(t *testing.T) {
	first, second := splitGolden(t)
	cfg := newWorkspace(t, first)
	now := clock()
	runBatch(t, cfg, now, false)
	live := filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb")
	if info, err := os.Stat(live); err != nil || info.Mode().Perm()&0o222 != 0 {
		t.Fatalf("published warehouse: %v, %v; want read-only", info.Mode(), err)
	}
	if err := os.Chmod(live, 0o644); err != nil { // someone with the rights to do so
		t.Fatal(err)
	}
	db, err := warehouse.Open(live, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DELETE FROM spend_versions WHERE project_id = 'SOF-002'", "CREATE TABLE scratch AS SELECT 1 AS x", "CHECKPOINT"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	deliver(t, cfg, second)
	if out := runBatch(t, cfg, now, false); out.Run.WarehouseBuild != "full" {
		t.Errorf("build on a changed warehouse: %q, want full", out.Run.WarehouseBuild)
	}
	changedOn := warehouseTables(t, cfg, "_runs", "_build")
	runBatch(t, cfg, now, true)
	sameTables(t, "the build after the change", warehouseTables(t, cfg, "_runs", "_build"), changedOn)
}

// TestBaseCopyWhileReading: the copy of the published warehouse that an incremental build
// starts from is made while the night's files are read (warehouse.StartBaseCopy), and no
// copy is left beside the published file whatever the night comes to: a batch cancelled
// between two files, a build from the copy, a night whose only file was delivered before,
// a forced full build. The digest recorded for each published file, taken while the build
// still had the file open (batch.finish), is the file's own.
func TestBaseCopyWhileReading(t *testing.T) {
	cfg := newWorkspace(t, goldenInbox)
	now := clock()
	runBatch(t, cfg, now, false)
	live := filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb")
	check := func(night string) {
		t.Helper()
		if left, _ := filepath.Glob(filepath.Join(cfg.Workspace, "warehouse", ".build-*")); len(left) > 0 {
			t.Errorf("%s: left %v beside the published warehouse", night, left)
		}
		b, err := os.ReadFile(filepath.Join(cfg.Workspace, "state", "published.json"))
		if err != nil {
			t.Fatal(err)
		}
		var pub struct {
			SHA256 string `json:"warehouse_sha256"`
		}
		if err := json.Unmarshal(b, &pub); err != nil {
			t.Fatal(err)
		}
		if sum, _, err := fsutil.SHA256File(live); err != nil || sum != pub.SHA256 {
			t.Errorf("%s: the published warehouse's SHA-256 is %s (%v), recorded as %s", night, sum, err, pub.SHA256)
		}
	}

	writeInbox(t, cfg, "spend/night-1.csv", fmt.Sprintf(oneLineSpend, "1.00"))
	writeInbox(t, cfg, "spend/night-2.csv", fmt.Sprintf(oneLineSpend, "2.00"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := batch.WithReached(batch.Options{Version: "test", Now: now}, func(point string) {
		if point == "file committed" {
			cancel()
		}
	})
	if out, err := batch.Run(ctx, cfg, opt); err == nil || out.Run.Status != batch.StatusCancelled {
		t.Fatalf("batch cancelled after its first file: %q, %v; want cancelled", out.Run.Status, err)
	}
	// Nor is one still being made: a copy the batch did not wait for would appear now.
	time.Sleep(100 * time.Millisecond)
	check("a batch cancelled between two files")

	if out := runBatch(t, cfg, now, false); out.Run.WarehouseBuild != "incremental" {
		t.Errorf("the night after: %q build, want incremental", out.Run.WarehouseBuild)
	}
	check("an incremental build")
	if got := actualOfT1(t, cfg); got != "2.00" {
		t.Errorf("T-1: %s, want 2.00", got)
	}

	writeInbox(t, cfg, "spend/night-1-again.csv", fmt.Sprintf(oneLineSpend, "1.00"))
	if out := runBatch(t, cfg, now, false); out.Run.Status != batch.StatusUnchanged || out.Run.FilesDuplicate != 1 {
		t.Errorf("a night with a file delivered before: %q, %d duplicates; want unchanged, 1", out.Run.Status, out.Run.FilesDuplicate)
	}
	check("a night with nothing new")

	writeInbox(t, cfg, "spend/night-3.csv", fmt.Sprintf(oneLineSpend, "3.00"))
	if out := runBatch(t, cfg, now, true); out.Run.WarehouseBuild != "full" {
		t.Errorf("a forced build: %q, want full", out.Run.WarehouseBuild)
	}
	check("a forced full build")
}
