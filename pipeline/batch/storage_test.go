package batch_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
)

// TestLineRefStoredWithFSST: spend_versions keeps line_ref, a payment's reference that
// differs from line to line, with FSST (a 5M-line warehouse went from 165 MB to 116 MB, and
// every night copies and digests the file), while every other text column keeps what the
// build chooses with FSST off (a dictionary, or plain). A night's incremental build then
// adds its line to the table. (That the load turns FSST off again is
// TestSpendLoadTurnsFSSTOffAgain's.)
func TestLineRefStoredWithFSST(t *testing.T) {
	cfg := newWorkspace(t, "../../fixtures/sof/inbox")
	// DuckDB compresses a load's lines as it writes them, a row group (122,880 rows) at a
	// time, per thread; fewer stay in memory until the checkpoint, which compresses them
	// with FSST off like every other table. So one return of more lines than the build's
	// two threads can split below a row group each.
	var big strings.Builder
	big.WriteString("project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref,supplier,description\n")
	for i := range 260_000 {
		fmt.Fprintf(&big, "SOF1-001,\"Department for Culture, Media and Sport\",2021-22,%d,RDEL,,%d.%02d,DCMS-%07d,Supplier %d,Grant payment %d\n",
			i%12+1, 100+i%9000, i%100, 3_000_000+i, i%40, i%25)
	}
	writeInbox(t, cfg, "spend/dcms-large.csv", big.String())
	clk := clock()
	runBatch(t, cfg, clk, false)

	methods := func(table string) map[string][]string {
		db := openWarehouse(t, cfg)
		defer db.Close()
		_, rows := tableText(t, db, "SELECT DISTINCT s.column_name, s.compression FROM pragma_storage_info('"+table+"') AS s "+
			"JOIN duckdb_columns() AS c ON c.table_name = '"+table+"' AND c.column_name = s.column_name "+
			"WHERE c.data_type = 'VARCHAR' AND s.segment_type = 'VARCHAR' ORDER BY ALL")
		out := map[string][]string{}
		for _, r := range rows {
			out[r[0]] = append(out[r[0]], r[1])
		}
		return out
	}
	spend := methods("spend_versions")
	if !strings.Contains(strings.Join(spend["line_ref"], " "), "FSST") {
		t.Errorf("spend_versions.line_ref is stored as %v, want FSST", spend["line_ref"])
	}
	for col, m := range spend {
		if col != "line_ref" && strings.Contains(strings.Join(m, " "), "FSST") {
			t.Errorf("spend_versions.%s is stored as %v: FSST is for line_ref only", col, m)
		}
	}

	lines := func() string {
		db := openWarehouse(t, cfg)
		defer db.Close()
		_, rows := tableText(t, db, "SELECT count(*) FROM spend_versions")
		return rows[0][0]
	}
	before := lines()
	writeInbox(t, cfg, "spend/dcms-extra.csv", "project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref,supplier,description\n"+
		"SOF1-001,\"Department for Culture, Media and Sport\",2022-23,3,RDEL,,1250.00,DCMS-NEW-0001,Acme Ltd,Late invoice\n")
	out := runBatch(t, cfg, clk, false)
	if out.Run.WarehouseBuild != "incremental" || out.Run.Status != batch.StatusPublished {
		t.Fatalf("the second night: %s build, %s; want an incremental build, published", out.Run.WarehouseBuild, out.Run.Status)
	}
	if got, want := lines(), fmt.Sprint(mustAtoi(t, before)+1); got != want {
		t.Errorf("spend_versions has %s lines after the night, want %s", got, want)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
