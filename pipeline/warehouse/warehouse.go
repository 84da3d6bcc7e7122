// Package warehouse builds and publishes the analysts' DuckDB file. A build always makes a
// new file: it loads the lake's committed Parquet with read_parquet, runs the SQL models in
// order, runs the data tests, and only when no error-level test fails is the file renamed
// over warehouse/sof.duckdb. An analyst holding the old file open keeps reading it; one who
// opens the path afterwards gets the new one; nobody ever sees a half-built file.
//
// The package reads the ledger's records but never writes the lake.
package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2" // also registers the "duckdb" database/sql driver

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/memtrim"
	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

// ErrChecksFailed means an error-level data test found rows: the build is not published.
var ErrChecksFailed = errors.New("warehouse: data tests failed")

// Input is everything one build reads.
type Input struct {
	Path    string // the new file to create; it must not exist
	LakeDir string
	Files   []ledger.File // commit records, every status
	Runs    []ledger.Run  // earlier runs plus this one
	Marts   config.Marts
	// Resources bound DuckDB's memory and threads during the build (config "warehouse");
	// nil means the config's defaults.
	Resources *config.Warehouse
	Logger    *slog.Logger

	// Base, when set, is the published warehouse an incremental build may start from. The
	// build copies it (checking that the copy has the SHA-256 BaseSHA256, the file's digest
	// when it was published, or that the file is still the one published: BaseIdentity), reads the copy's own build record, and asks NewFiles whether
	// and how to build on it: NewFiles returns the SHA-256s of the files to add to the copy
	// (each of them delivered after every file the copy holds, which NewFiles answers for),
	// or why the build must be full. The copy is read, not the live file, because DuckDB
	// keeps one instance per path in a process: a second open of a path that is already
	// open sees the file as it was then, not the file the path now names.
	Base       string
	BaseSHA256 string
	// BaseIdentity, when set, is the base's fsutil.Identity when it was published: while
	// the file still has it, its bytes are taken to be the published ones without hashing.
	BaseIdentity *fsutil.Identity
	NewFiles     func(BuildInfo) (newFiles []string, whyFull string)
	// BatchID and Fingerprint name the build in its table _build: the batch, and what the
	// build is made of (program, SQL, constants, files), so that a later batch can tell
	// whether this warehouse can be its base.
	BatchID     string
	Fingerprint string
	// Progress, when set, is told as each step of the build starts: step n of steps, and
	// the step's table, model or file (a terminal's progress display; never the log).
	Progress func(step, steps int, name string)
}

// BuildInfo is what a warehouse says of its own build (the table _build) and of the files
// it holds (_files).
type BuildInfo struct {
	BatchID     string
	Fingerprint string
	// Kind is "full" or "incremental"; BuildsSinceFull counts the incremental builds
	// since the last full one, this one included (0 for a full build).
	Kind            string
	BuildsSinceFull int
	Files           []string // the SHA-256 of every file in _files
}

// readBuild reads a warehouse's build record and the files it holds.
func readBuild(ctx context.Context, db *sql.DB) (BuildInfo, error) {
	var b BuildInfo
	if err := db.QueryRowContext(ctx, "SELECT batch_id, fingerprint, kind, builds_since_full FROM _build").
		Scan(&b.BatchID, &b.Fingerprint, &b.Kind, &b.BuildsSinceFull); err != nil {
		return b, fmt.Errorf("_build: %w", err)
	}
	rows, err := db.QueryContext(ctx, "SELECT file_sha256 FROM _files")
	if err != nil {
		return b, fmt.Errorf("_files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sha string
		if err := rows.Scan(&sha); err != nil {
			return b, err
		}
		b.Files = append(b.Files, sha)
	}
	return b, rows.Err()
}

// Check is the outcome of one data test.
type Check struct {
	Name     string
	Severity sqlmodels.Severity
	Rows     int64
	Sample   []string // up to five offending rows as JSON
}

// Failed reports whether the test found rows.
func (c Check) Failed() bool { return c.Rows > 0 }

// Result says what a build did.
type Result struct {
	Kind   string // "full" or "incremental"
	Checks []Check
	Tables map[string]int64 // row counts of the tables analysts use
}

// ChecksError lists the error-level tests that failed.
type ChecksError struct{ Failed []Check }

func (e *ChecksError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = fmt.Sprintf("%s (%d rows, e.g. %s)", c.Name, c.Rows, strings.Join(c.Sample, " "))
	}
	return "warehouse: data tests failed: " + strings.Join(parts, "; ")
}

