package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	m := cfg.Marts
	// The DESIGN.md constants, spelled out: a change here is a change of method.
	if m.BaseYear != "2023-24" || m.Discount != 0.035 || m.GateMinSMS != 3 || m.GateMinBCR != 1 ||
		m.BandScaleUpMin != 70 || m.BandExtendMin != 50 || m.ReturnsRedBelow != 0.75 || m.AttainmentCap != 1.5 {
		t.Errorf("defaults drifted from DESIGN.md: %+v", m)
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadKeepsDefaultsForMissingFields(t *testing.T) {
	cfg, err := Load(writeConfig(t, `{"workspace": "/srv/sof", "marts": {"discount_rate": 0.03}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workspace != "/srv/sof" || cfg.Marts.Discount != 0.03 {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	if cfg.Marts.WeightEvidence != 0.30 || cfg.Ingest.BatchRows != DefaultBatchRows {
		t.Errorf("defaults lost: %+v", cfg)
	}
}

func TestLoadRejects(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"unknown key":          {`{"marts": {"discount": 0.03}}`, `unknown field "discount"`},
		"weights":              {`{"marts": {"weight_evidence": 0.5}}`, "add up to 1"},
		"base year":            {`{"marts": {"base_year": "2023"}}`, "marts.base_year"},
		"as_of alone":          {`{"marts": {"as_of_financial_year": "2024-25"}}`, "go together"},
		"vfm thresholds order": {`{"marts": {"vfm_thresholds": [1, 2, 1.5, 4]}}`, "must increase"},
		"profile dataset":      {`{"profiles": [{"name": "moj", "dataset": "spending", "pattern": "moj/*.csv"}]}`, `unknown dataset "spending"`},
		"profile alias":        {`{"profiles": [{"name": "moj", "dataset": "spend", "pattern": "moj/*", "header_aliases": {"Amount": "amount_gbp"}}]}`, `"amount_gbp" is not a column of spend`},
		"profile encoding":     {`{"profiles": [{"name": "moj", "dataset": "spend", "pattern": "moj/*", "encoding": "ebcdic"}]}`, "encoding"},
		"reject rate":          {`{"ingest": {"reject_rate_limit": 0}}`, "ingest.reject_rate_limit"},
		"not json":             {`workspace = "x"`, "invalid character"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load(%s) error = %v, want it to mention %q", tc.body, err, tc.want)
			}
		})
	}
}

func TestValidFinancialYear(t *testing.T) {
	for fy, want := range map[string]bool{"2023-24": true, "1999-00": true, "2023-25": false, "2023/24": false, "23-24": false} {
		if got := ValidFinancialYear(fy); got != want {
			t.Errorf("ValidFinancialYear(%q) = %v, want %v", fy, got, want)
		}
	}
}
