package verify_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/internal/testfiles"
	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/verify"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

func clock() func() time.Time {
	t := time.Date(2026, 4, 2, 2, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

// goldenWorkspace is a workspace that has published two warehouses from the golden
// returns (so one is kept in the history).
func goldenWorkspace(t *testing.T) (config.Config, workspace.Workspace) {
	t.Helper()
	cfg := config.DefaultConfig()
	cfg.Workspace = t.TempDir()
	cfg.Ingest.Workers = 2
	if err := testfiles.CopyTree(filepath.Join("..", "..", "fixtures", "golden", "inbox"), filepath.Join(cfg.Workspace, "inbox")); err != nil {
		t.Fatal(err)
	}
	now := clock()
	for _, force := range []bool{false, true} {
		if _, err := batch.Run(context.Background(), cfg, batch.Options{Version: "test", Now: now, ForceBuild: force}); err != nil {
			t.Fatal(err)
		}
	}
	ws, _ := workspace.New(cfg.Workspace)
	return cfg, ws
}

// lakeRows is every row the ledger counts in the lake, with its lineage, as text.
func lakeRows(t *testing.T, ws workspace.Workspace) []string {
	t.Helper()
	files, err := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns()).Files()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows []string
	for _, f := range files {
		for _, p := range f.LakePaths() {
			rs, err := db.Query(fmt.Sprintf("SELECT to_json(t)::VARCHAR FROM read_parquet('%s', hive_partitioning = false) t", filepath.Join(ws.Lake(), p)))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for rs.Next() {
				var s string
				rs.Scan(&s)
				rows = append(rows, s)
			}
			rs.Close()
		}
	}
	slices.Sort(rows)
	return rows
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	os.Chmod(path, 0o644)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func kinds(r verify.Report) map[string][]string {
	out := map[string][]string{}
	for _, p := range r.Problems {
		out[p.Kind] = append(out[p.Kind], p.Path)
	}
	return out
}

func TestSoundWorkspace(t *testing.T) {
	_, ws := goldenWorkspace(t)
	r, err := verify.Check(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sound() || r.Originals != 8 || r.LakeFiles == 0 || r.Warehouses != 2 || len(r.Notes) != 0 {
		t.Errorf("a fresh workspace: %+v, want sound with every file checked and nothing to note", r)
	}
}

// TestDamageFoundRefusedAndRepaired flips a byte in a stored original, in a lake Parquet
// file and in the published warehouse, and deletes another lake file: verify names each,
// a full build refuses the damaged lake file, and repair restores the lake row for row.
func TestDamageFoundRefusedAndRepaired(t *testing.T) {
	cfg, ws := goldenWorkspace(t)
	ctx := context.Background()
	before := lakeRows(t, ws)
	files, err := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns()).Files()
	if err != nil {
		t.Fatal(err)
	}
	// Three different files: one's original, one's lake file flipped, one's deleted.
	var withOutputs []ledger.File
	for _, f := range files {
		if len(f.Outputs) > 0 {
			withOutputs = append(withOutputs, f)
		}
	}
	if len(withOutputs) < 3 {
		t.Fatalf("only %d files with lake outputs", len(withOutputs))
	}
	original, flipped, deleted := withOutputs[0], withOutputs[1], withOutputs[2]
	flipByte(t, ws.StorePath(original.SHA256))
	flipByte(t, filepath.Join(ws.Lake(), flipped.Outputs[0]))
	if err := os.Remove(filepath.Join(ws.Lake(), deleted.Outputs[0])); err != nil {
		t.Fatal(err)
	}
	flipByte(t, ws.WarehouseFile())
	orphan := filepath.Join(ws.Lake(), "spend", "stray.parquet")
	os.WriteFile(orphan, []byte("PAR1"), 0o644)

	r, err := verify.Check(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		verify.OriginalDamaged:  {"store/sha256/" + original.SHA256[:2] + "/" + original.SHA256},
		verify.LakeDamaged:      {"lake/" + flipped.Outputs[0]},
		verify.LakeMissing:      {"lake/" + deleted.Outputs[0]},
		verify.LakeOrphan:       {"lake/spend/stray.parquet"},
		verify.WarehouseDamaged: {"warehouse/sof.duckdb"},
	}
	if diff := cmp.Diff(want, kinds(r)); diff != "" {
		t.Fatalf("verify found (-want +got):\n%s\n%v", diff, r.Problems)
	}

	// A full build reads lake files only after their digests match the ledger.
	_, err = batch.Run(ctx, cfg, batch.Options{Version: "test", Now: clock(), ForceBuild: true})
	if !errors.Is(err, warehouse.ErrLakeDamaged) || !strings.Contains(err.Error(), flipped.Outputs[0]) || !strings.Contains(err.Error(), "sofpipe verify --repair") {
		t.Fatalf("a full build over the damaged lake: %v, want it refused naming %s", err, flipped.Outputs[0])
	}

	fixed, err := verify.Repair(ctx, ws, cfg, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed.Left) != 0 || !fixed.Rebuild {
		t.Errorf("repair left %v (rebuild %v)", fixed.Left, fixed.Rebuild)
	}
	if diff := cmp.Diff(before, lakeRows(t, ws)); diff != "" {
		t.Errorf("the repaired lake differs from the lake before the damage (-before +after):\n%s", diff)
	}
	rec, _ := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns()).Files()
	for _, f := range rec {
		if f.SHA256 == original.SHA256 && !strings.Contains(f.Damage, "moved to store/damaged/") {
			t.Errorf("the damaged original's record: damage %q", f.Damage)
		}
	}
	if _, err := os.Stat(orphan); err == nil {
		t.Error("the orphan lake file is still there")
	}
	if _, err := batch.Run(ctx, cfg, batch.Options{Version: "test", Now: clock(), ForceBuild: true}); err != nil {
		t.Fatalf("the full build after the repair: %v", err)
	}
	after, err := verify.Check(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Sound() {
		t.Errorf("after repair and rebuild: %v", after.Problems)
	}
}

// TestRepairRefusesADifferentReading: a lake file whose original, read again, gives other
// counts than the ledger recorded (its record was edited, say) is not replaced.
func TestRepairRefusesADifferentReading(t *testing.T) {
	cfg, ws := goldenWorkspace(t)
	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	files, _ := led.Files()
	var f ledger.File
	for _, x := range files {
		if len(x.Outputs) > 0 {
			f = x
			break
		}
	}
	f.RowsAccepted++
	f.RowsRead++
	if err := led.Commit(f); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(ws.Lake(), f.Outputs[0]))
	r, _ := verify.Check(context.Background(), ws)
	fixed, err := verify.Repair(context.Background(), ws, cfg, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed.Left) != 1 || !strings.Contains(fixed.Left[0].Detail, "the ledger recorded") {
		t.Errorf("left %v, want the file not repaired and why", fixed.Left)
	}
	if _, err := os.Stat(filepath.Join(ws.Lake(), f.Outputs[0])); err == nil {
		t.Error("a reading with other counts reached the lake")
	}
}

// TestOriginalAndLakeBothDamaged: nothing of the file can be used; its record is
// quarantined so that builds go on without it, and the message says to ask for it again.
func TestOriginalAndLakeBothDamaged(t *testing.T) {
	cfg, ws := goldenWorkspace(t)
	ctx := context.Background()
	files, _ := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns()).Files()
	var f ledger.File
	for _, x := range files {
		if len(x.Outputs) > 0 && x.Dataset == "spend" {
			f = x
		}
	}
	flipByte(t, ws.StorePath(f.SHA256))
	flipByte(t, filepath.Join(ws.Lake(), f.Outputs[0]))
	r, err := verify.Check(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := verify.Repair(ctx, ws, cfg, r, nil)
	if err != nil || len(fixed.Left) != 0 || !fixed.Rebuild {
		t.Fatalf("repair: %v, left %v", err, fixed.Left)
	}
	after, _ := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns()).Files()
	for _, x := range after {
		if x.SHA256 == f.SHA256 && (x.Status != ledger.StatusQuarantined || x.Reason != "damaged" || !strings.Contains(x.Message, "ask for the file again") || len(x.Outputs) != 0) {
			t.Errorf("the record after repair: %s %s %q outputs %v", x.Status, x.Reason, x.Message, x.Outputs)
		}
	}
	if _, err := batch.Run(ctx, cfg, batch.Options{Version: "test", Now: clock(), ForceBuild: true}); err != nil {
		t.Fatalf("a build after the repair: %v", err)
	}
	if r, _ := verify.Check(ctx, ws); !r.Sound() {
		t.Errorf("after repair and rebuild: %v", r.Problems)
	}
}

