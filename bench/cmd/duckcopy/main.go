// Command duckcopy is the DuckDB side of the ingest benchmark: what a user's cron job would
// run instead of sofpipe. It converts one spend CSV to zstd Parquet with DuckDB's own CSV
// reader and explicit column types, and prints the rows written as JSON.
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
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// SpendColumns are the types DuckDB is told, matching sofpipe's lake types.
const SpendColumns = `{'project_id': 'VARCHAR', 'department': 'VARCHAR', 'financial_year': 'VARCHAR',
	'period': 'INTEGER', 'payment_date': 'DATE', 'budget_type': 'VARCHAR',
	'planned_gbp': 'DECIMAL(18,2)', 'actual_gbp': 'DECIMAL(18,2)', 'line_ref': 'VARCHAR',
	'supplier': 'VARCHAR', 'description': 'VARCHAR'}`

func main() {
	in := flag.String("in", "", "CSV file to read")
	out := flag.String("out", "", "Parquet file to write")
	threads := flag.Int("threads", 0, "DuckDB threads (0: DuckDB's default, one per core)")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: duckcopy -in FILE.csv -out FILE.parquet")
		os.Exit(2)
	}
	if err := run(*in, *out, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "duckcopy:", err)
		os.Exit(1)
	}
}

func run(in, out string, threads int) error {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if threads > 0 {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", threads)); err != nil {
			return err
		}
	}
	start := time.Now()
	q := fmt.Sprintf(`COPY (SELECT * FROM read_csv(%s, header = true, delim = ',', quote = '"', escape = '"', columns = %s))
		TO %s (FORMAT parquet, COMPRESSION zstd)`, quote(in), SpendColumns, quote(out))
	res, err := db.ExecContext(ctx, q)
	if err != nil {
		return err
	}
	rows, _ := res.RowsAffected()
	var version string
	db.QueryRowContext(ctx, "SELECT version()").Scan(&version)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"rows": rows, "seconds": time.Since(start).Seconds(), "duckdb_version": version,
	})
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
