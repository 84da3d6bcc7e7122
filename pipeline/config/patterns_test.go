package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The profile keys of issue 11 load from JSON, and a wrong pattern or column is named in
// the error.
func TestProfilePatternsValidate(t *testing.T) {
	good := `{"profiles": [{"name": "p", "dataset": "spend", "pattern": "x/*.csv",
		"header_patterns": [{"match": "*amount*", "column": "actual_gbp", "description": "why"},
			{"match": "*entity*", "column": "department", "fallback": true}, {"match": "*postcode*", "column": ""}],
		"header_notes": {"AP Amount": "sure"}, "excel_serial_dates": true, "round_money_to_pence": true}]}`
	path := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p := cfg.Profiles[0]
	if len(p.HeaderPatterns) != 3 || !p.HeaderPatterns[1].Fallback || p.HeaderPatterns[0].Column != "actual_gbp" || !p.ExcelSerialDates || !p.RoundMoneyToPence || p.HeaderNotes["AP Amount"] != "sure" {
		t.Fatalf("loaded %+v", p)
	}
	for _, tc := range []struct {
		patterns []HeaderPattern
		want     string
	}{
		{[]HeaderPattern{{Match: "", Column: "supplier"}}, "header_patterns[0].match: must not be empty"},
		{[]HeaderPattern{{Match: "*a", Column: "supplier"}, {Match: "[", Column: "supplier"}}, "header_patterns[1].match"},
		{[]HeaderPattern{{Match: "*amount*", Column: "amount"}}, `header_patterns[0].column: "amount" is not a column of spend`},
	} {
		p := Profile{Name: "p", Dataset: "spend", Pattern: "*.csv", HeaderPatterns: tc.patterns}
		if err := p.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.patterns, err, tc.want)
		}
	}
}