// TestMissingOriginalAndDamagedLake: as with a damaged original, the file is quarantined
// so that full builds go on (the review found builds blocked for good).
func TestMissingOriginalAndDamagedLake(t *testing.T) {
	cfg, ws := goldenWorkspace(t)
	ctx := context.Background()
	files, _ := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns()).Files()
	var f ledger.File
	for _, x := range files {
		if len(x.Outputs) > 0 && x.Dataset == "outcomes" {
			f = x
		}
	}
	os.Remove(ws.StorePath(f.SHA256))
	flipByte(t, filepath.Join(ws.Lake(), f.Outputs[0]))
	r, _ := verify.Check(ctx, ws)
	fixed, err := verify.Repair(ctx, ws, cfg, r, nil)
	if err != nil || len(fixed.Left) != 1 || fixed.Left[0].Kind != verify.OriginalMissing {
		t.Fatalf("repair: %v; left %v (want only the missing original, said)", err, fixed.Left)
	}
	if _, err := batch.Run(ctx, cfg, batch.Options{Version: "test", Now: clock(), ForceBuild: true}); err != nil {
		t.Fatalf("a full build after the repair: %v", err)
	}
}

// TestRepairStoppedBeforeTheRebuild: a repair that changed the lake and stopped before
// the warehouse was built again leaves the warehouse reported stale, not sound.
func TestRepairStoppedBeforeTheRebuild(t *testing.T) {
	cfg, ws := goldenWorkspace(t)
	ctx := context.Background()
	files, _ := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns()).Files()
	for _, f := range files {
		if len(f.Outputs) > 0 {
			os.Remove(filepath.Join(ws.Lake(), f.Outputs[0]))
			break
		}
	}
	r, _ := verify.Check(ctx, ws)
	if _, err := verify.Repair(ctx, ws, cfg, r, nil); err != nil {
		t.Fatal(err)
	}
	// No rebuild: the process stopped here.
	after, _ := verify.Check(ctx, ws)
	if got := kinds(after); len(got[verify.WarehouseStale]) != 1 {
		t.Fatalf("after a repair without its rebuild: %v, want the warehouse reported stale", after.Problems)
	}
	if _, err := batch.Run(ctx, cfg, batch.Options{Version: "test", Now: clock()}); err != nil {
		t.Fatal(err)
	}
	if final, _ := verify.Check(ctx, ws); !final.Sound() {
		t.Errorf("after the next batch: %v", final.Problems)
	}
}
