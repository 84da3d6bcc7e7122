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
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

// LoadParams makes the table _params the models read their constants from (for a program
// that runs sql/models on its own, as the benchmark's DuckDB-only job does).
func LoadParams(ctx context.Context, db querier, m config.Marts) error { return loadParams(ctx, db, m) }

func loadParams(ctx context.Context, db querier, m config.Marts) error {
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
func loadLedger(ctx context.Context, db querier, buildPath, building string, files []ledger.File, runs []ledger.Run) error {
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

// DuckType is the DuckDB type of a contract column, matching the lake's Parquet types.
func DuckType(t contract.Type) string {
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
// Spend is the exception, for its size: its lines are written into the file once, to
// spend_versions, with current true; model 011 sets current false on the lines a later
// file superseded. spend_lines (the lines that stand) and raw_spend (every version, as for
// the other datasets) are views of it with the columns and rows a table would have.
// (Written as a table and then again as spend_lines, every line was compressed and stored
// twice: two fifths of a full build. A flag, not a second table, marks a superseded line,
// so that a night's restatement updates a few flags instead of moving whole lines.)
func loadDataset(ctx context.Context, db querier, ds *contract.Dataset, lakeDir string, files []ledger.File, create bool) error {
	table := "raw_" + ds.Name
	if ds.Name == contract.Spend {
		table = "spend_versions"
	}
	if create {
		names := make([]string, 0, len(ds.Columns)+4)
		types := make([]string, 0, len(ds.Columns)+4)
		for _, c := range ds.Columns {
			names, types = append(names, c.Name), append(types, DuckType(c.Type))
		}
		names = append(names, "_file_sha256", "_source_line", "_batch_id", "_arrival")
		types = append(types, "VARCHAR", "BIGINT", "VARCHAR", "BIGINT")
		cols := make([]string, 0, len(names)+1)
		for i, n := range names {
			cols = append(cols, ident(n)+" "+types[i]+columnCompression(ds, n, types[i]))
		}
		if ds.Name == contract.Spend {
			cols = append(cols, "current BOOLEAN NOT NULL DEFAULT true")
		}
		q := fmt.Sprintf("CREATE TABLE %s (%s)", table, strings.Join(cols, ", "))
		if ds.Name == contract.Spend {
			q += `; CREATE VIEW spend_lines AS SELECT * EXCLUDE (current) FROM spend_versions WHERE current;
				CREATE VIEW raw_spend AS SELECT * EXCLUDE (current) FROM spend_versions`
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
	if ds.Name == contract.Spend {
		// The build keeps FSST off (Build). DuckDB compresses a load's lines as it writes
		// them, a row group (122,880 lines) at a time: FSST is on meanwhile, for the
		// columns left to its choice (columnCompression).
		q = "SET disabled_compression_methods = ''; " + q + "; " + fsstOff
	}
	if _, err := db.ExecContext(ctx, q); err != nil {
		if ds.Name == contract.Spend {
			// The build stops with err; off again all the same, whichever statement failed.
			db.ExecContext(context.WithoutCancel(ctx), fsstOff)
		}
		return fmt.Errorf("warehouse: %s: %w", table, err)
	}
	return nil
}

// fsstOff is the build's setting for every table but spend's lines (Build).
const fsstOff = "SET disabled_compression_methods = 'fsst'"

// fsstColumns are the columns of spend_versions that may be stored with FSST, DuckDB's
// compression for text no dictionary fits: line_ref, a payment's reference, differs from
// line to line. Stored plain, it was 72 MB of a 5M-line warehouse's 165 MB, and a night
// copies the published file and takes its SHA-256: with FSST the file is 116 MB, the full
// build loads the lines as fast, and model 011's join on the natural key, the one step of
// a night that reads line_ref, takes as long. A night's few lines wait in memory for the
// checkpoint, which compresses them with FSST off, as the models' tables: the last row
// group keeps line_ref plain until the next full build.
var fsstColumns = map[string]bool{"line_ref": true}

// columnCompression is how a column of spend_versions (name, of DuckDB type duckType) is
// declared to be stored (USING COMPRESSION), or "" for DuckDB's choice. The lines are
// loaded with FSST on: fsstColumns are left to DuckDB, which takes FSST where it is the
// smallest (a dictionary where a return repeats its references); the other text columns
// get a dictionary, or plain where none fits, as with FSST off (FSST on supplier and
// description saved a few MB for a second of CPU at 5M lines).
func columnCompression(ds *contract.Dataset, name, duckType string) string {
	if ds.Name != contract.Spend || duckType != "VARCHAR" || fsstColumns[name] {
		return ""
	}
	return " USING COMPRESSION dictionary"
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
// with each model that has an incremental form (forms, sql/incremental) replaced by it,
// and without each model that declares it restates a dataset no new file belongs to
// (Script.Restates; gained lists the datasets that have one): its table, in the base, is
// already what it would make (010_projects on a night that brought no register, say).
func incrementalModels(ctx context.Context, db querier, models []sqlmodels.Script, forms map[string]sqlmodels.Script, newFiles []string, gained map[string]bool) ([]sqlmodels.Script, error) {
	if _, err := db.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _new_files (file_sha256 VARCHAR)"); err != nil {
		return nil, fmt.Errorf("warehouse: _new_files: %w", err)
	}
	for _, sha := range newFiles {
		if _, err := db.ExecContext(ctx, "INSERT INTO _new_files VALUES (?)", sha); err != nil {
			return nil, fmt.Errorf("warehouse: _new_files: %w", err)
		}
	}
	var out []sqlmodels.Script
	for _, m := range models {
		if f, ok := forms[m.Name]; ok {
			m = f
		}
		if m.Restates != "" && !gained[m.Restates] {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// startFromBase copies in.Base to in.Path (or waits for in.BaseCopy to) and decides, from
// the copy's own build record (base), whether the build may go on from it: it returns the
// copy open for the build and the files to add, or why the build must be full, having
// removed the copy.
func startFromBase(ctx context.Context, in Input) (db *sql.DB, base BuildInfo, newFiles []string, whyFull string) {
	var err error
	if in.BaseCopy != nil { // Build has checked it is this one
		err = in.BaseCopy.Wait()
	} else {
		err = copyBase(ctx, in.Base, in.Path, in.BaseSHA256, in.BaseIdentity)
	}
	if err != nil {
		os.Remove(in.Path)
		return nil, base, nil, err.Error()
	}
	// Opened as the build will use it: one open, not a read-only one to look and another
	// to build.
	db, err = Open(in.Path, false)
	if err == nil {
		db.SetMaxOpenConns(1)
		if base, err = readBuild(ctx, db); err == nil {
			newFiles, whyFull = in.NewFiles(base)
		} else {
			whyFull = "the published warehouse has no build record: " + err.Error()
		}
	} else {
		whyFull = err.Error()
	}
	if whyFull == "" && len(newFiles) == 0 {
		whyFull = "no new files"
	}
	if whyFull != "" {
		if db != nil {
			db.Close()
		}
		os.Remove(in.Path)
		os.Remove(in.Path + ".wal")
		return nil, base, nil, whyFull
	}
	return db, base, newFiles, ""
}

// BaseCopy is a copy of the published warehouse made in the background for an incremental
// build to start from (Input.BaseCopy): a batch starts it once its inbox shows a file, and
// the disk copies while the file is read.
type BaseCopy struct {
	from, to, wantSHA256 string
	done                 chan struct{}
	err                  error
}

// StartBaseCopy starts copying the published warehouse at from to the new file at to, as
// an incremental build would (Input.Base, BaseSHA256, BaseIdentity), until ctx is done.
// first, when set, runs before the copy, on the same goroutine.
func StartBaseCopy(ctx context.Context, from, to, wantSHA256 string, published *fsutil.Identity, first func()) *BaseCopy {
	c := &BaseCopy{from: from, to: to, wantSHA256: wantSHA256, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		if first != nil {
			first()
		}
		if c.err = copyBase(ctx, from, to, wantSHA256, published); c.err != nil {
			os.Remove(to)
		}
	}()
	return c
}

// of reports whether c is the copy in's build starts from: of its base, to its path.
func (c *BaseCopy) of(in Input) bool {
	return in.Base != "" && c.from == in.Base && c.to == in.Path && c.wantSHA256 == in.BaseSHA256
}

// Wait returns once the copy is made, with its error.
func (c *BaseCopy) Wait() error {
	<-c.done
	return c.err
}

// Discard waits for the copy and removes it: for a batch that does not build from it.
func (c *BaseCopy) Discard() {
	if c != nil {
		c.Wait()
		os.Remove(c.to)
	}
}

// copyChunk is how much copyBase copies between two looks at whether to stop.
const copyChunk = 64 << 20

// copyBase copies the published warehouse at from to a new file at to, making sure the
// bytes are those published, with the SHA-256 wantSHA256: by reading them through the
// hash on the way, or, when the file still has the identity it had when it was published
// (published, not nil), by that alone. Then the kernel copies the file (copy_file_range),
// and a night with one small file does not read the whole warehouse through a hash (a
// third of a second at 5M lines). sofpipe verify still reads every byte.
func copyBase(ctx context.Context, from, to, wantSHA256 string, published *fsutil.Identity) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	trusted := false
	if info, err := src.Stat(); err == nil && published != nil {
		id, ok := fsutil.IdentityOf(info)
		trusted = ok && id == *published
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	h := sha256.New()
	var w io.Writer = io.MultiWriter(dst, h)
	if trusted || wantSHA256 == "" {
		w = dst // *os.File to *os.File: io.Copy lets the kernel copy
	}
	// A chunk at a time, so that a batch that stops (a service stopping) does not wait for
	// the whole of a large warehouse; io.CopyN still lets the kernel copy.
	for {
		if err := ctx.Err(); err != nil {
			dst.Close()
			return err
		}
		if _, err := io.CopyN(w, src, copyChunk); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			dst.Close()
			return err
		}
	}
	// The build's first checkpoint syncs the file; the disk writes the copy meanwhile.
	fsutil.StartWriteback(dst)
	if err := dst.Close(); err != nil {
		return err
	}
	if w == dst {
		return nil
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA256 {
		return fmt.Errorf("%s has changed since it was published (SHA-256 %s, published as %s)", from, got, wantSHA256)
	}
	return nil
}

func loadRejects(ctx context.Context, db querier, lakeDir string, files []ledger.File) error {
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
