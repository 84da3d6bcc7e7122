package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

// checkConns is how many connections run the data tests once the models are built: each
// test is a small query whose time goes mostly to DuckDB's work per statement, on one
// core, so two run side by side on a machine of two cores in little more than the time of
// one.
const checkConns = 2

// views are the views the build makes (loadDataset) and the table each reads: a test that
// reads a view reads what the models write into the table.
var views = map[string]string{"spend_lines": "spend_versions", "raw_spend": "spend_versions"}

// checker runs the data tests (sql/tests) on connections of their own, each test as soon
// as every model that writes a table it reads has been built (startEarly), or all once
// the models are done. A test is only a read, and no model writes a table after a test
// may have read it, so a test sees what it would see after the last model. Its results
// are kept in the tests' order for _checks.
type checker struct {
	tests  []sqlmodels.Script
	needs  [][]string // per test, the models whose tables it reads
	checks []Check
	errs   []error
	log    *slog.Logger

	mu       sync.Mutex
	changed  *sync.Cond
	built    map[string]bool
	allBuilt bool
	stopped  bool
	started  []bool
	workers  sync.WaitGroup

	// running is held for reading by a test while it runs, and for writing by a build
	// step that lowers DuckDB's memory limit (releaseMemory), which a test running then
	// could not work within.
	running sync.RWMutex
}

var (
	writePattern = regexp.MustCompile(`(?i)\b(?:CREATE\s+(?:OR\s+REPLACE\s+)?TABLE(?:\s+IF\s+NOT\s+EXISTS)?|INSERT\s+(?:OR\s+(?:REPLACE|IGNORE)\s+)?INTO|MERGE\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_][a-z0-9_]*)`)
	tempPattern  = regexp.MustCompile(`(?i)\bTEMP(?:ORARY)?\s+TABLE\s+([a-z_][a-z0-9_]*)`)
	wordPattern  = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

// newChecker prepares the data tests for a build running models, whose incremental forms
// (forms) write the same tables. Which tables a model writes is read from its SQL (CREATE
// TABLE, INSERT INTO, UPDATE, DELETE FROM; its temporary tables are its own), and which it
// reads from a test's SQL (every word that names a table or a view): a word too many only
// makes the test wait longer.
func newChecker(models []sqlmodels.Script, forms map[string]sqlmodels.Script, log *slog.Logger) (*checker, error) {
	tests, err := sqlmodels.Tests()
	if err != nil {
		return nil, err
	}
	writers := map[string][]string{} // table -> models writing it
	for _, m := range models {
		text := m.SQL + "\n" + forms[m.Name].SQL
		seen := map[string]bool{}
		for _, w := range tempPattern.FindAllStringSubmatch(text, -1) {
			seen[strings.ToLower(w[1])] = true // a temporary table is the model's own
		}
		for _, w := range writePattern.FindAllStringSubmatch(text, -1) {
			if table := strings.ToLower(w[1]); !seen[table] {
				seen[table] = true
				writers[table] = append(writers[table], m.Name)
			}
		}
	}
	c := &checker{tests: tests, log: log, built: map[string]bool{},
		checks: make([]Check, len(tests)), errs: make([]error, len(tests)), started: make([]bool, len(tests))}
	c.changed = sync.NewCond(&c.mu)
	c.needs = make([][]string, len(tests))
	for i, t := range tests {
		need := map[string]bool{}
		for _, word := range wordPattern.FindAllString(t.SQL, -1) {
			word = strings.ToLower(word)
			if under, ok := views[word]; ok {
				word = under
			}
			for _, m := range writers[word] {
				need[m] = true
			}
		}
		for m := range need {
			c.needs[i] = append(c.needs[i], m)
		}
	}
	return c, nil
}

// start runs the tests on n more connections of db (whose pool must allow them).
func (c *checker) start(ctx context.Context, db *sql.DB, n int) error {
	for range n {
		conn, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("warehouse: data tests: %w", err)
		}
		c.workers.Go(func() {
			defer conn.Close()
			for {
				i, ok := c.nextTest()
				if !ok {
					return
				}
				start := time.Now()
				c.running.RLock()
				c.checks[i], c.errs[i] = runCheck(ctx, conn, c.tests[i])
				c.running.RUnlock()
				c.log.Debug("data test run", "test", c.tests[i].Name, "rows", c.checks[i].Rows, "seconds", time.Since(start).Seconds())
			}
		})
	}
	return nil
}

