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
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
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
	// BaseCopy, when set, is the copy of Base to Path already under way (StartBaseCopy):
	// the build waits for it instead of copying. The build owns it: whatever the build
	// does, it leaves no copy behind but the file it built.
	BaseCopy *BaseCopy
	NewFiles func(BuildInfo) (newFiles []string, whyFull string)
	// BatchID and Fingerprint name the build in its table _build: the batch, and what the
	// build is made of (program, SQL, constants, files), so that a later batch can tell
	// whether this warehouse can be its base.
	BatchID     string
	Fingerprint string
	// Progress, when set, is told as each step of the build starts: step n of steps, and
	// the step's table, model or file (a terminal's progress display; never the log).
	Progress func(step, steps int, name string)
	// Finished, when set, is called once the file is built and checkpointed, before it is
	// closed, with the build's database: what is read from the file as it will be
	// published (the exports, the report) is read through the build's own DuckDB, its
	// memory limit and its cache, without opening the file again. It must only read, on
	// at most finishConns connections of db at a time. Its error is the build's.
	Finished func(ctx context.Context, db *sql.DB) error
}

// freeHeapAbove is the Go heap, in bytes held from the system, above which a build first
// hands it back (debug.FreeOSMemory).
const freeHeapAbove = 64 << 20

// finishConns bounds the connections Input.Finished uses beside the build's own.
const finishConns = 2

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
func readBuild(ctx context.Context, db querier) (BuildInfo, error) {
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

// querier is what a build sends its statements to: the one connection it holds (*sql.Conn),
// or a pool (*sql.DB) for the exported helpers.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
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
	if c := in.BaseCopy; c != nil && !c.of(in) {
		c.Discard() // not a copy this build starts from
		in.BaseCopy = nil
	}
	if _, err := os.Stat(in.Path); err == nil && in.BaseCopy == nil {
		return res, fmt.Errorf("warehouse: %s already exists", in.Path)
	}
	// The ingest before the build leaves its buffers to the garbage collector, which would
	// hand them back to the system slowly: DuckDB's memory comes on top of them unless they
	// go now (a whole run's peak is the ingest's or the build's, not their sum). A heap of
	// a few megabytes (a night's small file) is not worth the collection (15 ms).
	var heap runtime.MemStats
	runtime.ReadMemStats(&heap)
	if heap.HeapSys-heap.HeapReleased > freeHeapAbove {
		debug.FreeOSMemory()
	}
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
	// One connection for every statement, pinned: temp tables and settings must be seen
	// by each, and the data tests (checks.go) get connections of their own.
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("warehouse: %w", err)
	}
	defer conn.Close()
	resources := config.DefaultConfig().Warehouse
	if in.Resources != nil {
		resources = *in.Resources
	}
	if err := ApplyResources(ctx, conn, resources); err != nil {
		return res, err
	}
	// FSST, DuckDB's compression for text that no dictionary fits, is off: on every text
	// column it cost a full build 1 s of CPU at 5M lines, and the models' tables gain
	// little from it. spend_versions' line_ref, near unique, is the exception: the lines
	// are loaded with it on (loadDataset).
	if _, err := conn.ExecContext(ctx, "SET disabled_compression_methods = 'fsst'"); err != nil {
		return res, fmt.Errorf("warehouse: settings: %w", err)
	}

	// chk runs the data tests; in an incremental build it starts before the models are all
	// built, and a step that lowers the memory limit waits for the test running then.
	var chk *checker
	exclusive := func(f func() error) error {
		if chk == nil {
			return f()
		}
		return chk.exclusive(f)
	}
	// step runs one part of the build, lets go of memory after it (releaseMemory: in a
	// full build, and in an incremental one whose process holds more than
	// nightResidentCap) and logs how long it took (sofpipe run -v).
	steps, done := buildSteps(), 0
	step := func(msg, key, name string, f func() error) error {
		done++
		in.progress(done, steps, name)
		start := time.Now()
		if err := f(); err != nil {
			return err
		}
		if !incremental || residentOver(nightResidentCap) {
			if err := releaseMemory(ctx, conn, resources.MemoryLimit, exclusive); err != nil {
				return err
			}
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
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE _build AS SELECT ?::VARCHAR AS batch_id, ?::VARCHAR AS fingerprint, ?::VARCHAR AS kind, ?::INTEGER AS builds_since_full",
		build.BatchID, build.Fingerprint, build.Kind, build.BuildsSinceFull); err != nil {
		return res, fmt.Errorf("warehouse: _build: %w", err)
	}
	if err := step("loaded", "table", "_params", func() error { return loadParams(ctx, conn, in.Marts) }); err != nil {
		return res, err
	}
	// This batch's run, as _runs shows it, says which kind of build made the file.
	runs := slices.Clone(in.Runs)
	for i := range runs {
		if runs[i].BatchID == in.BatchID {
			runs[i].WarehouseBuild = build.Kind
		}
	}
	if err := step("loaded", "table", "_files, _deliveries, _runs", func() error { return loadLedger(ctx, conn, in.Path, in.BatchID, in.Files, runs) }); err != nil {
		return res, err
	}
	// The raw tables have no order of their own (every model orders what it builds), so
	// DuckDB may append the lake's row groups as they come instead of buffering them to
	// keep the files' order: less memory, and the same rows.
	if _, err := conn.ExecContext(ctx, "SET preserve_insertion_order = false"); err != nil {
		return res, fmt.Errorf("warehouse: settings: %w", err)
	}
	rawFiles := reading
	for _, ds := range contract.All() {
		name := "raw_" + ds.Name
		if ds.Name == contract.Spend {
			name = "spend_versions" // see loadDataset
		}
		if err := step("loaded", "table", name, func() error {
			return loadDataset(ctx, conn, ds, in.LakeDir, rawFiles, !incremental)
		}); err != nil {
			return res, err
		}
	}
	if err := step("loaded", "table", "_rejects", func() error { return loadRejects(ctx, conn, in.LakeDir, in.Files) }); err != nil {
		return res, err
	}
	if err := step("loaded", "table", "raw_scorecard_history", func() error { return loadHistory(ctx, conn, in.LakeDir, in.BatchID, incremental) }); err != nil {
		return res, err
	}
	// From here on tables are built with ORDER BY and read in that order (the marts are
	// exported with SELECT *): insertion order must hold. (An incremental build's forms of
	// 015, 016 and 020 add their changed rows at the end instead: nothing reads those
	// tables in order.)
	if _, err := conn.ExecContext(ctx, "SET preserve_insertion_order = true"); err != nil {
		return res, fmt.Errorf("warehouse: settings: %w", err)
	}
	models, err := sqlmodels.Models()
	if err != nil {
		return res, err
	}
	forms, err := sqlmodels.Incremental()
	if err != nil {
		return res, err
	}
	if incremental {
		gained := map[string]bool{}
		for _, f := range reading {
			gained[f.Dataset] = true
		}
		if models, err = incrementalModels(ctx, conn, models, forms, newFiles, gained); err != nil {
			return res, err
		}
	}
	if chk, err = newChecker(models, forms, log); err != nil {
		return res, err
	}
	defer chk.stop()
	if incremental {
		// The tests run beside the models that follow the tables they read: a night's
		// models are small queries that leave the second core idle. (A full build's
		// models need the memory for themselves.)
		db.SetMaxOpenConns(2)
		if err := chk.start(ctx, db, 1); err != nil {
			return res, err
		}
	}
	for _, m := range models {
		if err := step("model built", "model", m.Name, func() error {
			if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
				return modelError(ctx, conn, m.Name, err)
			}
			return nil
		}); err != nil {
			return res, err
		}
		chk.modelBuilt(m.Name)
	}
	if err := step("data tests run", "tests", "all", func() (err error) {
		chk.modelsDone()
		db.SetMaxOpenConns(1 + checkConns)
		defer db.SetMaxOpenConns(1)
		more := checkConns
		if incremental {
			more-- // one is running already
		}
		if err := chk.start(ctx, db, more); err != nil {
			return err
		}
		if res.Checks, err = chk.wait(); err != nil {
			return err
		}
		return writeChecks(ctx, conn, res.Checks)
	}); err != nil {
		return res, err
	}
	if res.Tables, err = tableCounts(ctx, conn); err != nil {
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
		if _, err := conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
			return fmt.Errorf("warehouse: checkpoint: %w", err)
		}
		return nil
	}); err != nil {
		return res, err
	}
	if in.Finished != nil {
		db.SetMaxOpenConns(1 + finishConns)
		if err := in.Finished(ctx, db); err != nil {
			return res, err
		}
	}
	return res, nil
}