func (e *ChecksError) Unwrap() error { return ErrChecksFailed }

// IsOutOfMemory reports whether err is DuckDB running out of memory (its memory_limit).
func IsOutOfMemory(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeOutOfMemory
}

// Open opens a DuckDB file; readOnly opens it as analysts do, beside any other readers.
func Open(path string, readOnly bool) (*sql.DB, error) {
	dsn := path
	if readOnly {
		dsn += "?access_mode=read_only"
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return nil, fmt.Errorf("warehouse: open %s: %w", path, err)
	}
	return db, nil
}

// Build creates the warehouse file at in.Path. On error the partial file is removed; a
// ChecksError leaves it in place for inspection.
func Build(ctx context.Context, in Input) (res Result, err error) {
	log := in.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("stage", "warehouse")
	if _, err := os.Stat(in.Path); err == nil {
		return res, fmt.Errorf("warehouse: %s already exists", in.Path)
	}
	// The ingest before the build leaves its buffers to the garbage collector, which would
	// hand them back to the system slowly: DuckDB's memory comes on top of them unless they
	// go now (a whole run's peak is the ingest's or the build's, not their sum).
	debug.FreeOSMemory()
	var base BuildInfo
	var newFiles []string
	var db *sql.DB // the copy of the base, open, when the build is incremental
	if in.Base != "" {
		var why string
		if db, base, newFiles, why = startFromBase(ctx, in); why != "" {
			log.Info("full warehouse build", "why", why)
		} else {
			log.Info("incremental warehouse build: the published warehouse plus the new files", "new_files", len(newFiles))
		}
	}
	incremental := newFiles != nil
	reading := in.Files
	if incremental {
		reading = only(in.Files, newFiles)
	}
	if err := checkLake(ctx, in.LakeDir, reading, in.Files); err != nil {
		if db != nil { // an incremental build's copy of its base
			db.Close()
			os.Remove(in.Path)
			os.Remove(in.Path + ".wal")
		}
		return res, err
	}
	if db == nil {
		var err error
		if db, err = Open(in.Path, false); err != nil {
			os.Remove(in.Path)
			return res, err
		}
	}
	keep := false
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("warehouse: close: %w", cerr)
		}
		if err != nil && !keep {
			os.Remove(in.Path)
			os.Remove(in.Path + ".wal")
		}
	}()
	// One connection: temp tables and settings must be seen by every statement.
	db.SetMaxOpenConns(1)
	resources := config.DefaultConfig().Warehouse
	if in.Resources != nil {
		resources = *in.Resources
	}
	if err := ApplyResources(ctx, db, resources); err != nil {
		return res, err
	}
	// FSST, DuckDB's compression for text that no dictionary fits (line_ref, near unique),
	// costs a full build more than any other step of storing the lines (1 s of CPU at 5M
	// lines) for a file a third smaller; without it the file is still smaller than when
	// every line was stored twice.
	if _, err := db.ExecContext(ctx, "SET disabled_compression_methods = 'fsst'"); err != nil {
		return res, fmt.Errorf("warehouse: settings: %w", err)
	}

	// step runs one part of the build and logs how long it took (sofpipe run -v).
	steps, done := buildSteps(), 0
	step := func(msg, key, name string, f func() error) error {
		done++
		in.progress(done, steps, name)
		start := time.Now()
		if err := f(); err != nil {
			return err
		}
		if err := releaseMemory(ctx, db, resources.MemoryLimit); err != nil {
			return err
		}
		log.Debug(msg, key, name, "seconds", time.Since(start).Seconds())
		return nil
	}
	// The ledger's tables (_build, _params, _files, _deliveries, _runs, _rejects, _checks)
	// are small and made afresh by every build, replacing an incremental build's base's.
	build := BuildInfo{BatchID: in.BatchID, Fingerprint: in.Fingerprint, Kind: "full"}
	if incremental {
		build.Kind, build.BuildsSinceFull = "incremental", base.BuildsSinceFull+1
	}
	res.Kind = build.Kind
	if _, err := db.ExecContext(ctx, "CREATE OR REPLACE TABLE _build AS SELECT ?::VARCHAR AS batch_id, ?::VARCHAR AS fingerprint, ?::VARCHAR AS kind, ?::INTEGER AS builds_since_full",
		build.BatchID, build.Fingerprint, build.Kind, build.BuildsSinceFull); err != nil {
		return res, fmt.Errorf("warehouse: _build: %w", err)
	}
	if err := step("loaded", "table", "_params", func() error { return loadParams(ctx, db, in.Marts) }); err != nil {
		return res, err
	}
	// This batch's run, as _runs shows it, says which kind of build made the file.
	runs := slices.Clone(in.Runs)
	for i := range runs {
		if runs[i].BatchID == in.BatchID {
			runs[i].WarehouseBuild = build.Kind
		}
	}
	if err := step("loaded", "table", "_files, _deliveries, _runs", func() error { return loadLedger(ctx, db, in.Path, in.BatchID, in.Files, runs) }); err != nil {
		return res, err
	}
	// The raw tables have no order of their own (every model orders what it builds), so
	// DuckDB may append the lake's row groups as they come instead of buffering them to
	// keep the files' order: less memory, and the same rows.
	if _, err := db.ExecContext(ctx, "SET preserve_insertion_order = false"); err != nil {
		return res, fmt.Errorf("warehouse: settings: %w", err)
	}
	rawFiles := reading
	for _, ds := range contract.All() {
		name := "raw_" + ds.Name
		if ds.Name == contract.Spend {
			name = "spend_versions" // see loadDataset
		}
		if err := step("loaded", "table", name, func() error {
			return loadDataset(ctx, db, ds, in.LakeDir, rawFiles, !incremental)
		}); err != nil {
			return res, err
		}
	}
	if err := step("loaded", "table", "_rejects", func() error { return loadRejects(ctx, db, in.LakeDir, in.Files) }); err != nil {
		return res, err
	}
	if err := step("loaded", "table", "raw_scorecard_history", func() error { return loadHistory(ctx, db, in.LakeDir, in.BatchID) }); err != nil {
		return res, err
	}
	// From here on tables are built with ORDER BY and read in that order (the marts are
	// exported with SELECT *): insertion order must hold.
	if _, err := db.ExecContext(ctx, "SET preserve_insertion_order = true"); err != nil {
		return res, fmt.Errorf("warehouse: settings: %w", err)
	}
	models, err := sqlmodels.Models()
	if err != nil {
		return res, err
	}
	if incremental {
		if models, err = incrementalModels(ctx, db, models, newFiles); err != nil {
			return res, err
		}
	}
	for _, m := range models {
		if err := step("model built", "model", m.Name, func() error {
			if _, err := db.ExecContext(ctx, m.SQL); err != nil {
				return modelError(ctx, db, m.Name, err)
			}
			return nil
		}); err != nil {
			return res, err
		}
	}
	if err := step("data tests run", "tests", "all", func() (err error) {
		res.Checks, err = runChecks(ctx, db, log)
		return err
	}); err != nil {
		return res, err
	}
	if res.Tables, err = tableCounts(ctx, db); err != nil {
		return res, err
	}
	var failed []Check
	for _, c := range res.Checks {
		if c.Failed() && c.Severity == sqlmodels.SeverityError {
			failed = append(failed, c)
		}
		if c.Failed() {
			log.Warn("data test found rows", "test", c.Name, "severity", c.Severity, "rows", c.Rows)
		}
	}
	if len(failed) > 0 {
		keep = true
		return res, &ChecksError{Failed: failed}
	}
	if err := step("checkpointed", "file", filepath.Base(in.Path), func() error {
		if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
			return fmt.Errorf("warehouse: checkpoint: %w", err)
		}
		return nil
	}); err != nil {
		return res, err
	}
	return res, nil
}

