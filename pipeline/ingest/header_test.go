package ingest_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

const canonicalSpendHeader = "project_id,department,payment_date,budget_type,actual_gbp,line_ref\n"

// Title lines above the header are passed over, recorded, and neither read nor rejected;
// lines of delimiters among them do not count towards the twenty.
func TestHeaderBelowTitleLines(t *testing.T) {
	data := "\"Spend over £25,000 - Publication template\",,,,,\n" +
		",,,,,\n" +
		"NATIONAL FOREST COMPANY\n" +
		"\n" +
		"Month: May 2024,,,,,Annex B\n" +
		canonicalSpendHeader +
		"SOF-1,DfE,03/05/2024,RDEL,\"£1,234.50\",A1\n" +
		"SOF-1,DfE,04/05/2024,RDEL,99.99,A2\n"
	for _, chunk := range []int{0, 16, 64} { // the search must not depend on where chunks end
		res := ingestBytes(t, "spend", []byte(data), nil, ingest.Options{ChunkBytes: chunk})
		if res.Status != ingest.StatusIngested || res.RowsRead != 2 || res.RowsAccepted != 2 || res.RowsRejected != 0 {
			t.Fatalf("chunk %d: %+v", chunk, res.Result)
		}
		if res.HeaderLine != 6 {
			t.Errorf("chunk %d: header line %d, want 6", chunk, res.HeaderLine)
		}
		want := []string{"\"Spend over £25,000 - Publication template\",,,,,", "NATIONAL FOREST COMPANY", "Month: May 2024,,,,,Annex B"}
		if diff := cmp.Diff(want, res.SkippedLines); diff != "" {
			t.Errorf("chunk %d: skipped lines (-want +got):\n%s", chunk, diff)
		}
		if got := []string{res.rows[0]["_source_line"], res.rows[1]["_source_line"]}; got[0] != "7" || got[1] != "8" {
			t.Errorf("chunk %d: source lines %v, want the physical lines 7 and 8", chunk, got)
		}
	}
}

// A header past the twentieth non-blank line is not looked for, and the message names the
// closest candidate and what it lacked.
func TestHeaderNotFoundNamesClosest(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 20; i++ {
		b.WriteString("title line\n")
	}
	b.WriteString(canonicalSpendHeader + "SOF-1,DfE,03/05/2024,RDEL,1,A\n")
	res := ingestBytes(t, "spend", []byte(b.String()), nil, ingest.Options{})
	if res.Status != ingest.StatusRejected || res.Reason != ingest.ReasonMissingColumns {
		t.Fatalf("21st line header: %+v", res.Result)
	}

	data := "Spend over £25k\n" +
		"project_id,department,budget_type,amount\n" + // the closest: lacks two
		"SOF-1,DfE,RDEL,5\n"
	res = ingestBytes(t, "spend", []byte(data), nil, ingest.Options{})
	if res.Status != ingest.StatusRejected || res.Reason != ingest.ReasonMissingColumns || res.RowsRead != 0 {
		t.Fatalf("no header: %+v", res.Result)
	}
	for _, want := range []string{"actual_gbp, financial_year and period, or payment_date", `"amount"`, "line 2, the closest to a header of the first 3 non-blank lines"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("message %q lacks %q", res.Message, want)
		}
	}
}

// A nil return without a header is rejected whole under its own code; a nil-return row
// under a header is a reject that does not quarantine the file.
func TestNilReturns(t *testing.T) {
	res := ingestBytes(t, "spend", []byte("\"Spend over £25,000 - Publication template\",,\nDepartment family,Entity,\nDEFRA,Gangmasters Licensing Authority,\n,Nil Return,\n"), nil, ingest.Options{})
	if res.Status != ingest.StatusRejected || res.Reason != ingest.ReasonNilReturn {
		t.Fatalf("nil return file: %+v", res.Result)
	}
	res = ingestBytes(t, "spend", []byte(canonicalSpendHeader+"NIL RETURN,,,,,\n"), nil, ingest.Options{})
	if res.Status != ingest.StatusIngested || res.RowsRejected != 1 || res.RejectsByReason[ingest.ReasonNilReturn] != 1 {
		t.Fatalf("nil return row: %+v", res.Result)
	}
}

