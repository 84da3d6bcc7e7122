package batch_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
)

var (
	goldenInbox = filepath.Join("..", "..", "fixtures", "golden", "inbox")
	brokenDir   = filepath.Join("..", "..", "fixtures", "broken")
)

// fileCounts is what _files must say of one delivered file.
type fileCounts struct {
	Status                   string
	Read, Accepted, Rejected int64
}

// brokenFiles is what each file of fixtures/broken/inbox must become (see its README).
var brokenFiles = map[string]fileCounts{
	"gdp_deflators/b01-blank-lines.csv":            {"ingested", 7, 4, 3},
	"lessons/b01-header-variants.csv":              {"ingested", 7, 4, 3},
	"outcomes/b01-numbers.csv":                     {"ingested", 7, 4, 3},
	"projects/b01-register-resent-with-errors.csv": {"ingested", 7, 4, 3},
	"returns/misfiled.csv":                         {"rejected", 0, 0, 0},
	"spend/b01-bom-crlf-money.csv":                 {"ingested", 8, 5, 3},
	"spend/b02-cp1252-cr-only.csv":                 {"ingested", 8, 5, 3},
	"spend/b03-ragged-blank.csv":                   {"ingested", 8, 5, 3},
	"spend/b04-quoting.csv":                        {"ingested", 6, 4, 2},
	"spend/b05-contract-rules.csv":                 {"ingested", 15, 9, 6},
	"spend/b06-mostly-wrong.csv":                   {"quarantined", 4, 0, 4},
	"spend/b07-empty.csv":                          {"rejected", 0, 0, 0},
	"spend/b08-spreadsheet-saved-as-csv.csv":       {"rejected", 0, 0, 0},
	"spend/b09-missing-column.csv":                 {"rejected", 0, 0, 0},
	"spend/b10-duplicate-column.csv":               {"rejected", 0, 0, 0},
	"spend/b11-utf16le.csv":                        {"ingested", 3, 2, 1},
	"spend/b12-title-lines.csv":                    {"ingested", 3, 2, 1},
	"spend/b13-summary-rows.csv":                   {"ingested", 5, 2, 3},
	"spend/b14-refunds-currency.csv":               {"ingested", 5, 3, 2},
	"spend/b15-nil-return.csv":                     {"rejected", 0, 0, 0},
	"transparency/b16-excel-serials-patterns.csv":  {"ingested", 4, 3, 1},
	"transparency/b17-two-amounts.csv":             {"rejected", 0, 0, 0},
	"transparency/b18-round-pence.csv":             {"ingested", 4, 3, 1},
}