// releaseMemory hands back, between two steps of a build, the memory the step before
// used and the next may not need. DuckDB keeps the blocks a step read or wrote cached up
// to its memory_limit, and the next step's working memory comes on top of them (a 20M-line
// build peaked at 256 MiB in the models after the load): lowering the limit for a moment
// evicts them (a step that needs them reads them again from the file, which the system
// has cached). What DuckDB frees, glibc keeps in its arenas for reuse, and the next step's
// allocations need not fit the holes: malloc_trim gives it back. Both are best effort;
// only a limit that cannot be set back is an error (the build would go on at 16MB).
//
// A step that leaves DuckDB holding less than half its limit is followed by neither: the
// next has room, and the small steps of an incremental build would otherwise spend a
// fifth of a night's second writing their tables out to temporary files and reading them
// back.
func releaseMemory(ctx context.Context, db *sql.DB, limit string) error {
	if limit == "" {
		memtrim.Trim()
		return nil
	}
	limitBytes, err := config.ParseMemoryLimit(limit)
	if err != nil {
		return fmt.Errorf("warehouse: memory_limit %q: %w", limit, err)
	}
	var held int64
	if err := db.QueryRowContext(ctx, "SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory()").Scan(&held); err == nil && held < limitBytes/2 {
		return nil
	}
	if _, err := db.ExecContext(ctx, "SET memory_limit = '16MB'"); err == nil {
		if _, err := db.ExecContext(ctx, "SET memory_limit = "+quote(limit)); err != nil {
			return fmt.Errorf("warehouse: memory_limit %q: %w", limit, err)
		}
	}
	memtrim.Trim()
	return nil
}