// nightResidentCap is the resident memory of the process above which a step of an
// incremental build lets go of memory (releaseMemory), as every step of a full build
// does. A night's steps are small, and releasing after each cost a one-file night on a
// 5M-line workspace 0.05-0.1 s of its second; without any, a night on 20M lines peaked at
// 240-268 MiB, over the 256 MiB a whole run is held to, its process growing by up to
// 30 MB in one step. Above 216 MiB, a step releases: such nights peaked at 217-237 MiB,
// while a 5M-line night (at most 220 MiB after a step) seldom pays for a release.
const nightResidentCap = 216 << 20

// residentOver reports whether the process holds more than limit bytes in RAM, or the
// system does not say (memtrim.Resident).
func residentOver(limit int64) bool {
	resident, ok := memtrim.Resident()
	return !ok || resident > limit
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
// back. exclusive runs the lowering of the limit while no data test runs beside it.
//
// An incremental build calls it only once the process holds more than nightResidentCap
// (Build): what DuckDB holds after a night's step is mostly the base's blocks it read,
// which its own limit lets go of for free as the next step needs room, while lowering the
// limit also wrote the night's new tables out, to be read back by the checkpoint, and
// malloc_trim gave back pages the next step faulted in again.
func releaseMemory(ctx context.Context, db querier, limit string, exclusive func(func() error) error) error {
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
	return exclusive(func() error {
		if _, err := db.ExecContext(ctx, "SET memory_limit = '16MB'"); err == nil {
			if _, err := db.ExecContext(ctx, "SET memory_limit = "+quote(limit)); err != nil {
				return fmt.Errorf("warehouse: memory_limit %q: %w", limit, err)
			}
		}
		memtrim.Trim()
		return nil
	})
}

// ApplyResources sets DuckDB's memory limit and threads on db as r says; empty and zero
// leave DuckDB's defaults. Both are settings of the whole database, for every connection.
func ApplyResources(ctx context.Context, db querier, r config.Warehouse) error {
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

// AnalystTables are the tables DESIGN.md promises an analyst (the two marts and the
// operational marts of "Reports and operational marts" among them).
var AnalystTables = []string{"projects", "spend_monthly", "outcomes", "lessons", "project_scorecard", "scale_up_candidates", "lessons_learned", "returns_status", "scorecard_history", "band_changes", "_runs", "_files", "_rejects", "_checks"}

func tableCounts(ctx context.Context, db querier) (map[string]int64, error) {
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
