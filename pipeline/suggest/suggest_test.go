package suggest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
	"github.com/evaluation-taskforce/sofpipe/pipeline/suggest"
)

var spendDefaults = map[string]string{"project_id": "UNALLOCATED", "budget_type": "RDEL"}

// layout is a made-up department's export: its own header words and column order, and
// how it writes each value.
type layout struct {
	name    string
	title   []string // lines above the header
	headers []string // in the file's order: dept, date, amount, supplier, ref, text, and extras
	order   []int    // which of the six canonical values goes in each column (-1: an extra)
	cp1252  bool
	sep     string
	date    func(i int) string
	amount  func(i int) string
}

func (l layout) bytes(rows int) []byte {
	var b strings.Builder
	for _, t := range l.title {
		b.WriteString(t + "\r\n")
	}
	b.WriteString(strings.Join(l.headers, l.sep) + "\r\n")
	for i := 0; i < rows; i++ {
		vals := []string{"Department for Widgets", l.date(i), l.amount(i), fmt.Sprintf("Supplier %d Ltd", i%7), fmt.Sprintf("TX%05d", i), fmt.Sprintf("Payment for service %d", i)}
		cells := make([]string, len(l.order))
		for c, k := range l.order {
			if k < 0 {
				cells[c] = fmt.Sprintf("Cost centre %d", i%3)
				continue
			}
			cells[c] = vals[k]
			if strings.Contains(cells[c], l.sep) {
				cells[c] = `"` + cells[c] + `"`
			}
		}
		b.WriteString(strings.Join(cells, l.sep) + "\r\n")
	}
	s := b.String()
	if l.cp1252 {
		s = strings.ReplaceAll(s, "£", "\xA3")
	}
	return []byte(s)
}

// TestSuggestUnseenLayouts: layouts no profile knows (headers renamed, columns reordered,
// a title block, Windows-1252 pounds, semicolons, Excel day numbers, trailing minus
// refunds) get a profile from suggest alone (plus the two defaults a spend return cannot
// carry), and that profile takes every row in.
func TestSuggestUnseenLayouts(t *testing.T) {
	ds, _ := contract.Lookup(contract.Spend)
	layouts := []layout{
		{name: "renamed", headers: []string{"Paying Department", "Date Paid", "Net Value", "Payee", "Document Ref", "Narrative"}, order: []int{0, 1, 2, 3, 4, 5}, sep: ",",
			date: func(i int) string { return fmt.Sprintf("%02d/05/2024", i%28+1) }, amount: func(i int) string { return fmt.Sprintf("£%d,%03d.%02d", 25+i, i%1000, i%100) }},
		{name: "reordered-title-cp1252", title: []string{"Department for Widgets", "Spend over £25,000 - May 2024,,,,,,", ",,,,,,"},
			headers: []string{"Purpose", "Cost Centre", "Vendor Name", "Amount (£)", "Transaction Ref", "Posting Date", "Body"}, order: []int{5, -1, 3, 2, 4, 1, 0}, sep: ",", cp1252: true,
			date: func(i int) string { return fmt.Sprintf("%d-May-24", i%28+1) }, amount: func(i int) string {
				if i%5 == 0 {
					return fmt.Sprintf("%d,500.00-", 30+i) // a refund, bookkeeper's style
				}
				return fmt.Sprintf("£%d,250.10", 30+i)
			}},
		{name: "semicolons-serials", headers: []string{"Organisation", "Spend", "Supplier", "Invoice Date", "ID", "Details"}, order: []int{0, 2, 3, 1, 4, 5}, sep: ";",
			date: func(i int) string { return fmt.Sprint(45413 + i%28) }, amount: func(i int) string { return fmt.Sprintf("%d.%02d", 26000+i, i%100) }},
	}
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			dir := t.TempDir()
			var files []string
			for m := 0; m < 2; m++ {
				p := filepath.Join(dir, fmt.Sprintf("%s-%d.csv", l.name, m))
				if err := os.WriteFile(p, l.bytes(40+m), 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, p)
			}
			res, err := suggest.Suggest(files, suggest.Options{Dataset: ds, Name: l.name, Defaults: spendDefaults})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.MissingRequired) > 0 {
				t.Fatalf("missing required %v; mappings %+v", res.MissingRequired, res.Mappings)
			}
			cfg := config.DefaultConfig()
			cfg.Profiles = []config.Profile{res.Profile}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("the suggested profile does not validate: %v", err)
			}
			want := map[string]string{"department": l.headers[indexOf(l.order, 0)], "payment_date": l.headers[indexOf(l.order, 1)], "actual_gbp": l.headers[indexOf(l.order, 2)],
				"supplier": l.headers[indexOf(l.order, 3)], "line_ref": l.headers[indexOf(l.order, 4)], "description": l.headers[indexOf(l.order, 5)]}
			for col, header := range want {
				if res.Profile.HeaderAliases[header] != col {
					t.Errorf("header %q mapped to %q, want %s (mappings %+v)", header, res.Profile.HeaderAliases[header], col, res.Mappings)
				}
			}
			for i, f := range files {
				got, err := ingest.File(context.Background(), ingest.Input{Path: f, Source: f, Dataset: ds, Profile: &cfg.Profiles[0]}, ingest.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != ingest.StatusIngested || got.RowsAccepted != int64(40+i) || got.RowsRejected != 0 {
					t.Errorf("%s: %s %s %q: %d accepted, %d rejected %v", filepath.Base(f), got.Status, got.Reason, got.Message, got.RowsAccepted, got.RowsRejected, got.FirstRejects)
				}
			}
		})
	}
}

// A required column with no evidence is never guessed: without a default it is listed,
// and a header that merely sits where a column might be is left unplaced.
func TestSuggestNeverGuessesRequired(t *testing.T) {
	ds, _ := contract.Lookup(contract.Spend)
	p := filepath.Join(t.TempDir(), "x.csv")
	if err := os.WriteFile(p, []byte("Colour,Shape,When\nred,square,03/05/2024\nblue,circle,04/05/2024\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := suggest.Suggest([]string{p}, suggest.Options{Dataset: ds})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.MissingRequired, ",") != "project_id,department,budget_type,actual_gbp" {
		t.Errorf("missing required %v", res.MissingRequired)
	}
	if res.Profile.HeaderAliases["When"] != "payment_date" || res.Profile.HeaderAliases["Colour"] != "" || len(res.Unplaced) != 2 {
		t.Errorf("aliases %v, unplaced %v", res.Profile.HeaderAliases, res.Unplaced)
	}
}

func indexOf(xs []int, v int) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	return -1
}
