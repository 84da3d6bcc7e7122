package ingest_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
)

// spendOver25k loads the documented profile for 'spend over £25,000' transparency returns
// from deploy/profiles, exactly as an operator's --config would.
func spendOver25k(t *testing.T) *config.Profile {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "deploy", "profiles", "spend-over-25k.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Profiles {
		if cfg.Profiles[i].Name == "spend-over-25k" {
			return &cfg.Profiles[i]
		}
	}
	t.Fatal("deploy/profiles/spend-over-25k.json has no profile spend-over-25k")
	return nil
}

// TestSpendOver25kProfileSynthetic runs small made-up returns with the quirks of the real
// published files through the documented profile: Windows-1252 £ (0xA3), CR-only and CRLF
// line ends, dd-Mon-yy and dd/mm/yy dates, five different header layouts, a trailing empty
// column, rows of delimiters only, rows that stop before the last columns, and the same
// layout re-saved as UTF-8 with a BOM (why the profile's encoding is auto, not
// windows-1252). The real files
// are tested in pipeline/batch (TestRealSpendReturns) where ../shared is present.
func TestSpendOver25kProfileSynthetic(t *testing.T) {
	profile := spendOver25k(t)
	tests := []struct {
		name     string
		data     string
		rows     []row
		rejects  []rej
		ignored  []string
		totalGBP string // Σ actual_gbp of the accepted rows
		encoding string // what the profile's automatic detection must find
	}{
		{
			name: "HM Treasury 2010: CR only, £ amounts in quotes, dd-Mon-yy, Additional Narrative",
			data: "Department Family,Entity,Date,Expense Type,Expense Area,Supplier,Transaction Number,Amount,Additional Narrative\r" +
				"HM Treasury,HM Treasury,02-Nov-10,UKFI Management Fee,Financial Stability,UK FINANCIAL INVESTMENTS LTD,88603,\"\xA3102,000.00\",Management Fee Nov 2010\r" +
				"HM Treasury,DMO,03-Nov-10,Service Charges,Corporate Services,MITIE MANAGED SERVICES LTD,88557,\"\xA339,082.65\",\"facilities management services, Norwich office\"\r" +
				"HM Treasury,HM Treasury,30-Nov-10,Refund,Corporate Services,DTZ,86497,\"-\xA346,528.00\",Credit note\r",
			ignored: []string{"Entity", "Expense Type", "Expense Area"},
			rows: []row{
				{"_source_line": "2", "project_id": "UNALLOCATED", "department": "HM Treasury", "payment_date": "2010-11-02", "financial_year": "2010-11", "period": "8", "budget_type": "RDEL", "actual_gbp": "102000.00", "line_ref": "88603", "supplier": "UK FINANCIAL INVESTMENTS LTD", "description": "Management Fee Nov 2010", "planned_gbp": "NULL"},
				{"_source_line": "3", "department": "HM Treasury", "actual_gbp": "39082.65", "description": "facilities management services, Norwich office"},
				{"_source_line": "4", "payment_date": "2010-11-30", "actual_gbp": "-46528.00", "line_ref": "86497"},
			},
			totalGBP: "94554.65",
			encoding: "windows-1252",
		},
		{
			name: "HM Treasury 2013: Voucher Number, Transaction Description, Amount last and unquoted, blank rows",
			data: "Department Family,Entity,Date,Expense Type,Expense Area,Supplier,Voucher Number,Transaction Description,Amount\r\n" +
				"HM Treasury,HM Treasury,03-Jun-2013,UKFI Management Fee,UKFI MANAGEMENT FEE,UK FINANCIAL INVESTMENTS LTD,105329,UKFI MANAGEMENT FEE JUNE 2013,150000\r\n" +
				"HM Treasury,HM Treasury,04-Jun-2013,IT,JWS PROJECTS - HMT & OGDs (Shared),FUJITSU SERVICES LIMITED,105297,DATA STORAGE,72734.02\r\n" +
				",,,,,,,,\r\n" +
				",,,,,,,,\r\n",
			rows: []row{
				{"_source_line": "2", "payment_date": "2013-06-03", "financial_year": "2013-14", "period": "3", "line_ref": "105329", "description": "UKFI MANAGEMENT FEE JUNE 2013", "actual_gbp": "150000.00"},
				{"_source_line": "3", "actual_gbp": "72734.02", "supplier": "FUJITSU SERVICES LIMITED"},
			},
			rejects:  []rej{{4, ingest.ReasonBlankRow, ""}, {5, ingest.ReasonBlankRow, ""}},
			totalGBP: "222734.02",
			encoding: "utf-8", // nothing but ASCII
		},
		{
			name: "Cabinet Office: Departmental Family, dd/mm/yy (UK order), a trailing empty column",
			data: "Departmental Family,Entity,Date,Expense Type,Expense Area,Supplier,Transaction Number,Amount,Description,Supplier Postcode,Supplier Type,Expenditure Type,\r\n" +
				"Cabinet Office,Cabinet Office,01/02/12,IT Costs,IT AND TELECOMS BRANCH,CABLE & WIRELESS PLC,3000022351,\"100,685.82\",Rental charges,RG12 1RW,Large,Administration,\r\n" +
				"Cabinet Office,Government Procurement Service,29/02/12,Agency Staff,GPS,CAPITA RESOURCING LTD,3000022352,\"37,054.81\",\"Support for the Public Services Network, including standards\",RG12 1RW,Large,Programme,\r\n" +
				",,,,,,,,,,,,\r\n",
			ignored: []string{"Entity", "Expense Type", "Expense Area", "Supplier Postcode", "Supplier Type", "Expenditure Type"},
			rows: []row{
				{"_source_line": "2", "department": "Cabinet Office", "payment_date": "2012-02-01", "financial_year": "2011-12", "period": "11", "actual_gbp": "100685.82", "line_ref": "3000022351"},
				{"_source_line": "3", "department": "Cabinet Office", "payment_date": "2012-02-29", "actual_gbp": "37054.81", "description": "Support for the Public Services Network, including standards"},
			},
			rejects:  []rej{{4, ingest.ReasonBlankRow, ""}},
			totalGBP: "137740.63",
			encoding: "utf-8",
		},
		{
			name: "Ministry of Justice: 'Supplier Postcode ', Project Code, rows without the last three columns",
			data: "Department Family,Entity,Date,Expense Type,Expense Area,Supplier,Transaction Number,Amount,Description,Supplier Postcode ,Project Code,Expenditure Type\r\n" +
				"MINISTRY OF JUSTICE,LEGAL AID AGENCY,15/04/2013,Crime Higher,LEGAL AID FUND,MELDRUM SOLICITORS LLP,127613149,\"116,020.12\",Legal Aid Payments: Crime Higher,,,\r\n" +
				"MINISTRY OF JUSTICE,LEGAL AID AGENCY,15/04/2013,Crime Higher,LEGAL AID FUND,ABBEY SOLICITORS,127626405,\"57,273.78\",Legal Aid Payments: Crime Higher\r\n" +
				"Ministry of Justice,HMCTS,30/04/2013,Rent,Estates,LAND SECURITIES,1436,\"(36,873.04)\",Rent rebate,SW1H 9AJ,E149,Admin\r\n",
			rows: []row{
				{"_source_line": "2", "project_id": "UNALLOCATED", "department": "MINISTRY OF JUSTICE", "payment_date": "2013-04-15", "financial_year": "2013-14", "period": "1", "actual_gbp": "116020.12"},
				{"_source_line": "3", "project_id": "UNALLOCATED", "actual_gbp": "57273.78", "description": "Legal Aid Payments: Crime Higher"},
				{"_source_line": "4", "project_id": "E149", "department": "Ministry of Justice", "actual_gbp": "-36873.04", "line_ref": "1436"},
			},
			totalGBP: "136420.86",
			encoding: "utf-8",
		},
		{
			name: "Department of Health: CR only, PO Line Description, Contract Number, 0x8D byte in text",
			data: "Departmental Family,Entity,Date,Expense Type,Expense Area,Supplier,Transaction Number,Amount,PO Line Description,Supplier Site Postcode,Supplier Type,Contract Number,Project Code,Expenditure Type\r" +
				"Department of Health,Department of Health,01/01/2015,IT minor costs,DG: SFNHS,NHS SHARED BUSINESS SERVICES SBS,100028745,\"7,147.83\",SBS \x8D Images,WF3 1WE,PUBLIC,,,Admin\r" +
				"Department of Health,Department of Health,01/01/2015,Service charge,DG: SFNHS,NHS SHARED BUSINESS SERVICES SBS,100028745,\"-7,147.83\",SBS - Annual Service Charges,WF3 1WE,PUBLIC,,,Admin",
			rows: []row{
				{"_source_line": "2", "department": "Department of Health", "payment_date": "2015-01-01", "financial_year": "2014-15", "period": "10", "actual_gbp": "7147.83", "project_id": "UNALLOCATED"},
				{"_source_line": "3", "actual_gbp": "-7147.83", "line_ref": "100028745"},
			},
			totalGBP: "0.00",
			encoding: "windows-1252",
		},
		{
			name: "the same layout re-saved by Excel as 'CSV UTF-8': BOM, UTF-8 £",
			data: "\xEF\xBB\xBFDepartment Family,Entity,Date,Expense Type,Expense Area,Supplier,Transaction Number,Amount,Description\r\n" +
				"HM Treasury,HM Treasury,02/11/2010,Fee,Financial Stability,Café Ltd,88603,\"£102,000.00\",Fee\r\n",
			rows:     []row{{"_source_line": "2", "department": "HM Treasury", "payment_date": "2010-11-02", "supplier": "Café Ltd", "actual_gbp": "102000.00"}},
			totalGBP: "102000.00",
			encoding: "utf-8",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ingestBytes(t, "spend", []byte(tc.data), profile, ingest.Options{})
			if got.Status != ingest.StatusIngested || got.Encoding != tc.encoding {
				t.Fatalf("status %s (%s: %s), encoding %s; want ingested, %s", got.Status, got.Reason, got.Message, got.Encoding, tc.encoding)
			}
			if diff := cmp.Diff(tc.rows, project(got.rows, tc.rows)); diff != "" {
				t.Errorf("lake rows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.rejects, rejectCodes(got.rejects)); diff != "" {
				t.Errorf("rejects (-want +got):\n%s", diff)
			}
			if tc.ignored != nil {
				if diff := cmp.Diff(tc.ignored, got.IgnoredColumns); diff != "" {
					t.Errorf("ignored columns (-want +got):\n%s", diff)
				}
			}
			for _, i := range got.IgnoredColumns {
				if strings.TrimSpace(i) == "Amount" || strings.TrimSpace(i) == "Date" {
					t.Errorf("column %q was ignored", i)
				}
			}
			if total := sumPence(t, got.rows); total != tc.totalGBP {
				t.Errorf("Σ actual_gbp = %s, want %s", total, tc.totalGBP)
			}
		})
	}
}

// sumPence adds the actual_gbp of rows exactly, in pence.
func sumPence(t *testing.T, rows []row) string {
	t.Helper()
	var pence int64
	for _, r := range rows {
		v := r["actual_gbp"]
		neg := strings.HasPrefix(v, "-")
		v = strings.TrimPrefix(v, "-")
		pounds, frac, ok := strings.Cut(v, ".")
		if !ok || len(frac) != 2 {
			t.Fatalf("actual_gbp %q is not pounds.pence", r["actual_gbp"])
		}
		var p int64
		for _, c := range pounds + frac {
			p = p*10 + int64(c-'0')
		}
		if neg {
			p = -p
		}
		pence += p
	}
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	return fmt.Sprintf("%s%d.%02d", sign, pence/100, pence%100)
}