// ApplyResources sets DuckDB's memory limit and threads on db as r says; empty and zero
// leave DuckDB's defaults. db must hold a single connection, since settings belong to it.
func ApplyResources(ctx context.Context, db *sql.DB, r config.Warehouse) error {
	if r.MemoryLimit != "" {
		if _, err := db.ExecContext(ctx, "SET memory_limit = "+quote(r.MemoryLimit)); err != nil {
			return fmt.Errorf("warehouse: memory_limit %q: %w", r.MemoryLimit, err)
		}
	}
	if r.Threads > 0 {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", r.Threads)); err != nil {
			return fmt.Errorf("warehouse: threads %d: %w", r.Threads, err)
		}
	}
	return nil
}

// checkConns is how many connections run the data tests at once: each test is a small
// query whose time goes mostly to DuckDB's work per statement, on one core, so two run
// side by side on a machine of two cores in little more than the time of one.
const checkConns = 2

// runChecks runs every data test (sql/tests) and records each outcome in _checks, in the
// tests' order. The tests only read the warehouse: they run on connections of their own,
// each test's rows in a temporary table of its connection, and the main connection db
// holds (SetMaxOpenConns(1) again when they are done) writes _checks once.
func runChecks(ctx context.Context, db *sql.DB, log *slog.Logger) ([]Check, error) {
	tests, err := sqlmodels.Tests()
	if err != nil {
		return nil, err
	}
	checks := make([]Check, len(tests))
	errs := make([]error, len(tests))
	db.SetMaxOpenConns(1 + checkConns)
	defer db.SetMaxOpenConns(1)
	next := make(chan int)
	var wg sync.WaitGroup
	for range checkConns {
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("warehouse: data tests: %w", err)
		}
		wg.Go(func() {
			defer conn.Close()
			for i := range next {
				start := time.Now()
				checks[i], errs[i] = runCheck(ctx, conn, tests[i])
				log.Debug("data test run", "test", tests[i].Name, "rows", checks[i].Rows, "seconds", time.Since(start).Seconds())
			}
		})
	}
	for i := range tests {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
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
	q := `CREATE OR REPLACE TABLE _checks (name VARCHAR, severity VARCHAR, status VARCHAR, rows BIGINT, sample VARCHAR[]);
		INSERT INTO _checks VALUES ` + strings.Join(values, ",\n")
	if len(values) == 0 {
		q = `CREATE OR REPLACE TABLE _checks (name VARCHAR, severity VARCHAR, status VARCHAR, rows BIGINT, sample VARCHAR[])`
	}
	if _, err := db.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("warehouse: _checks: %w", err)
	}
	return checks, nil
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

// AnalystTables are the tables DESIGN.md promises an analyst (the two marts and the
// operational marts of "Reports and operational marts" among them).
var AnalystTables = []string{"projects", "spend_monthly", "outcomes", "lessons", "project_scorecard", "scale_up_candidates", "lessons_learned", "returns_status", "scorecard_history", "band_changes", "_runs", "_files", "_rejects", "_checks"}

func tableCounts(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range AnalystTables {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+ident(t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("warehouse: table %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func list(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = num(f)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
