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
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
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
	// when it was published), reads the copy's own build record, and asks NewFiles whether
	// and how to build on it: NewFiles returns the SHA-256s of the files to add to the copy
	// (each of them delivered after every file the copy holds, which NewFiles answers for),
	// or why the build must be full. The copy is read, not the live file, because DuckDB
	// keeps one instance per path in a process: a second open of a path that is already
	// open sees the file as it was then, not the file the path now names.
	Base       string
	BaseSHA256 string
	NewFiles   func(BuildInfo) (newFiles []string, whyFull string)
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
	if in.Base != "" {
		var why string
		if base, newFiles, why = startFromBase(ctx, in); why != "" {
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
		os.Remove(in.Path) // an incremental build's copy of its base
		return res, err
	}
	db, err := Open(in.Path, false)
	if err != nil {
		os.Remove(in.Path)
		return res, err
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
			name = "spend_lines" // see loadDataset
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
		res.Checks, err = runChecks(ctx, db)
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
func releaseMemory(ctx context.Context, db *sql.DB, limit string) error {
	if limit != "" {
		if _, err := db.ExecContext(ctx, "SET memory_limit = '16MB'"); err == nil {
			if _, err := db.ExecContext(ctx, "SET memory_limit = "+quote(limit)); err != nil {
				return fmt.Errorf("warehouse: memory_limit %q: %w", limit, err)
			}
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

// LoadParams makes the table _params the models read their constants from (for a program
// that runs sql/models on its own, as the benchmark's DuckDB-only job does).
func LoadParams(ctx context.Context, db *sql.DB, m config.Marts) error { return loadParams(ctx, db, m) }

func loadParams(ctx context.Context, db *sql.DB, m config.Marts) error {
	asOfFY, asOfP := "NULL", "NULL"
	if m.AsOfFinancialYear != "" {
		asOfFY, asOfP = quote(m.AsOfFinancialYear), strconv.Itoa(m.AsOfPeriod)
	}
	q := fmt.Sprintf(`CREATE OR REPLACE TABLE _params AS SELECT
		%s::VARCHAR AS base_year, %s::DOUBLE AS discount_rate,
		%s::VARCHAR AS as_of_financial_year, %s::INTEGER AS as_of_period,
		%s::DOUBLE AS weight_evidence, %s::DOUBLE AS weight_value, %s::DOUBLE AS weight_attainment,
		%s::DOUBLE AS weight_consistency, %s::DOUBLE AS weight_delivery, %s::DOUBLE AS weight_joinup,
		%s::DOUBLE[] AS sms_scores, %s::DOUBLE[] AS vfm_thresholds, %s::DOUBLE[] AS vfm_scores,
		%s::DOUBLE AS attainment_cap, %s::DOUBLE AS consistency_threshold,
		%s::DOUBLE AS variance_tolerance, %s::DOUBLE AS variance_slope,
		%d::INTEGER AS joinup_max_extra_departments, %s::DOUBLE AS returns_red_below,
		%d::INTEGER AS gate_min_sms, %s::DOUBLE AS gate_min_bcr,
		%s::DOUBLE AS band_scale_up_min, %s::DOUBLE AS band_extend_min,
		%d::INTEGER AS returns_due_day`,
		quote(m.BaseYear), num(m.Discount), asOfFY, asOfP,
		num(m.WeightEvidence), num(m.WeightValue), num(m.WeightAttainment),
		num(m.WeightConsistency), num(m.WeightDelivery), num(m.WeightJoinup),
		list(m.SMSScores), list(m.VFMThresholds), list(m.VFMScores),
		num(m.AttainmentCap), num(m.ConsistencyThreshold), num(m.VarianceTolerance), num(m.VarianceSlope),
		m.JoinupMaxExtraDepartments, num(m.ReturnsRedBelow), m.GateMinSMS, num(m.GateMinBCR),
		num(m.BandScaleUpMin), num(m.BandExtendMin), m.ReturnsDueDay)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("warehouse: _params: %w", err)
	}
	return nil
}

// loadLedger writes the ledger's records as newline-delimited JSON beside the build and
// reads them with DuckDB's JSON reader: one statement instead of a round trip per row.
func loadLedger(ctx context.Context, db *sql.DB, buildPath, building string, files []ledger.File, runs []ledger.Run) error {
	type fileRow struct {
		ledger.File
		Deliveries int `json:"deliveries"`
	}
	deliveries := map[string]int{}
	type deliveryRow struct {
		BatchID string `json:"batch_id"`
		ledger.Delivery
	}
	// The run that builds the file has not finished when it is built: its finish time and
	// its warehouse and export seconds are not known, so they are NULL (never a made-up
	// date or zero). Finish times of runs that never finished are NULL too.
	type runRow struct {
		ledger.Run
		WarehouseSeconds *float64 `json:"warehouse_seconds"`
		ExportSeconds    *float64 `json:"export_seconds"`
	}
	var deliveryRows []any
	var runRows []any
	for _, r := range runs {
		for _, d := range r.Deliveries {
			deliveries[d.SHA256]++
			deliveryRows = append(deliveryRows, deliveryRow{r.BatchID, d})
		}
		r.Deliveries = nil
		row := runRow{Run: r}
		if r.BatchID != building {
			row.WarehouseSeconds, row.ExportSeconds = &r.WarehouseSeconds, &r.ExportSeconds
		}
		runRows = append(runRows, row)
	}
	var fileRows []any
	for _, f := range files {
		fileRows = append(fileRows, fileRow{f, deliveries[f.SHA256]})
	}
	tables := []struct {
		name, columns, sel string
		rows               []any
	}{
		{"_files", `{sha256: 'VARCHAR', dataset: 'VARCHAR', source_path: 'VARCHAR', profile: 'VARCHAR', arrival: 'BIGINT', batch_id: 'VARCHAR', received_at: 'TIMESTAMPTZ', size_bytes: 'BIGINT', encoding: 'VARCHAR', rows_read: 'BIGINT', rows_accepted: 'BIGINT', rows_rejected: 'BIGINT', rejects_by_reason: 'JSON', status: 'VARCHAR', reason: 'VARCHAR', message: 'VARCHAR', ignored_columns: 'VARCHAR[]', header_line: 'BIGINT', money_rounded: 'BIGINT', outputs: 'VARCHAR[]', rejects_file: 'VARCHAR', deliveries: 'BIGINT'}`,
			`sha256 AS file_sha256, dataset, source_path, profile, arrival, batch_id, received_at, size_bytes, encoding, rows_read, rows_accepted, rows_rejected, rows_read = rows_accepted + rows_rejected AS rows_balance, rejects_by_reason, status, reason, message, ignored_columns, coalesce(header_line, 0) AS header_line, coalesce(money_rounded, 0) AS money_rounded, outputs, rejects_file, deliveries`, fileRows},
		{"_deliveries", `{batch_id: 'VARCHAR', sha256: 'VARCHAR', source_path: 'VARCHAR', received_at: 'TIMESTAMPTZ', size_bytes: 'BIGINT', status: 'VARCHAR'}`,
			`batch_id, sha256 AS file_sha256, source_path, received_at, size_bytes, status`, deliveryRows},
		{"_runs", `{batch_id: 'VARCHAR', version: 'VARCHAR', started_at: 'TIMESTAMPTZ', finished_at: 'TIMESTAMPTZ', status: 'VARCHAR', message: 'VARCHAR', files_new: 'BIGINT', files_duplicate: 'BIGINT', files_rejected: 'BIGINT', files_quarantined: 'BIGINT', rows_read: 'BIGINT', rows_accepted: 'BIGINT', rows_rejected: 'BIGINT', fingerprint: 'VARCHAR', warehouse: 'VARCHAR', ingest_seconds: 'DOUBLE', warehouse_seconds: 'DOUBLE', export_seconds: 'DOUBLE', checks_failed: 'BIGINT', checks_warned: 'BIGINT', program_sha256: 'VARCHAR', warehouse_build: 'VARCHAR'}`,
			`*`, runRows},
	}
	for _, t := range tables {
		tmp := buildPath + "." + t.name + ".ndjson"
		if err := writeNDJSON(tmp, t.rows); err != nil {
			return fmt.Errorf("warehouse: %s: %w", t.name, err)
		}
		q := fmt.Sprintf(`CREATE OR REPLACE TABLE %s AS SELECT %s FROM read_json(%s, format = 'newline_delimited', columns = %s)`, t.name, t.sel, quote(tmp), t.columns)
		_, err := db.ExecContext(ctx, q)
		os.Remove(tmp)
		if err != nil {
			return fmt.Errorf("warehouse: %s: %w", t.name, err)
		}
	}
	return nil
}

func writeNDJSON(path string, rows []any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// duckType is the DuckDB type of a contract column, matching the lake's Parquet types.
func duckType(t contract.Type) string {
	switch t {
	case contract.Int:
		return "INTEGER"
	case contract.Float:
		return "DOUBLE"
	case contract.Money:
		return "DECIMAL(18,2)"
	case contract.Date:
		return "DATE"
	default:
		return "VARCHAR"
	}
}

// loadDataset adds to raw_<dataset> every accepted row of every ingested file of files,
// each tagged with its file's arrival so the models can take the latest version of a key;
// create makes the table first (a full build; an incremental one adds to the base's).
//
// Spend is the exception, for its size: its lines are written into the file once. They go
// to spend_lines, where model 011 leaves the lines that stand and moves those a later file
// superseded to spend_superseded; raw_spend, every version as for the other datasets, is a
// view over the two with the columns and rows a table would have. (Written as a table and
// then again as spend_lines, every line was compressed and stored twice: two fifths of a
// full build.)
func loadDataset(ctx context.Context, db *sql.DB, ds *contract.Dataset, lakeDir string, files []ledger.File, create bool) error {
	table := "raw_" + ds.Name
	if ds.Name == contract.Spend {
		table = "spend_lines"
	}
	if create {
		cols := make([]string, 0, len(ds.Columns)+4)
		for _, c := range ds.Columns {
			cols = append(cols, fmt.Sprintf("%s %s", ident(c.Name), duckType(c.Type)))
		}
		cols = append(cols, "_file_sha256 VARCHAR", "_source_line BIGINT", "_batch_id VARCHAR", "_arrival BIGINT")
		q := fmt.Sprintf("CREATE TABLE %s (%s)", table, strings.Join(cols, ", "))
		if ds.Name == contract.Spend {
			q += fmt.Sprintf(`; CREATE TABLE spend_superseded (%s);
				CREATE VIEW raw_spend AS SELECT * FROM spend_lines UNION ALL SELECT * FROM spend_superseded`, strings.Join(cols, ", "))
		}
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("warehouse: %s: %w", table, err)
		}
	}
	var paths []string
	for _, f := range files {
		if f.Dataset != ds.Name || f.Status != ledger.StatusIngested {
			continue
		}
		for _, o := range f.Outputs {
			paths = append(paths, quote(filepath.Join(lakeDir, filepath.FromSlash(o))))
		}
	}
	if len(paths) == 0 {
		return nil
	}
	hive := "hive_partitioning = false"
	if ds.PartitionBy != "" {
		hive = fmt.Sprintf("hive_partitioning = true, hive_types = {%s: 'VARCHAR'}", quote(ds.PartitionBy))
	}
	q := fmt.Sprintf(`INSERT INTO %s BY NAME
		SELECT r.*, f.arrival AS _arrival
		FROM read_parquet([%s], %s) r
		JOIN _files f ON f.file_sha256 = r._file_sha256`, table, strings.Join(paths, ", "), hive)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("warehouse: %s: %w", table, err)
	}
	return nil
}

// only returns the files whose SHA-256 is in shas.
func only(files []ledger.File, shas []string) []ledger.File {
	keep := make(map[string]bool, len(shas))
	for _, s := range shas {
		keep[s] = true
	}
	var out []ledger.File
	for _, f := range files {
		if keep[f.SHA256] {
			out = append(out, f)
		}
	}
	return out
}

// incrementalModels lists newFiles in the temporary table _new_files and returns models
// with each model that has an incremental form (sql/incremental) replaced by it.
func incrementalModels(ctx context.Context, db *sql.DB, models []sqlmodels.Script, newFiles []string) ([]sqlmodels.Script, error) {
	forms, err := sqlmodels.Incremental()
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _new_files (file_sha256 VARCHAR)"); err != nil {
		return nil, fmt.Errorf("warehouse: _new_files: %w", err)
	}
	for _, sha := range newFiles {
		if _, err := db.ExecContext(ctx, "INSERT INTO _new_files VALUES (?)", sha); err != nil {
			return nil, fmt.Errorf("warehouse: _new_files: %w", err)
		}
	}
	out := slices.Clone(models)
	for i, m := range out {
		if f, ok := forms[m.Name]; ok {
			out[i] = f
		}
	}
	return out, nil
}

// startFromBase copies in.Base to in.Path and decides, from the copy's own build record
// (base), whether the build may go on from it: it returns the files to add, or why the
// build must be full, having removed the copy.
func startFromBase(ctx context.Context, in Input) (base BuildInfo, newFiles []string, whyFull string) {
	if err := copyFile(in.Base, in.Path, in.BaseSHA256); err != nil {
		os.Remove(in.Path)
		return base, nil, err.Error()
	}
	base, err := func() (BuildInfo, error) {
		db, err := Open(in.Path, true)
		if err != nil {
			return BuildInfo{}, err
		}
		defer db.Close()
		return readBuild(ctx, db)
	}()
	if err == nil {
		newFiles, whyFull = in.NewFiles(base)
	} else {
		whyFull = "the published warehouse has no build record: " + err.Error()
	}
	if whyFull == "" && len(newFiles) == 0 {
		whyFull = "no new files"
	}
	if whyFull != "" {
		os.Remove(in.Path)
		os.Remove(in.Path + ".wal")
		return base, nil, whyFull
	}
	return base, newFiles, ""
}

// copyFile copies the file at from to a new file at to, checking on the way that the bytes
// have the SHA-256 wantSHA256 (hex) when it is not empty.
func copyFile(from, to, wantSHA256 string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(dst, h), src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); wantSHA256 != "" && got != wantSHA256 {
		return fmt.Errorf("%s has changed since it was published (SHA-256 %s, published as %s)", from, got, wantSHA256)
	}
	return nil
}

func loadRejects(ctx context.Context, db *sql.DB, lakeDir string, files []ledger.File) error {
	const create = `CREATE OR REPLACE TABLE _rejects (_file_sha256 VARCHAR, dataset VARCHAR, source_path VARCHAR, line BIGINT, "column" VARCHAR, reason VARCHAR, message VARCHAR, raw VARCHAR, _batch_id VARCHAR)`
	if _, err := db.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("warehouse: _rejects: %w", err)
	}
	var paths []string
	for _, f := range files {
		if f.RejectsFile != "" {
			paths = append(paths, quote(filepath.Join(lakeDir, filepath.FromSlash(f.RejectsFile))))
		}
	}
	// Whole-file rejections have no rows of their own: record them at line 0.
	if _, err := db.ExecContext(ctx, `INSERT INTO _rejects
		SELECT file_sha256, dataset, source_path, 0, NULL, reason, message, '', batch_id
		FROM _files WHERE status = 'rejected'`); err != nil {
		return fmt.Errorf("warehouse: _rejects: %w", err)
	}
	if len(paths) == 0 {
		return nil
	}
	q := fmt.Sprintf(`INSERT INTO _rejects BY NAME
		SELECT r.*, f.dataset FROM read_parquet([%s]) r JOIN _files f ON f.file_sha256 = r._file_sha256`, strings.Join(paths, ", "))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("warehouse: _rejects: %w", err)
	}
	return nil
}

