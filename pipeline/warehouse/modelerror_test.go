package warehouse

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
)

// TestModelErrorNamesModelAndFiles: a model that overflows (spend_monthly as it was before
// issue 8, defect 3: CAST(sum(actual_gbp) AS DECIMAL(18,2)) over lines of £6 and £5
// quadrillion) fails with an error that names the model and the files and lines with the
// largest amounts, so the operator knows which return to ask about. An error that is not
// about size (a syntax error) names the model alone.
func TestModelErrorNamesModelAndFiles(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "build.duckdb"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The raw tables as a build makes them (no lake files: empty), then the lines.
	for _, ds := range contract.All() {
		if err := loadDataset(ctx, db, ds, t.TempDir(), nil, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`CREATE TABLE _files AS SELECT * FROM (VALUES ('sha-card', 'spend/dfe-2024-06.csv'), ('sha-ok', 'spend/dwp-2024-06.csv'), ('sha-out', 'outcomes/dfe-2024-06.csv')) AS f(file_sha256, source_path)`,
		`INSERT INTO spend_versions (project_id, actual_gbp, planned_gbp, _file_sha256, _source_line) VALUES
			('SOF-1', 6000000000000000.00, NULL, 'sha-card', 7),
			('SOF-1', 5000000000000000.00, 10.00, 'sha-card', 9),
			('SOF-1', 1200.50, 1000.00, 'sha-ok', 2)`,
		`INSERT INTO raw_outcomes (project_id, benefit_gbp, _file_sha256, _source_line) VALUES ('SOF-1', 70000.00, 'sha-out', 4)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, overflow := db.ExecContext(ctx, `CREATE TABLE spend_monthly AS SELECT CAST(sum(actual_gbp) AS DECIMAL(18, 2)) AS actual_gbp FROM raw_spend`)
	if overflow == nil {
		t.Fatal("the narrow sum did not overflow: the test no longer shows a model error")
	}
	err = modelError(ctx, db, "020_spend_monthly.sql", overflow)
	var me *ModelError
	if !errors.As(err, &me) {
		t.Fatalf("modelError returned %T", err)
	}
	want := []string{
		"spend/dfe-2024-06.csv line 7 actual_gbp 6000000000000000.00",
		"spend/dfe-2024-06.csv line 9 actual_gbp 5000000000000000.00",
		"outcomes/dfe-2024-06.csv line 4 benefit_gbp 70000.00",
	}
	if diff := cmp.Diff(want, me.Largest); diff != "" {
		t.Errorf("largest amounts (-want +got):\n%s", diff)
	}
	for _, part := range []string{"warehouse: model 020_spend_monthly.sql: ", "out of range", "largest amounts in the lake: " + want[0]} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		t.Errorf("the DuckDB error is not kept (errors.As): %v", err)
	}

	_, syntax := db.ExecContext(ctx, `CREATE TABLE x AS SELEC 1`)
	err = modelError(ctx, db, "060_lessons_learned.sql", syntax)
	if !errors.As(err, &me) || len(me.Largest) != 0 || !strings.HasPrefix(err.Error(), "warehouse: model 060_lessons_learned.sql: ") {
		t.Errorf("syntax error: %v (largest %v), want the model named and no amounts", err, me.Largest)
	}
}
