package warehouse

import (
	"regexp"
	"slices"
	"strings"
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
	// A model's writes are what tests wait on: each model's are seen, at least the table of
	// its name (011, which makes the view spend_lines, flags spend_versions).
	for _, m := range models {
		own := strings.SplitN(m.Name, "_", 2)[1]
		if under, ok := views[own]; ok {
			own = under
		}
		var writes []string
		for _, w := range writePattern.FindAllStringSubmatch(m.SQL+"\n"+forms[m.Name].SQL, -1) {
			writes = append(writes, strings.ToLower(w[1]))
		}
		if !slices.Contains(writes, own) {
			t.Errorf("%s: the writes seen in its SQL, %v, miss %s", m.Name, writes, own)
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
// are when their dataset gained no file are those that declare so ("-- restates:"), and
// each of them reads nothing but that dataset's raw table, as far as its FROM and JOIN
// clauses (comments aside) and the absence of comma joins tell.
func TestRestatementModelsReadOneRawTable(t *testing.T) {
	models, err := sqlmodels.Models()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range models {
		if m.Restates == "" {
			continue
		}
		got[m.Name] = m.Restates
		var code strings.Builder
		for line := range strings.Lines(m.SQL) {
			code.WriteString(strings.SplitN(line, "--", 2)[0])
		}
		tables := map[string]bool{}
		for _, r := range regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)(\s*,)?`).FindAllStringSubmatch(code.String(), -1) {
			tables[strings.ToLower(r[1])] = true
			if r[2] != "" {
				t.Errorf("%s: a comma join after %s: name every table with JOIN", m.Name, r[1])
			}
		}
		if len(tables) != 1 || !tables["raw_"+m.Restates] {
			t.Errorf("%s declares it restates %s but reads %v", m.Name, m.Restates, tables)
		}
	}
	want := map[string]string{"010_projects": "projects", "012_outcomes": "outcomes", "013_lessons": "lessons", "014_gdp_deflators": "gdp_deflators"}
	if len(got) != len(want) {
		t.Errorf("models that restate one dataset: %v, want %v", got, want)
	}
	for m, ds := range want {
		if got[m] != ds {
			t.Errorf("%s: %q, want %q", m, got[m], ds)
		}
	}
}
