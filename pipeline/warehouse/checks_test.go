package warehouse

import (
	"slices"
	"testing"

	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

// TestChecksWaitForTheModelsTheyRead: a data test that runs beside the models (an
// incremental build) starts only once every model writing a table it reads is built,
// views included (spend_lines is spend_versions, which 011 flags), and not before.
func TestChecksWaitForTheModelsTheyRead(t *testing.T) {
	models, err := sqlmodels.Models()
	if err != nil {
		t.Fatal(err)
	}
	forms, err := sqlmodels.Incremental()
	if err != nil {
		t.Fatal(err)
	}
	c, err := newChecker(models, forms, nil)
	if err != nil {
		t.Fatal(err)
	}
	needs := map[string][]string{}
	for i, test := range c.tests {
		slices.Sort(c.needs[i])
		needs[test.Name] = c.needs[i]
	}
	for test, want := range map[string][]string{
		"spend_monthly_reconciles":        {"011_spend_lines", "020_spend_monthly"},
		"returns_status_reconciles":       {"040_project_scorecard", "070_returns_status"},
		"deflators_valid":                 {"014_gdp_deflators"},
		"spend_period_from_several_files": {"015_spend_periods"},
	} {
		got, ok := needs[test]
		if !ok {
			t.Errorf("no data test %s", test)
			continue
		}
		for _, m := range want {
			if !slices.Contains(got, m) {
				t.Errorf("%s waits for %v, not for %s", test, got, m)
			}
		}
	}
	// A test waits until its models are built, then runs.
	i := slices.IndexFunc(c.tests, func(s sqlmodels.Script) bool { return s.Name == "deflators_valid" })
	if c.ready(i) {
		t.Fatal("deflators_valid may run before 014_gdp_deflators is built")
	}
	c.modelBuilt("014_gdp_deflators")
	if !c.ready(i) {
		t.Error("deflators_valid may not run once 014_gdp_deflators is built")
	}
}

// TestRestatementModelsReadOneRawTable: the models an incremental build may leave as they
// are when their dataset gained no file read nothing but its raw table; every other model
// reads more (or not only a raw table) and always runs.
func TestRestatementModelsReadOneRawTable(t *testing.T) {
	models, err := sqlmodels.Models()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range models {
		if ds, ok := readsOneRawTable(m.SQL); ok {
			got[m.Name] = ds
		}
	}
	want := map[string]string{"010_projects": "projects", "012_outcomes": "outcomes", "013_lessons": "lessons", "014_gdp_deflators": "gdp_deflators"}
	if len(got) != len(want) {
		t.Errorf("models reading one raw table: %v, want %v", got, want)
	}
	for m, ds := range want {
		if got[m] != ds {
			t.Errorf("%s: %q, want %q", m, got[m], ds)
		}
	}
}
