// Package bench holds sofpipe's benchmarks that need a whole workspace: the warehouse build
// over millions of spend rows, and an analyst's query of the published file. They run only
// with -bench (make bench); plain go test runs nothing here, because all setup happens
// inside the Benchmark functions.
//
// SOFPIPE_BENCH_ROWS sets the spend rows (default 1,000,000).
package bench

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/evaluation-taskforce/sofpipe/bench/spendgen"
	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
)

func benchRows(b *testing.B) int64 {
	if s := os.Getenv("SOFPIPE_BENCH_ROWS"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("SOFPIPE_BENCH_ROWS: %v", err)
		}
		return n
	}
	return 1_000_000
}

// workspace returns a workspace holding the bundled fixtures and rows generated spend
// lines for the register's projects, after one batch has ingested and published them.
func workspace(b *testing.B, rows int64) config.Config {
	b.Helper()
	ws := b.TempDir()
	inbox := filepath.Join(ws, "inbox")
	if err := os.CopyFS(inbox, os.DirFS("../fixtures/sof/inbox")); err != nil {
		b.Fatal(err)
	}
	projects, err := registerIDs("../fixtures/sof/inbox/projects")
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(filepath.Join(inbox, "spend", "bench.csv"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := spendgen.Write(f, rows, spendgen.Options{Seed: 2, Projects: projects, FirstLine: 10_000_000}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	cfg := config.DefaultConfig()
	cfg.Workspace = ws
	if _, err := batch.Run(context.Background(), cfg, batch.Options{Version: "bench"}); err != nil {
		b.Fatalf("first batch: %v", err)
	}
	return cfg
}

func registerIDs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		for i, line := range strings.Split(string(data), "\n") {
			if id, _, _ := strings.Cut(line, ","); i > 0 && id != "" {
				ids = append(ids, strings.TrimSpace(id))
			}
		}
	}
	return ids, nil
}

// BenchmarkWarehouseBuild times what a nightly run does after ingest when anything changed:
// a new DuckDB file built from the lake's Parquet, every model and data test, the atomic
// publish and the exports.
func BenchmarkWarehouseBuild(b *testing.B) {
	rows := benchRows(b)
	cfg := workspace(b, rows)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := batch.Run(ctx, cfg, batch.Options{Version: "bench", ForceBuild: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "spend_rows/s")
}

// BenchmarkScaleUpQuery times an analyst's query of the published warehouse: open it
// read-only (as the DuckDB CLI or Python would, beside a running batch) and read the
// scale_up_candidates mart, ranked.
func BenchmarkScaleUpQuery(b *testing.B) {
	cfg := workspace(b, benchRows(b))
	dsn := filepath.Join(cfg.Workspace, "warehouse", "sof.duckdb") + "?access_mode=read_only"
	query := func(db *sql.DB) int {
		rs, err := db.Query(`SELECT project_id, band, score, bcr, evidence_sms, reasons
			FROM scale_up_candidates ORDER BY score DESC`)
		if err != nil {
			b.Fatal(err)
		}
		defer rs.Close()
		n := 0
		for rs.Next() {
			var id, band, reasons sql.NullString
			var score, bcr sql.NullFloat64
			var sms sql.NullInt64
			if err := rs.Scan(&id, &band, &score, &bcr, &sms, &reasons); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rs.Err(); err != nil {
			b.Fatal(err)
		}
		return n
	}
	b.Run("open+query", func(b *testing.B) {
		for b.Loop() {
			db, err := sql.Open("duckdb", dsn)
			if err != nil {
				b.Fatal(err)
			}
			if n := query(db); n == 0 {
				b.Fatal("scale_up_candidates is empty")
			}
			db.Close()
		}
	})
	b.Run("query", func(b *testing.B) {
		db, err := sql.Open("duckdb", dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		n := 0
		for b.Loop() {
			n = query(db)
		}
		b.ReportMetric(float64(n), "projects")
	})
}
