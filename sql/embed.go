// Package sqlmodels holds sofpipe's SQL: the warehouse models under models/, the data
// tests under tests/ and the report's queries under report/, embedded into the binary so
// a build carries the exact SQL it runs.
//
// Models run in file-name order; each file is one or more DuckDB statements. A model may
// also have an incremental form under incremental/, with the same name, which an
// incremental build runs instead (pipeline/warehouse). A model whose table is made from one
// raw table alone declares so on its first line, and an incremental build to which no file
// of that dataset came leaves its table as it is:
//
//	-- restates: projects   (the table is a function of raw_projects)
//
// A data test is a
// SELECT that returns the offending rows; its first line declares its severity:
//
//	-- severity: error   (rows found: the warehouse is not published)
//	-- severity: warn    (rows found: recorded in _checks, the batch goes on)
//
// The Go package is not called sql so that no file importing it has to alias database/sql.
package sqlmodels

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed models/*.sql tests/*.sql incremental/*.sql report/*.sql
var files embed.FS

// Severity says what a failing data test does to the batch.
type Severity string

// The two severities a data test can declare.
const (
	SeverityError Severity = "error"
	SeverityWarn  Severity = "warn"
)

// Script is one embedded SQL file.
type Script struct {
	Name     string   // file name without .sql, e.g. "040_project_scorecard"
	SQL      string   // the file's text
	Severity Severity // data tests only
	// Restates is the dataset whose raw table alone a model reads, when its first line
	// declares one ("-- restates: projects"); models only.
	Restates string
}

// Models returns the model scripts in the order they must run.
func Models() ([]Script, error) {
	scripts, err := load("models")
	for i := range scripts {
		first, _, _ := strings.Cut(scripts[i].SQL, "\n")
		if ds, ok := strings.CutPrefix(strings.TrimSpace(first), "-- restates:"); ok {
			scripts[i].Restates = strings.TrimSpace(ds)
		}
	}
	return scripts, err
}

// Incremental returns the incremental forms of models, by model name.
func Incremental() (map[string]Script, error) {
	scripts, err := load("incremental")
	if err != nil {
		return nil, err
	}
	byName := make(map[string]Script, len(scripts))
	for _, s := range scripts {
		byName[s.Name] = s
	}
	return byName, nil
}

// Tests returns the data tests, each with its declared severity.
func Tests() ([]Script, error) {
	scripts, err := load("tests")
	if err != nil {
		return nil, err
	}
	for i := range scripts {
		sev, err := severity(scripts[i].SQL)
		if err != nil {
			return nil, fmt.Errorf("sqlmodels: tests/%s.sql: %w", scripts[i].Name, err)
		}
		scripts[i].Severity = sev
	}
	return scripts, nil
}

// Report returns the report query report/<name>.sql (pipeline/reportdata reads the
// published warehouse with them; they build nothing).
func Report(name string) (string, error) {
	b, err := files.ReadFile(path.Join("report", name+".sql"))
	if err != nil {
		return "", fmt.Errorf("sqlmodels: %w", err)
	}
	return string(b), nil
}

// Digest returns every embedded file's name and text in a stable order, so a caller can
// fingerprint the SQL a warehouse was built with. The report queries are left out: they
// read a warehouse and change nothing in it.
func Digest() ([]string, error) {
	var out []string
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == "report" {
				return fs.SkipDir
			}
			return nil
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, p, string(b))
		return nil
	})
	return out, err
}

func load(dir string) ([]Script, error) {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlmodels: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	scripts := make([]Script, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(path.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("sqlmodels: %w", err)
		}
		scripts = append(scripts, Script{Name: strings.TrimSuffix(n, ".sql"), SQL: string(b)})
	}
	return scripts, nil
}

func severity(sqlText string) (Severity, error) {
	first, _, _ := strings.Cut(strings.TrimSpace(sqlText), "\n")
	v, ok := strings.CutPrefix(strings.TrimSpace(first), "-- severity:")
	if !ok {
		return "", fmt.Errorf("first line must be '-- severity: error' or '-- severity: warn'")
	}
	switch s := Severity(strings.TrimSpace(v)); s {
	case SeverityError, SeverityWarn:
		return s, nil
	default:
		return "", fmt.Errorf("unknown severity %q", s)
	}
}