// Totals under the data are rejected as summary_row, whatever column holds the label, and
// do not count towards quarantine; a payment to a company called Total is a payment.
func TestSummaryRows(t *testing.T) {
	data := canonicalSpendHeader +
		"SOF-1,DfE,03/05/2024,RDEL,100.00,A1\n" +
		"SOF-1,Total Security Ltd,04/05/2024,RDEL,50.00,A2\n" +
		",,,,150.00,\n" + // a lone sum under the amount column
		",,Total,,150.00,\n" +
		"Grand Total,,,,\"£150.00\",2\n" +
		",,,,150.00,see note\n" + // text that is no label: an ordinary reject
		",,,,,Total\n" // no amount: not a total line
	res := ingestBytes(t, "spend", []byte(data), nil, ingest.Options{})
	want := []rej{
		{4, ingest.ReasonSummaryRow, "actual_gbp"}, {5, ingest.ReasonSummaryRow, "actual_gbp"}, {6, ingest.ReasonSummaryRow, "actual_gbp"},
		{7, ingest.ReasonMissingRequired, "project_id"}, {8, ingest.ReasonMissingRequired, "project_id"},
	}
	if diff := cmp.Diff(want, rejectCodes(res.rejects)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if res.RowsAccepted != 2 || res.rows[1]["department"] != "Total Security Ltd" {
		t.Errorf("accepted %d rows: %v", res.RowsAccepted, res.rows)
	}
	// Two payments and three totals: the totals do not quarantine the file.
	res = ingestBytes(t, "spend", []byte(canonicalSpendHeader+"SOF-1,DfE,03/05/2024,RDEL,1,A\n,,,,1,\n,,,,1,\n,,,,1,\n"), nil, ingest.Options{})
	if res.Status != ingest.StatusIngested || res.RowsAccepted != 1 {
		t.Errorf("totals quarantined the file: %+v", res.Result)
	}
}

// excel_serial_dates reads day numbers in the years dates may have; outside them, or
// without the option, the message says which day the number would be.
func TestExcelSerialDates(t *testing.T) {
	data := canonicalSpendHeader +
		"SOF-1,DfE,41058,RDEL,1,A1\n" + // 29/05/2012
		"SOF-1,DfE,45382,RDEL,1,A2\n" + // 31/03/2024
		"SOF-1,DfE,20111,RDEL,1,A3\n" + // 1955: not a date of a return
		"SOF-1,DfE,31/03/2024,RDEL,1,A4\n"
	on := &config.Profile{Name: "p", Dataset: "spend", ExcelSerialDates: true}
	res := ingestBytes(t, "spend", []byte(data), on, ingest.Options{})
	if diff := cmp.Diff([]rej{{4, ingest.ReasonBadDate, "payment_date"}}, rejectCodes(res.rejects)); diff != "" {
		t.Fatalf("with the option (-want +got):\n%s", diff)
	}
	if !strings.Contains(res.rejects[0].Message, "would be 1955-01-22") {
		t.Errorf("message %q", res.rejects[0].Message)
	}
	if got := []string{res.rows[0]["payment_date"], res.rows[0]["period"], res.rows[1]["payment_date"], res.rows[1]["financial_year"]}; !cmp.Equal(got, []string{"2012-05-29", "2", "2024-03-31", "2023-24"}) {
		t.Errorf("serials read as %v", got)
	}
	res = ingestBytes(t, "spend", []byte(data), nil, ingest.Options{RejectRateLimit: 0.99})
	if res.RowsAccepted != 1 || res.RejectsByReason[ingest.ReasonBadDate] != 3 || !strings.Contains(res.rejects[0].Message, "2012-05-29") || !strings.Contains(res.rejects[0].Message, "excel_serial_dates") {
		t.Errorf("without the option: %+v %v", res.Result, res.rejects)
	}
}

// Header patterns: exact names win over patterns, a fallback pattern is used only when
// nothing else names its column, and two headers at one rank reject the file naming both.
func TestHeaderPatterns(t *testing.T) {
	p := &config.Profile{Name: "p", Dataset: "spend", Defaults: map[string]string{"project_id": "U", "budget_type": "RDEL"},
		HeaderAliases: map[string]string{"Amount": "actual_gbp", "Entity": ""},
		HeaderPatterns: []config.HeaderPattern{
			{Match: "*post*code*", Column: ""},
			{Match: "*amount*", Column: "actual_gbp"},
			{Match: "*date*", Column: "payment_date", Fallback: true},
			{Match: "*department*", Column: "department"},
			{Match: "*body*", Column: "department", Fallback: true},
			{Match: "*supplier*", Column: "supplier"},
		}}
	for _, tc := range []struct {
		name, header, row string
		want              map[string]string
		ignored           []string
		reason            ingest.Reason
		message           string
	}{
		{name: "patterns", header: "Department family(T),Transaction Date,AP Amount,Supplier Post Code,Supplier Name",
			row: "DfE,03/05/2024,5.00,SW1,ACME", want: map[string]string{"department": "DfE", "payment_date": "2024-05-03", "actual_gbp": "5.00", "supplier": "ACME"},
			ignored: []string{"Supplier Post Code"}},
		{name: "exact beats pattern", header: "Department,Date,Amount,VAT Amount",
			row: "DfE,03/05/2024,5.00,1.00", want: map[string]string{"actual_gbp": "5.00"}, ignored: []string{"VAT Amount"}},
		{name: "fallback only without a better header", header: "Paying Body,Date,Amount",
			row: "Wales Office,03/05/2024,5.00", want: map[string]string{"department": "Wales Office"}},
		{name: "fallback loses", header: "Paying Body,Department,Invoice Date,Amount",
			row: "Wales Office,DfE,03/05/2024,5.00", want: map[string]string{"department": "DfE"}, ignored: []string{"Paying Body"}},
		{name: "exact ignore beats a pattern", header: "Entity,Department,Date,Amount",
			row: "X,DfE,03/05/2024,5.00", want: map[string]string{"department": "DfE"}, ignored: []string{"Entity"}},
		{name: "two at one rank", header: "Department,Date,Net Amount,Gross Amount", row: "DfE,03/05/2024,5,6",
			reason: ingest.ReasonDuplicateColumn, message: `header cells 3 ("Net Amount") and 4 ("Gross Amount") both map to column actual_gbp (by the patterns "*amount*" and "*amount*")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ingestBytes(t, "spend", []byte(tc.header+"\n"+tc.row+"\n"), p, ingest.Options{})
			if tc.reason != "" {
				if res.Status != ingest.StatusRejected || res.Reason != tc.reason || !strings.Contains(res.Message, tc.message) {
					t.Fatalf("got %s %s %q", res.Status, res.Reason, res.Message)
				}
				return
			}
			if res.RowsAccepted != 1 {
				t.Fatalf("%+v %v", res.Result, res.rejects)
			}
			if diff := cmp.Diff([]row{tc.want}, project(res.rows, []row{tc.want})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.ignored, res.IgnoredColumns); diff != "" {
				t.Errorf("ignored (-want +got):\n%s", diff)
			}
		})
	}
}

// Refunds with a trailing sign, amounts in another currency, and round_money_to_pence,
// counted in the result.
func TestMoneyForms(t *testing.T) {
	data := canonicalSpendHeader +
		"SOF-1,DfE,03/05/2024,RDEL,\"1,234.50-\",A1\n" +
		"SOF-1,DfE,03/05/2024,RDEL,99.99 CR,A2\n" +
		"SOF-1,DfE,03/05/2024,RDEL,\"$1,432.92\",A3\n" +
		"SOF-1,DfE,03/05/2024,RDEL,43266.685,A4\n" +
		"SOF-1,DfE,03/05/2024,RDEL,-0.125,A5\n"
	res := ingestBytes(t, "spend", []byte(data), nil, ingest.Options{RejectRateLimit: 0.99})
	if diff := cmp.Diff([]rej{{4, ingest.ReasonForeignCurrency, "actual_gbp"}, {5, ingest.ReasonMoneyPrecision, "actual_gbp"}, {6, ingest.ReasonMoneyPrecision, "actual_gbp"}}, rejectCodes(res.rejects)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if res.rows[0]["actual_gbp"] != "-1234.50" || res.rows[1]["actual_gbp"] != "-99.99" || res.MoneyRounded != 0 {
		t.Errorf("refunds %v, rounded %d", res.rows, res.MoneyRounded)
	}
	res = ingestBytes(t, "spend", []byte(data), &config.Profile{Name: "p", Dataset: "spend", RoundMoneyToPence: true}, ingest.Options{})
	if res.RowsAccepted != 4 || res.MoneyRounded != 2 || res.rows[2]["actual_gbp"] != "43266.69" || res.rows[3]["actual_gbp"] != "-0.13" {
		t.Errorf("rounded: %+v %v", res.Result, res.rows)
	}
}