// nextTest waits for a test that may run now and claims it; false when none is left.
func (c *checker) nextTest() (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.stopped {
			return 0, false
		}
		left := false
		for i := range c.tests {
			if c.started[i] {
				continue
			}
			left = true
			if c.ready(i) {
				c.started[i] = true
				return i, true
			}
		}
		if !left {
			return 0, false
		}
		c.changed.Wait()
	}
}

func (c *checker) ready(i int) bool {
	if c.allBuilt {
		return true
	}
	for _, m := range c.needs[i] {
		if !c.built[m] {
			return false
		}
	}
	return true
}

// modelBuilt says the model has been built.
func (c *checker) modelBuilt(name string) {
	c.mu.Lock()
	c.built[name] = true
	c.mu.Unlock()
	c.changed.Broadcast()
}

// modelsDone says every model has been built: every test may run.
func (c *checker) modelsDone() {
	c.mu.Lock()
	c.allBuilt = true
	c.mu.Unlock()
	c.changed.Broadcast()
}

// wait waits for every test and returns their outcomes in the tests' order.
func (c *checker) wait() ([]Check, error) {
	c.workers.Wait()
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return c.checks, nil
}

// stop lets no further test start, and waits for those running (a build that failed).
func (c *checker) stop() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.changed.Broadcast()
	c.workers.Wait()
}

// exclusive runs f while no test runs.
func (c *checker) exclusive(f func() error) error {
	c.running.Lock()
	defer c.running.Unlock()
	return f()
}

// writeChecks records the outcomes in the table _checks, in one statement.
func writeChecks(ctx context.Context, q querier, checks []Check) error {
	stmt := `CREATE OR REPLACE TABLE _checks (name VARCHAR, severity VARCHAR, status VARCHAR, rows BIGINT, sample VARCHAR[])`
	values := make([]string, len(checks))
	for i, c := range checks {
		status := "pass"
		if c.Failed() {
			status = "fail"
			if c.Severity == sqlmodels.SeverityWarn {
				status = "warn"
			}
		}
		sample := make([]string, len(c.Sample))
		for k, s := range c.Sample {
			sample[k] = quote(s)
		}
		values[i] = fmt.Sprintf("(%s, %s, %s, %d, [%s]::VARCHAR[])", quote(c.Name), quote(string(c.Severity)), quote(status), c.Rows, strings.Join(sample, ", "))
	}
	if len(values) > 0 {
		stmt += ";\nINSERT INTO _checks VALUES " + strings.Join(values, ",\n")
	}
	if _, err := q.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("warehouse: _checks: %w", err)
	}
	return nil
}

// runCheck runs one data test on conn: how many rows it finds and the first five, as JSON.
func runCheck(ctx context.Context, conn *sql.Conn, t sqlmodels.Script) (Check, error) {
	c := Check{Name: t.Name, Severity: t.Severity}
	body := strings.TrimRight(strings.TrimSpace(t.SQL), ";")
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _check_rows AS "+body); err != nil {
		return c, fmt.Errorf("warehouse: data test %s: %w", t.Name, err)
	}
	defer conn.ExecContext(ctx, "DROP TABLE IF EXISTS _check_rows")
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM _check_rows").Scan(&c.Rows); err != nil {
		return c, fmt.Errorf("warehouse: data test %s: %w", t.Name, err)
	}
	if c.Rows == 0 {
		return c, nil
	}
	rows, err := conn.QueryContext(ctx, "SELECT to_json(t)::VARCHAR FROM _check_rows t LIMIT 5")
	if err != nil {
		return c, fmt.Errorf("warehouse: data test %s: %w", t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return c, err
		}
		c.Sample = append(c.Sample, s)
	}
	return c, rows.Err()
}
