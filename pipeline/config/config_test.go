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
		"memory limit unit":    {`{"warehouse": {"memory_limit": "1 lot"}}`, "warehouse.memory_limit"},
		"memory limit number":  {`{"warehouse": {"memory_limit": "GB"}}`, "warehouse.memory_limit"},
		"memory limit small":   {`{"warehouse": {"memory_limit": "32MB"}}`, "warehouse.memory_limit: must be at least 64MB"},
		"threads":              {`{"warehouse": {"threads": -1}}`, "warehouse.threads"},
		"not json":             {`workspace = "x"`, "invalid character"},
		"max amount zero":      {`{"ingest": {"max_amount_gbp": 0}}`, "ingest.max_amount_gbp: must be whole pounds from 1"},
		"max amount negative":  {`{"ingest": {"max_amount_gbp": -5}}`, "ingest.max_amount_gbp"},
		"max amount too large": {`{"ingest": {"max_amount_gbp": 10000000000000000}}`, "ingest.max_amount_gbp"},
		"max amount pence":     {`{"ingest": {"max_amount_gbp": 1000.50}}`, "max_amount_gbp"},
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

func TestWarehouseDefaultsAndOverrides(t *testing.T) {
	if got := DefaultConfig().Warehouse; got.MemoryLimit != DefaultWarehouseMemoryLimit || got.Threads != 0 {
		t.Errorf("default warehouse settings %+v", got)
	}
	cfg, err := Load(writeConfig(t, `{"warehouse": {"memory_limit": "2GiB", "threads": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Warehouse.MemoryLimit != "2GiB" || cfg.Warehouse.Threads != 1 {
		t.Errorf("overrides not applied: %+v", cfg.Warehouse)
	}
	// Empty leaves DuckDB's own default.
	if _, err := Load(writeConfig(t, `{"warehouse": {"memory_limit": ""}}`)); err != nil {
		t.Errorf("empty memory_limit: %v", err)
	}
}

func TestParseMemoryLimit(t *testing.T) {
	for s, want := range map[string]int64{
		"512MB": 512e6, "1GB": 1e9, "1gb": 1e9, "1.5GB": 1.5e9, "2GiB": 2 << 30, " 768 MiB ": 768 << 20, "4096KiB": 4 << 20, "1TB": 1e12,
	} {
		if got, err := ParseMemoryLimit(s); err != nil || got != want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "1", "GB", "-1GB", "1 GB GB", "80%", "1e9B"} {
		if _, err := ParseMemoryLimit(s); err == nil {
			t.Errorf("ParseMemoryLimit(%q) accepted", s)
		}
	}
}

func TestMaxAmountDefaultAndOverride(t *testing.T) {
	if got := DefaultConfig().Ingest.MaxAmountGBP; got != 100_000_000_000 {
		t.Errorf("default ingest.max_amount_gbp %d, want 1,000,000,000", got)
	}
	for body, want := range map[string]int64{
		`{"ingest": {"max_amount_gbp": 50000000}}`:         50_000_000,
		`{"ingest": {"max_amount_gbp": 9999999999999999}}`: MaxAmountGBPLimit, // the lake's limit itself is allowed
		`{"ingest": {"workers": 1}}`:                       DefaultMaxAmountGBP,
	} {
		cfg, err := Load(writeConfig(t, body))
		if err != nil {
			t.Errorf("Load(%s): %v", body, err)
			continue
		}
		if cfg.Ingest.MaxAmountGBP != want {
			t.Errorf("Load(%s): max_amount_gbp %d, want %d", body, cfg.Ingest.MaxAmountGBP, want)
		}
	}
}
