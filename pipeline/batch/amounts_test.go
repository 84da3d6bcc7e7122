package batch_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
)

// TestManyLinesAtTheMaximum (issue 8, defect 3): 100,000 accepted spend lines at the
// per-line maximum in one project, department and month, planned and actual, plus one line
// a penny past it. The batch publishes, the line past the maximum is rejected with its
// line number, and spend_monthly and the scorecard hold the exact sums. Run at the default
// ingest.max_amount_gbp and at the largest the config allows, where the bound is the
// lake's DECIMAL(18,2) itself and the sum, about £10^21, is far past what the old
// DECIMAL(18,2) sums held: two lines of £6 and £5 quadrillion were enough to stop every
// publish.
func TestManyLinesAtTheMaximum(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two warehouses of 100,000 lines")
	}
	const lines = 100_000
	for _, tc := range []struct {
		maxGBP       int64
		amount, past string // as the return writes them
		pastReason   string
		sum          string // 100,000 × amount, worked out by hand
	}{
		{1_000_000_000, `"£1,000,000,000.00"`, `"£1,000,000,000.01"`, "out_of_range",
			"100000000000000.00"},
		{config.MaxAmountGBPLimit, `"£9,999,999,999,999,999.99"`, `"£10,000,000,000,000,000.00"`, "money_overflow",
			"999999999999999999000.00"},
	} {
		t.Run(fmt.Sprint(tc.maxGBP), func(t *testing.T) {
			cfg := config.DefaultConfig()
			cfg.Workspace = t.TempDir()
			cfg.Ingest.Workers = 2
			cfg.Ingest.MaxAmountGBP = tc.maxGBP
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			inbox := filepath.Join(cfg.Workspace, "inbox")
			write := func(rel, body string) {
				p := filepath.Join(inbox, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("projects/register.csv", "project_id,project_name,sof_round,lead_department,policy_area,start_date,end_date\n"+
				"SOF-1,Large lines,1,Department for Education,Education,2024-04-01,2025-03-31\n")
			write("gdp_deflators/deflators.csv", "financial_year,index\n2023-24,100\n2024-25,100\n")

			// The spend return, written as a department would send it.
			p := filepath.Join(inbox, "spend", "dfe-2024-04.csv")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(f)
			fmt.Fprintln(w, "project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref")
			for i := range lines {
				fmt.Fprintf(w, "SOF-1,Department for Education,2024-25,1,RDEL,%s,%s,L%06d\n", tc.amount, tc.amount, i)
			}
			fmt.Fprintf(w, "SOF-1,Department for Education,2024-25,1,RDEL,,%s,PAST\n", tc.past)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}

			out := runBatch(t, cfg, clock(), false)
			if out.Run.Status != batch.StatusPublished {
				t.Fatalf("status %s: %s", out.Run.Status, out.Run.Message)
			}
			db := openWarehouse(t, cfg)

			sum := tc.sum
			_, got := tableText(t, db, "SELECT CAST(planned_gbp AS VARCHAR), CAST(actual_gbp AS VARCHAR), lines FROM spend_monthly")
			want := [][]string{{sum, sum, fmt.Sprint(lines)}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("spend_monthly %v, want %v", got, want)
			}
			_, got = tableText(t, db, "SELECT CAST(cost_nominal_gbp AS VARCHAR), round(spend_variance, 9) FROM project_scorecard")
			if want := [][]string{{sum, "0"}}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("project_scorecard cost and variance %v, want %v", got, want)
			}
			_, got = tableText(t, db, "SELECT line, reason, \"column\" FROM _rejects")
			if want := [][]string{{fmt.Sprint(lines + 2), tc.pastReason, "actual_gbp"}}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("_rejects %v, want the line past the maximum, %v", got, want)
			}
		})
	}
}
