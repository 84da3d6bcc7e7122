package warehouse

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// TestSpendLoadTurnsFSSTOffAgain: loadDataset turns FSST on while it loads spend's lines
// (for line_ref) and off again after, as the rest of the build expects (Build): after a
// load that worked, one whose lake file is missing, and one whose context was cancelled.
func TestSpendLoadTurnsFSSTOffAgain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, "build.duckdb"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var spend *contract.Dataset
	for _, ds := range contract.All() {
		if ds.Name == contract.Spend {
			spend = ds
		}
	}
	lake := filepath.Join(dir, "lake")
	for _, q := range []string{
		fsstOff,
		`CREATE TABLE _files AS SELECT 'sha-1' AS file_sha256, 1::BIGINT AS arrival`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	part := filepath.Join(lake, "spend", "financial_year=2024-25")
	if err := os.MkdirAll(part, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `COPY (SELECT 'SOF-1' AS project_id, 'Department for Education' AS department, 3 AS period,
			DATE '2024-06-12' AS payment_date, 'RDEL' AS budget_type, NULL::DECIMAL(18,2) AS planned_gbp, 12.50::DECIMAL(18,2) AS actual_gbp,
			'DFE-0001' AS line_ref, 'Acme' AS supplier, 'Invoice' AS description, 'sha-1' AS _file_sha256, 2::BIGINT AS _source_line, 'b1' AS _batch_id)
		TO '`+filepath.Join(part, "sha-1-0.parquet")+`' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	fsst := func(when string) {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, "SELECT current_setting('disabled_compression_methods')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(v, "fsst") {
			t.Errorf("%s: disabled_compression_methods is %q, want fsst", when, v)
		}
	}
	file := func(output string) []ledger.File {
		return []ledger.File{{SHA256: "sha-1", Dataset: contract.Spend, Status: ledger.StatusIngested, Outputs: []string{output}}}
	}

	if err := loadDataset(ctx, db, spend, lake, file("spend/financial_year=2024-25/sha-1-0.parquet"), true); err != nil {
		t.Fatal(err)
	}
	fsst("after a load")
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM spend_versions WHERE line_ref = 'DFE-0001' AND financial_year = '2024-25'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the line loaded: %d rows, %v", n, err)
	}

	if err := loadDataset(ctx, db, spend, lake, file("spend/financial_year=2024-25/missing.parquet"), false); err == nil {
		t.Fatal("a load of a missing lake file did not fail")
	}
	fsst("after a load that failed")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := loadDataset(cancelled, db, spend, lake, file("spend/financial_year=2024-25/sha-1-0.parquet"), false); err == nil {
		t.Fatal("a load with its context cancelled did not fail")
	}
	fsst("after a cancelled load")
}