func runChecks(ctx context.Context, db *sql.DB) ([]Check, error) {
	tests, err := sqlmodels.Tests()
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE _checks (name VARCHAR, severity VARCHAR, status VARCHAR, rows BIGINT, sample VARCHAR[])`); err != nil {
		return nil, fmt.Errorf("warehouse: _checks: %w", err)
	}
	var checks []Check
	for _, t := range tests {
		body := strings.TrimRight(strings.TrimSpace(t.SQL), ";")
		c := Check{Name: t.Name, Severity: t.Severity}
		if _, err := db.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _check_rows AS "+body); err != nil {
			return nil, fmt.Errorf("warehouse: data test %s: %w", t.Name, err)
		}
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM _check_rows").Scan(&c.Rows); err != nil {
			return nil, fmt.Errorf("warehouse: data test %s: %w", t.Name, err)
		}
		if c.Rows > 0 {
			rows, err := db.QueryContext(ctx, "SELECT to_json(t)::VARCHAR FROM _check_rows t LIMIT 5")
			if err != nil {
				return nil, fmt.Errorf("warehouse: data test %s: %w", t.Name, err)
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					rows.Close()
					return nil, err
				}
				c.Sample = append(c.Sample, s)
			}
			rows.Close()
		}
		status := "pass"
		if c.Failed() {
			status = "fail"
			if c.Severity == sqlmodels.SeverityWarn {
				status = "warn"
			}
		}
		sample := make([]string, len(c.Sample))
		for i, s := range c.Sample {
			sample[i] = quote(s)
		}
		q := fmt.Sprintf("INSERT INTO _checks VALUES (%s, %s, %s, %d, [%s]::VARCHAR[])", quote(c.Name), quote(string(c.Severity)), quote(status), c.Rows, strings.Join(sample, ", "))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("warehouse: _checks: %w", err)
		}
		checks = append(checks, c)
	}
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS _check_rows"); err != nil {
		return nil, err
	}
	return checks, nil
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
