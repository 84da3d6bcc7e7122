package ingest_test

import (
	"strings"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// TestAmountAtAndPastTheMaximum: an amount of exactly ingest.max_amount_gbp either side of
// zero is taken in; a penny more is rejected as out_of_range, naming the column, the value
// and the maximum, in every money column of every dataset (issue 8, defect 3: two accepted
// lines of £6 and £5 quadrillion overflowed spend_monthly's sum and stopped every publish).
// The maximum here is £1bn; TestDefaultMaximum checks the default.
func TestAmountAtAndPastTheMaximum(t *testing.T) {
	const header = "project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp"
	got := ingestBytes(t, "spend", []byte(header+"\n"+
		"SOF-1,DfE,2023-24,1,RDEL,1000000000.00,\"£1,000,000,000.00\"\n"+ // 2: both at the maximum
		"SOF-1,DfE,2023-24,2,RDEL,,-1000000000\n"+ // 3: at the maximum below zero
		"SOF-1,DfE,2023-24,3,RDEL,,1000000000.01\n"+ // 4: a penny past it
		"SOF-1,DfE,2023-24,4,RDEL,,(1000000000.01)\n"+ // 5: a penny past it below zero
		"SOF-1,DfE,2023-24,5,RDEL,1000000000.01,5.00\n"+ // 6: the plan past it
		"SOF-1,DfE,2023-24,6,RDEL,,6000000000000000\n"), // 7: the line: fits DECIMAL(18,2), not a SOF line
		nil, ingest.Options{RejectRateLimit: 1, MaxAmountGBP: 1_000_000_000}) // most rows fail on purpose: no quarantine
	if len(got.rows) != 2 || got.rows[0]["actual_gbp"] != "1000000000.00" || got.rows[0]["planned_gbp"] != "1000000000.00" || got.rows[1]["actual_gbp"] != "-1000000000.00" {
		t.Errorf("accepted rows %v, want lines 2 and 3 with £1,000,000,000.00 and -£1,000,000,000.00", got.rows)
	}
	want := []struct {
		line          int64
		column, value string
	}{
		{4, "actual_gbp", "£1,000,000,000.01"},
		{5, "actual_gbp", "-£1,000,000,000.01"},
		{6, "planned_gbp", "£1,000,000,000.01"},
		{7, "actual_gbp", "£6,000,000,000,000,000.00"},
	}
	if len(got.rejects) != len(want) {
		t.Fatalf("rejects %+v, want %d", got.rejects, len(want))
	}
	for i, w := range want {
		r := got.rejects[i]
		if r.Line != w.line || r.Reason != ingest.ReasonOutOfRange || r.Column != w.column {
			t.Errorf("reject %d: line %d %s %s, want line %d out_of_range %s", i, r.Line, r.Reason, r.Column, w.line, w.column)
		}
		// What the department needs to act: the column, its value and the maximum.
		for _, part := range []string{w.column + " " + w.value + " ", "-£1,000,000,000.00 to £1,000,000,000.00", "ingest.max_amount_gbp"} {
			if !strings.Contains(r.Message, part) {
				t.Errorf("reject at line %d: message %q lacks %q", r.Line, r.Message, part)
			}
		}
	}
}

// TestAmountMaximumFromOptions: the configured maximum is the one applied, in the other
// datasets' money columns too (benefit_gbp of outcomes, allocation_gbp of projects).
func TestAmountMaximumFromOptions(t *testing.T) {
	opt := ingest.Options{MaxAmountGBP: 500}
	outcomes := ingestBytes(t, "outcomes", []byte("project_id,outcome_id,direction,period_end,benefit_gbp\n"+
		"SOF-1,O1,higher_better,2024-03-31,500.00\n"+
		"SOF-1,O2,higher_better,2024-03-31,500.01\n"), nil, opt)
	if len(outcomes.rows) != 1 || outcomes.rows[0]["benefit_gbp"] != "500.00" {
		t.Errorf("outcomes accepted %v, want O1 at £500.00", outcomes.rows)
	}
	if len(outcomes.rejects) != 1 || outcomes.rejects[0].Column != "benefit_gbp" || outcomes.rejects[0].Reason != ingest.ReasonOutOfRange ||
		!strings.Contains(outcomes.rejects[0].Message, "benefit_gbp £500.01 is outside -£500.00 to £500.00") {
		t.Errorf("outcomes rejects %+v, want O2's benefit_gbp out_of_range past £500.00", outcomes.rejects)
	}
	projects := ingestBytes(t, "projects", []byte("project_id,project_name,sof_round,lead_department,policy_area,start_date,allocation_gbp\n"+
		"SOF-1,A,1,DfE,Education,2024-01-01,\"£1,000.00\"\n"), nil, opt)
	if len(projects.rows) != 0 || len(projects.rejects) != 1 || projects.rejects[0].Column != "allocation_gbp" || projects.rejects[0].Reason != ingest.ReasonOutOfRange {
		t.Errorf("projects: accepted %v, rejects %+v; want allocation_gbp £1,000.00 out_of_range past £500", projects.rows, projects.rejects)
	}
}

// TestDefaultMaximum: options that leave the maximum unset apply the default, £100bn: the
// largest real lines of departments' returns (NHS England's funding, £5.0bn) are taken
// in, a pasted sixteen-digit number is not.
func TestDefaultMaximum(t *testing.T) {
	got := ingestBytes(t, "spend", []byte("project_id,department,financial_year,period,budget_type,actual_gbp\n"+
		"SOF-1,DH,2014-15,10,RDEL,\"5,031,014,000.00\"\n"+
		"SOF-1,DH,2014-15,10,RDEL,100000000000.00\n"+
		"SOF-1,DH,2014-15,10,RDEL,100000000000.01\n"+
		"SOF-1,DH,2014-15,10,RDEL,4929876543210123\n"), nil, ingest.Options{RejectRateLimit: 1})
	if len(got.rows) != 2 || len(got.rejects) != 2 || got.rejects[0].Reason != ingest.ReasonOutOfRange || got.rejects[1].Reason != ingest.ReasonOutOfRange {
		t.Errorf("accepted %v, rejected %+v; want the £5.0bn line and £100bn taken, the two past the default rejected", got.rows, got.rejects)
	}
}
