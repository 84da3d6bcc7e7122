package batch_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/internal/testfiles"
	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

// newWorkspace returns a config for a fresh workspace in t.TempDir() whose inbox holds a
// copy of src (a folder laid out as inbox/<dataset>/*.csv).
func newWorkspace(t *testing.T, src string) config.Config {
	t.Helper()
	cfg := config.DefaultConfig()
	cfg.Workspace = t.TempDir()
	cfg.Ingest.Workers = 2
	deliver(t, cfg, src)
	return cfg
}

// deliver copies the files under src into the workspace's inbox, as a department would.
func deliver(t *testing.T, cfg config.Config, src string) {
	t.Helper()
	if err := testfiles.CopyTree(src, filepath.Join(cfg.Workspace, "inbox")); err != nil {
		t.Fatal(err)
	}
}

// clock returns a Now function that advances a second per call, so batch ids differ.
func clock() func() time.Time {
	t := time.Date(2026, 4, 2, 2, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func runBatch(t *testing.T, cfg config.Config, now func() time.Time, force bool) batch.Outcome {
	t.Helper()
	out, err := batch.Run(context.Background(), cfg, batch.Options{Version: "test", Now: now, ForceBuild: force})
	if err != nil {
		t.Fatalf("batch.Run: %v", err)
	}
	return out
}

func openWarehouse(t *testing.T, cfg config.Config) *sql.DB {
	t.Helper()
	db, err := warehouse.Open(filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tableText returns a query's columns and rows with every value rendered as text the way
// the golden files write it: empty for NULL, numbers in full precision.
func tableText(t *testing.T, db *sql.DB, q string) ([]string, [][]string) {
	t.Helper()
	rs, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				row[i] = ""
			case float64:
				row[i] = strconv.FormatFloat(v, 'f', -1, 64)
			case time.Time:
				row[i] = v.Format("2006-01-02")
			case fmt.Stringer:
				row[i] = v.String()
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

func readCSV(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s: empty", path)
	}
	return recs[0], recs[1:]
}

// sameValue compares a golden cell with the warehouse's: numbers within 1e-6, else text.
func sameValue(want, got string) bool {
	if want == got {
		return true
	}
	w, errW := strconv.ParseFloat(want, 64)
	g, errG := strconv.ParseFloat(got, 64)
	if errW == nil && errG == nil {
		return math.Abs(w-g) <= 1e-6
	}
	return false
}

// compareGolden checks every column the golden file names, row by row, in order.
func compareGolden(t *testing.T, db *sql.DB, table, goldenPath string) {
	t.Helper()
	wantCols, wantRows := readCSV(t, goldenPath)
	gotCols, gotRows := tableText(t, db, "SELECT * FROM "+table)
	index := map[string]int{}
	for i, c := range gotCols {
		index[c] = i
	}
	for _, c := range wantCols {
		if _, ok := index[c]; !ok {
			t.Errorf("%s: golden column %q is not in the table (has %v)", table, c, gotCols)
		}
	}
	if len(gotRows) != len(wantRows) {
		t.Fatalf("%s: %d rows, golden has %d", table, len(gotRows), len(wantRows))
	}
	for r := range wantRows {
		for c, name := range wantCols {
			i, ok := index[name]
			if !ok {
				continue
			}
			if !sameValue(wantRows[r][c], gotRows[r][i]) {
				t.Errorf("%s row %d (%s) column %s: got %q, want %q", table, r+1, gotRows[r][0], name, gotRows[r][i], wantRows[r][c])
			}
		}
	}
}

func TestGolden(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	out := runBatch(t, cfg, clock(), false)
	if out.Run.Status != batch.StatusPublished {
		t.Fatalf("status %s: %s", out.Run.Status, out.Run.Message)
	}
	db := openWarehouse(t, cfg)
	compareGolden(t, db, "scale_up_candidates", filepath.Join("..", "..", "fixtures", "golden", "expected", "scale_up_candidates.csv"))
	compareGolden(t, db, "lessons_learned", filepath.Join("..", "..", "fixtures", "golden", "expected", "lessons_learned.csv"))

	// The data tests the golden README says fire, and no others.
	_, fired := tableText(t, db, "SELECT name, status, rows FROM _checks WHERE status <> 'pass' ORDER BY name")
	want := [][]string{
		{"deflators_mixed_vintages", "warn", "2"},
		{"outcomes_ci_inverted", "warn", "1"},
		{"outcomes_latest_not_measurable", "warn", "2"},
		{"unregistered_project_rows", "warn", "3"},
	}
	if diff := cmp.Diff(want, fired); diff != "" {
		t.Errorf("data tests that found rows (-want +got):\n%s", diff)
	}
}

// martContents renders both marts and the monthly spend so two builds can be compared.
func martContents(t *testing.T, cfg config.Config) map[string][][]string {
	t.Helper()
	db := openWarehouse(t, cfg)
	out := map[string][][]string{}
	for _, q := range []string{
		"SELECT * FROM scale_up_candidates",
		"SELECT * FROM lessons_learned",
		"SELECT * FROM project_scorecard ORDER BY project_id",
		"SELECT * FROM spend_monthly ORDER BY ALL",
	} {
		_, rows := tableText(t, db, q)
		out[q] = rows
	}
	db.Close()
	return out
}

func TestRunTwiceSameMarts(t *testing.T) {
	inbox := filepath.Join("..", "..", "fixtures", "golden", "inbox")
	cfg := newWorkspace(t, inbox)
	now := clock()
	first := runBatch(t, cfg, now, false)
	before := martContents(t, cfg)

	// The same inbox delivered again: every file is a known sha256, nothing changes.
	deliver(t, cfg, inbox)
	second := runBatch(t, cfg, now, true)
	if second.Run.FilesNew != 0 || second.Run.FilesDuplicate != first.Run.FilesNew+first.Run.FilesRejected {
		t.Errorf("second run: %d new, %d duplicate; want 0 new, %d duplicate", second.Run.FilesNew, second.Run.FilesDuplicate, first.Run.FilesNew+first.Run.FilesRejected)
	}
	after := martContents(t, cfg)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("marts changed on a rerun of the same inbox (-first +second):\n%s", diff)
	}

	// A third run with nothing new leaves the published file alone.
	third := runBatch(t, cfg, now, false)
	if third.Run.Status != batch.StatusUnchanged {
		t.Errorf("third run status %s, want %s", third.Run.Status, batch.StatusUnchanged)
	}
	db := openWarehouse(t, cfg)
	var runs int
	if err := db.QueryRow("SELECT count(*) FROM _runs").Scan(&runs); err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("_runs in the second build holds %d runs, want 2 (the file was built by the second run)", runs)
	}
}

func TestExportsReadBackWithTypes(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	out := runBatch(t, cfg, clock(), false)
	if len(out.Exports) != 4 {
		t.Fatalf("exports %v, want 4 files", out.Exports)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wh := openWarehouse(t, cfg)
	for _, table := range []string{"scale_up_candidates", "lessons_learned"} {
		p := filepath.Join(cfg.Workspace, "exports", table+".parquet")
		var n, want int64
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM read_parquet('%s')", p)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := wh.QueryRow("SELECT count(*) FROM " + table).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if n != want || n == 0 {
			t.Errorf("%s.parquet has %d rows, the warehouse %d", table, n, want)
		}
		csvPath := filepath.Join(cfg.Workspace, "exports", table+".csv")
		if b, err := os.ReadFile(csvPath); err != nil || !strings.HasPrefix(string(b), "\xEF\xBB\xBF") {
			t.Errorf("%s.csv does not start with a UTF-8 byte order mark (Excel would garble £ and ≥)", table)
		}
		_, rows := readCSV(t, csvPath)
		if int64(len(rows)) != want {
			t.Errorf("%s.csv has %d rows, the warehouse %d", table, len(rows), want)
		}
	}
	types := map[string]string{}
	rs, err := db.Query(fmt.Sprintf("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('%s'))", filepath.Join(cfg.Workspace, "exports", "scale_up_candidates.parquet")))
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var n, ty string
		rs.Scan(&n, &ty)
		types[n] = ty
	}
	rs.Close()
	// cost_nominal_gbp is a sum of lines, so DECIMAL(38,2): no set of lines can overflow it
	// (issue 8, defect 3); the lines themselves stay DECIMAL(18,2) in the lake.
	for col, want := range map[string]string{"cost_nominal_gbp": "DECIMAL(38,2)", "start_date": "DATE", "score": "DOUBLE", "band": "VARCHAR"} {
		if types[col] != want {
			t.Errorf("scale_up_candidates.parquet column %s is %q, want %s", col, types[col], want)
		}
	}
}

func TestLakeParquetTypes(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	runBatch(t, cfg, clock(), false)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(cfg.Workspace, "lake", "spend", "financial_year=*", "*.parquet")
	rs, err := db.Query(fmt.Sprintf("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('%s', hive_partitioning = true))", glob))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for rs.Next() {
		var n, ty string
		rs.Scan(&n, &ty)
		types[n] = ty
	}
	rs.Close()
	for col, want := range map[string]string{"actual_gbp": "DECIMAL(18,2)", "planned_gbp": "DECIMAL(18,2)", "payment_date": "DATE", "period": "INTEGER", "_source_line": "BIGINT", "_file_sha256": "VARCHAR"} {
		if types[col] != want {
			t.Errorf("lake spend column %s is %q, want %s (all: %v)", col, types[col], want, types)
		}
	}

	// How the files store them, as any Parquet reader sees it: amounts as INT64 with the
	// DECIMAL(18,2) annotation, and min/max statistics (what row-group pruning trusts)
	// that agree with the values, refunds included.
	var physical, converted string
	var scale, precision int
	if err := db.QueryRow(fmt.Sprintf(`SELECT DISTINCT type, converted_type, scale, "precision" FROM parquet_schema('%s') WHERE name = 'actual_gbp'`, glob)).
		Scan(&physical, &converted, &scale, &precision); err != nil {
		t.Fatal(err)
	}
	if physical != "INT64" || converted != "DECIMAL" || scale != 2 || precision != 18 {
		t.Errorf("actual_gbp is stored as %s %s(%d,%d), want INT64 DECIMAL(18,2)", physical, converted, precision, scale)
	}
	for _, col := range []string{"actual_gbp", "planned_gbp", "payment_date", "period"} {
		var statsMin, statsMax, valueMin, valueMax string
		if err := db.QueryRow(fmt.Sprintf(`SELECT min(stats_min_value::%[2]s)::VARCHAR, max(stats_max_value::%[2]s)::VARCHAR FROM parquet_metadata('%[1]s') WHERE path_in_schema = '%[3]s'`, glob, types[col], col)).
			Scan(&statsMin, &statsMax); err != nil {
			t.Fatalf("%s statistics: %v", col, err)
		}
		if err := db.QueryRow(fmt.Sprintf(`SELECT min(%[2]s)::VARCHAR, max(%[2]s)::VARCHAR FROM read_parquet('%[1]s')`, glob, col)).
			Scan(&valueMin, &valueMax); err != nil {
			t.Fatal(err)
		}
		if statsMin != valueMin || statsMax != valueMax {
			t.Errorf("%s: statistics say %s to %s, the values run from %s to %s", col, statsMin, statsMax, valueMin, valueMax)
		}
		if col == "actual_gbp" && !strings.HasPrefix(valueMin, "-") {
			t.Errorf("actual_gbp: no refund (negative amount) in the golden spend, so the statistics check proves less: min %s", valueMin)
		}
	}
}

func TestSecondProcessIsLockedOut(t *testing.T) {
	cfg := newWorkspace(t, filepath.Join("..", "..", "fixtures", "golden", "inbox"))
	if err := os.MkdirAll(cfg.Workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	// flock locks are per open file description, so a second open in this process stands in
	// for a second process.
	lock, err := fsutil.TryLock(filepath.Join(cfg.Workspace, ".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	_, err = batch.Run(context.Background(), cfg, batch.Options{Version: "test"})
	if !errors.Is(err, fsutil.ErrLocked) {
		t.Fatalf("err = %v, want the workspace-locked error", err)
	}
}