// TestBrokenFixtures delivers the golden returns together with fixtures/broken: files with
// every fault a department makes, each mixing good and bad rows, and files that cannot be
// read at all. The batch must publish; every bad row must be in _rejects with the right
// code, line and column and nothing else there; every good row must reach the model
// tables; the counts must add up per file; and the golden marts must not move, because the
// broken files' good rows belong to a project outside the register (SOF-900) or repeat the
// register's rows unchanged.
func TestBrokenFixtures(t *testing.T) {
	cfg := newWorkspace(t, goldenInbox)
	// The faults of inbox/transparency need a profile (header patterns, Excel day numbers,
	// rounding to the penny): fixtures/broken/profiles.json, as an operator's config.
	profiles, err := config.Load(filepath.Join(brokenDir, "profiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Profiles = profiles.Profiles
	deliver(t, cfg, filepath.Join(brokenDir, "inbox"))
	out := runBatch(t, cfg, clock(), false)
	if out.Run.Status != batch.StatusPublished {
		t.Fatalf("status %s: %s", out.Run.Status, out.Run.Message)
	}
	if out.Run.FilesRejected != 7 || out.Run.FilesQuarantined != 1 {
		t.Errorf("run: %d files rejected, %d quarantined; want 7 and 1", out.Run.FilesRejected, out.Run.FilesQuarantined)
	}
	db := openWarehouse(t, cfg)

	// The golden marts are exactly as without the broken files.
	compareGolden(t, db, "scale_up_candidates", filepath.Join("..", "..", "fixtures", "golden", "expected", "scale_up_candidates.csv"))
	compareGolden(t, db, "lessons_learned", filepath.Join("..", "..", "fixtures", "golden", "expected", "lessons_learned.csv"))

	// Every expected reject, and nothing else.
	_, want := readCSV(t, filepath.Join(brokenDir, "expected_rejects.csv"))
	_, got := tableText(t, db, `SELECT source_path, line::VARCHAR, coalesce("column", ''), reason FROM _rejects ORDER BY source_path, line`)
	sort.Slice(want, func(i, j int) bool {
		if want[i][0] != want[j][0] {
			return want[i][0] < want[j][0]
		}
		return len(want[i][1]) < len(want[j][1]) || (len(want[i][1]) == len(want[j][1]) && want[i][1] < want[j][1])
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("_rejects (-fixtures/broken/expected_rejects.csv +warehouse):\n%s", diff)
	}
	var unexplained int
	if err := db.QueryRow(`SELECT count(*) FROM _rejects WHERE message = '' OR reason = '' OR (line > 0 AND raw = '')`).Scan(&unexplained); err != nil {
		t.Fatal(err)
	}
	if unexplained != 0 {
		t.Errorf("%d rejects lack a reason, a message or their raw text", unexplained)
	}

	// _files: each broken file as expected, each golden file clean, every count balanced.
	_, files := tableText(t, db, `SELECT source_path, status, rows_read, rows_accepted, rows_rejected, rows_balance, coalesce(rejects_file, '') FROM _files ORDER BY arrival`)
	seen := map[string]bool{}
	for _, f := range files {
		path := f[0]
		seen[path] = true
		gotCounts := fileCounts{Status: f[1], Read: atoi(t, f[2]), Accepted: atoi(t, f[3]), Rejected: atoi(t, f[4])}
		wantCounts, broken := brokenFiles[path]
		if !broken {
			wantCounts = fileCounts{"ingested", gotCounts.Read, gotCounts.Read, 0}
		}
		if gotCounts != wantCounts {
			t.Errorf("_files %s: %+v, want %+v", path, gotCounts, wantCounts)
		}
		if f[5] != "true" {
			t.Errorf("_files %s: rows_balance %s", path, f[5])
		}
		if gotCounts.Rejected > 0 {
			if _, err := os.Stat(filepath.Join(cfg.Workspace, "lake", filepath.FromSlash(f[6]))); f[6] == "" || err != nil {
				t.Errorf("%s: rejects file %q is not in the lake: %v", path, f[6], err)
			}
		}
	}
	for path := range brokenFiles {
		if !seen[path] {
			t.Errorf("%s is not in _files", path)
		}
	}

	// Every accepted row of a broken file is in its model table (the register's rows are
	// superseded by the golden register, which arrives later with the same values: they
	// stay in raw_projects as history).
	_, lost := tableText(t, db, `
		WITH current AS (
			SELECT _file_sha256, count(*) AS n FROM spend_lines GROUP BY ALL
			UNION ALL SELECT _file_sha256, count(*) FROM outcomes GROUP BY ALL
			UNION ALL SELECT _file_sha256, count(*) FROM lessons GROUP BY ALL
			UNION ALL SELECT _file_sha256, count(*) FROM gdp_deflators GROUP BY ALL
			UNION ALL SELECT _file_sha256, count(*) FROM raw_projects GROUP BY ALL
		)
		SELECT f.source_path, f.rows_accepted, coalesce(c.n, 0)
		FROM _files f LEFT JOIN current c ON c._file_sha256 = f.file_sha256
		WHERE f.status = 'ingested' AND f.rows_accepted <> coalesce(c.n, 0)`)
	for _, l := range lost {
		if _, broken := brokenFiles[l[0]]; !broken {
			continue // golden files restate each other on purpose (fixtures/golden/README.md)
		}
		t.Errorf("%s: %s rows accepted, %s in the model tables", l[0], l[1], l[2])
	}
	_, sof900 := tableText(t, db, `SELECT count(*), sum(actual_gbp)::VARCHAR, bool_or(in_register) FROM (SELECT s.actual_gbp, m.in_register FROM spend_lines s JOIN spend_monthly m USING (project_id, department, financial_year, period, budget_type) WHERE project_id = 'SOF-900')`)
	if diff := cmp.Diff([][]string{{"43", "99886.82", "false"}}, sof900); diff != "" {
		t.Errorf("SOF-900 spend lines (count, Σ actual, in register) (-want +got):\n%s", diff)
	}
	_, values := tableText(t, db, `
		SELECT 'outcome', outcome_id, direction || ' ' || coalesce(evaluation_type, 'NULL') || ' ' || coalesce(baseline::VARCHAR, 'NULL') || ' ' || coalesce(target::VARCHAR, 'NULL') || ' ' || coalesce(benefit_gbp::VARCHAR, 'NULL') FROM outcomes WHERE project_id = 'SOF-900'
		UNION ALL SELECT 'lesson', lesson_id, theme || ' ' || polarity || ' ' || reported_on::VARCHAR FROM lessons WHERE project_id = 'SOF-900'
		UNION ALL SELECT 'deflator', financial_year, "index"::VARCHAR FROM gdp_deflators WHERE financial_year < '2020-21'
		ORDER BY 1, 2`)
	wantValues := [][]string{
		{"deflator", "2015-16", "45.0"}, {"deflator", "2016-17", "50.0"}, {"deflator", "2018-19", "60.0"}, {"deflator", "2019-20", "70.0"},
		{"lesson", "B1", "data_sharing barrier 2024-06-30"}, {"lesson", "B5", "culture enabler 2024-06-30"}, {"lesson", "B6", "best_practice enabler 2024-06-30"}, {"lesson", "B7", "structures barrier 2024-07-01"},
		{"outcome", "B1", "higher_better process 1234.5 -1.5 10000.00"}, {"outcome", "B5", "lower_better impact 10.0 5.0 2500.00"}, {"outcome", "B6", "higher_better NULL NULL NULL NULL"}, {"outcome", "B7", "higher_better economic 1.0 2.0 0.00"},
	}
	if diff := cmp.Diff(wantValues, values); diff != "" {
		t.Errorf("good rows of the broken files (-want +got):\n%s", diff)
	}

	// Title lines are recorded, not read; amounts rounded to the penny are counted.
	_, read := tableText(t, db, `SELECT source_path, header_line::VARCHAR, money_rounded::VARCHAR FROM _files WHERE header_line > 1 OR money_rounded > 0 ORDER BY source_path`)
	if diff := cmp.Diff([][]string{{"spend/b12-title-lines.csv", "4", "0"}, {"transparency/b18-round-pence.csv", "1", "2"}}, read); diff != "" {
		t.Errorf("_files header_line, money_rounded (-want +got):\n%s", diff)
	}

	// The data tests ran and passed: nothing lost, spend reconciled.
	_, checks := tableText(t, db, `SELECT name, status FROM _checks WHERE severity = 'error' AND status <> 'pass' OR name = 'ledger_rows_accounted' ORDER BY name`)
	if diff := cmp.Diff([][]string{{"ledger_rows_accounted", "pass"}}, checks); diff != "" {
		t.Errorf("_checks (-want +got):\n%s", diff)
	}
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("%q is not a count", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
