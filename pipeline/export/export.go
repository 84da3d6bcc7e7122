// Package export writes the summary files downstream users take: the marts as Parquet, with
// CSV twins for spreadsheet users, read from the published warehouse file. Files appear by
// rename only, so a reader never sees half a file.
package export

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
)

// Options choose what is exported.
type Options struct {
	// SuppressBelow drops lessons_learned rows describing fewer projects than this (0: off).
	SuppressBelow int
}

// Table is one exported mart and the query that selects its rows.
type Table struct {
	Name  string
	Query string
}

// Tables returns the marts to export under the options.
func Tables(opt Options) []Table {
	lessons := "SELECT * FROM lessons_learned"
	if opt.SuppressBelow > 0 {
		lessons = fmt.Sprintf("SELECT * FROM lessons_learned WHERE coalesce(projects, projects_reporting) >= %d", opt.SuppressBelow)
	}
	return []Table{
		{Name: "scale_up_candidates", Query: "SELECT * FROM scale_up_candidates"},
		{Name: "lessons_learned", Query: lessons},
	}
}

// formats are the files each table is exported as, with DuckDB's COPY options for each.
var formats = []struct{ ext, options string }{
	{"parquet", "FORMAT parquet, COMPRESSION zstd"},
	{"csv", "FORMAT csv, HEADER true"},
}

// Paths returns the files Run writes into dir, in the order it writes them.
func Paths(dir string, opt Options) []string {
	var out []string
	for _, t := range Tables(opt) {
		for _, f := range formats {
			out = append(out, filepath.Join(dir, t.Name+"."+f.ext))
		}
	}
	return out
}

// Run writes every table of Tables(opt) from the warehouse file into dir as .parquet and
// .csv, and returns the paths written.
func Run(ctx context.Context, warehousePath, dir string, opt Options) ([]string, error) {
	db, err := warehouse.Open(warehousePath, true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return Write(ctx, db, dir, opt)
}

// Write is Run for a warehouse already open in db (a batch's build, once finished).
func Write(ctx context.Context, db *sql.DB, dir string, opt Options) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var written []string
	for _, t := range Tables(opt) {
		for _, format := range formats {
			final := filepath.Join(dir, t.Name+"."+format.ext)
			tmp := filepath.Join(dir, "."+t.Name+".tmp."+format.ext)
			q := fmt.Sprintf("COPY (%s) TO '%s' (%s)", t.Query, strings.ReplaceAll(tmp, "'", "''"), format.options)
			if _, err := db.ExecContext(ctx, q); err != nil {
				os.Remove(tmp)
				return written, fmt.Errorf("export: %s.%s: %w", t.Name, format.ext, err)
			}
			if format.ext == "csv" {
				if err := prependBOM(tmp); err != nil {
					os.Remove(tmp)
					return written, fmt.Errorf("export: %s.csv: %w", t.Name, err)
				}
			}
			if err := fsutil.SyncFile(tmp); err != nil {
				os.Remove(tmp)
				return written, fmt.Errorf("export: %w", err)
			}
			if err := fsutil.RenameDurable(tmp, final); err != nil {
				os.Remove(tmp)
				return written, fmt.Errorf("export: %w", err)
			}
			written = append(written, final)
		}
	}
	return written, nil
}

// utf8BOM starts the CSV twins: without it Excel, the spreadsheet most of their users open
// them in, reads UTF-8 as Windows-1252 and shows "≥" in reasons and "£" as mojibake.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// prependBOM rewrites a (small) CSV export with a byte order mark in front.
func prependBOM(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(append([]byte{}, utf8BOM...), b...), 0o644)
}
