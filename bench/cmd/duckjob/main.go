// Command duckjob is the DuckDB side of the whole-batch benchmark (ingestbench -mode
// fullrun): the night's job as a team would write it with DuckDB alone, a cron job and a
// script, with none of sofpipe's validation, rejects, ledger, lineage, lake or history.
//
// It reads every CSV of an inbox laid out as sofpipe's (inbox/<dataset>/*.csv) with
// read_csv into a new DuckDB file, each column typed as the dataset's contract says;
// applies the restatement rule to spend as one QUALIFY over the natural key (the latest
// file, by name, carrying a key wins); runs the project's own sql/models for the two marts
// (010-060; the operational marts 070-090 need the ledger it does not keep); and COPYs the
// two exports as sofpipe does (zstd Parquet and CSV). It prints what it did as JSON.
//
// It runs as its own process so that its peak RSS and CPU time are its own.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

func main() {
	inbox := flag.String("inbox", "", "inbox folder: <dataset>/*.csv")
	dbPath := flag.String("db", "", "DuckDB file to create")
	out := flag.String("out", "", "folder for the exports")
	memory := flag.String("memory-limit", "", "DuckDB memory_limit (empty: DuckDB's default, 80% of RAM)")
	flag.Parse()
	if *inbox == "" || *dbPath == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: duckjob -inbox DIR -db FILE.duckdb -out DIR")
		os.Exit(2)
	}
	if err := run(context.Background(), *inbox, *dbPath, *out, *memory); err != nil {
		fmt.Fprintln(os.Stderr, "duckjob:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, inbox, dbPath, out, memory string) error {
	start := time.Now()
	os.Remove(dbPath)
	os.Remove(dbPath + ".wal")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	db, err := sql.Open("duckdb", dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if memory != "" {
		if _, err := db.ExecContext(ctx, "SET memory_limit = "+quote(memory)); err != nil {
			return err
		}
	}
	exec := func(q string) error {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w\n%s", err, q)
		}
		return nil
	}
	rows := map[string]int64{}
	for _, ds := range contract.All() {
		files, err := filepath.Glob(filepath.Join(inbox, ds.Name, "*.csv"))
		if err != nil {
			return err
		}
		var cols, types []string
		for _, c := range ds.Columns {
			cols = append(cols, fmt.Sprintf("%s::%s AS %s", ident(c.Name), warehouse.DuckType(c.Type), ident(c.Name)))
			types = append(types, fmt.Sprintf("%s: '%s'", quote(c.Name), warehouse.DuckType(c.Type)))
		}
		// The lineage columns the models select with * (sofpipe's lake carries them):
		// the file stands in for its digest, its place in name order for its arrival.
		q := emptyTable(ds)
		if len(files) > 0 {
			q = fmt.Sprintf(`CREATE TABLE raw_%s AS
				SELECT %s, r.filename AS _file_sha256, NULL::BIGINT AS _source_line, NULL::VARCHAR AS _batch_id, a._arrival
				FROM read_csv(%s || '/*.csv', header = true, union_by_name = true, filename = true, types = {%s}) AS r
				JOIN (SELECT file AS filename, row_number() OVER (ORDER BY file) AS _arrival FROM glob(%s || '/*.csv')) AS a USING (filename)`,
				ds.Name, strings.Join(cols, ", "), quote(filepath.Join(inbox, ds.Name)), strings.Join(types, ", "), quote(filepath.Join(inbox, ds.Name)))
		}
		if err := exec(q); err != nil {
			return err
		}
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM raw_"+ds.Name).Scan(&n); err != nil {
			return err
		}
		rows[ds.Name] = n
	}
	loaded := time.Since(start)
	if err := warehouse.LoadParams(ctx, db, config.DefaultMarts()); err != nil {
		return err
	}
	models, err := sqlmodels.Models()
	if err != nil {
		return err
	}
	for _, m := range models {
		switch {
		case m.Name == "011_spend_lines":
			// The restatement rule as one would write it: a window over the natural key.
			if err := exec(`CREATE TABLE spend_lines AS SELECT * FROM raw_spend
				QUALIFY dense_rank() OVER (
					PARTITION BY project_id, department, financial_year, period, budget_type, line_ref
					ORDER BY _arrival DESC, _file_sha256 DESC) = 1`); err != nil {
				return err
			}
			// sofpipe keeps the superseded lines too (spend_versions, flagged; 015 sums
			// them), but only the operational marts (070-090, not built here) read them:
			// the marts this job exports read the current lines alone, so it does not pay
			// for them.
			if err := exec(`CREATE VIEW spend_versions AS SELECT *, true AS current FROM spend_lines`); err != nil {
				return err
			}
		case m.Name < "070":
			if err := exec(m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
		}
	}
	for _, t := range []string{"scale_up_candidates", "lessons_learned"} {
		for _, f := range []struct{ ext, opts string }{{"parquet", "FORMAT parquet, COMPRESSION zstd"}, {"csv", "FORMAT csv, HEADER true"}} {
			if err := exec(fmt.Sprintf("COPY %s TO %s (%s)", t, quote(filepath.Join(out, t+"."+f.ext)), f.opts)); err != nil {
				return err
			}
		}
	}
	if err := exec("CHECKPOINT"); err != nil {
		return err
	}
	var version string
	db.QueryRowContext(ctx, "SELECT version()").Scan(&version)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"rows": rows, "load_seconds": loaded.Seconds(), "seconds": time.Since(start).Seconds(), "duckdb_version": version,
	})
}

// emptyTable makes raw_<dataset> with no rows, for a dataset the inbox has no file of.
func emptyTable(ds *contract.Dataset) string {
	var cols []string
	for _, c := range ds.Columns {
		cols = append(cols, ident(c.Name)+" "+warehouse.DuckType(c.Type))
	}
	cols = append(cols, "_file_sha256 VARCHAR", "_source_line BIGINT", "_batch_id VARCHAR", "_arrival BIGINT")
	return fmt.Sprintf("CREATE TABLE raw_%s (%s)", ds.Name, strings.Join(cols, ", "))
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
