package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

func queryCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := newFlagSet("query", stderr)
	var common commonFlags
	common.register(flags)
	format := flags.String("format", "table", "output format: table (for reading: DOUBLE rounded to 12 significant digits), csv or json (every value exact: a DOUBLE as the shortest text that reads back to the same float, a DECIMAL with all its digits; json: one object a row, columns in order)")
	maxWidth := flags.Int("max-width", 80, "table format: cut longer values to this many characters (0: no limit)")
	if code, ok := parseFlags(flags, args); !ok {
		return code
	}
	if flags.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: sofpipe query [flags] 'SELECT …'")
		return ExitUsage
	}
	switch *format {
	case "table", "csv", "json":
	default:
		fmt.Fprintf(stderr, "sofpipe query: -format must be table, csv or json, not %q\n", *format)
		return ExitUsage
	}
	cfg, err := common.load()
	if err != nil {
		return exitCode(stderr, err)
	}
	ws, err := workspace.New(cfg.Workspace)
	if err != nil {
		return exitCode(stderr, err)
	}
	if _, err := os.Stat(ws.WarehouseFile()); errors.Is(err, fs.ErrNotExist) {
		return exitCode(stderr, fmt.Errorf("no published warehouse at %s: run 'sofpipe run' first", ws.WarehouseFile()))
	}
	db, err := warehouse.Open(ws.WarehouseFile(), true)
	if err != nil {
		return exitCode(stderr, err)
	}
	defer db.Close()
	// One connection, locked down before the user's SQL runs: read-only is not enough on
	// its own, since COPY TO, read_csv and ATTACH reach the rest of the file system.
	db.SetMaxOpenConns(1)
	for _, setting := range []string{
		"SET enable_external_access = false",
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
		"SET lock_configuration = true",
	} {
		if _, err := db.ExecContext(ctx, setting); err != nil {
			return exitCode(stderr, fmt.Errorf("query: %s: %w", setting, err))
		}
	}
	if err := writeQuery(ctx, db, flags.Arg(0), *format, *maxWidth, stdout); err != nil {
		return exitCode(stderr, err)
	}
	return ExitOK
}

// writeQuery runs q and writes its rows in format. csv and json stream, a row at a time,
// so a large result is never held in memory; the table needs every row for its widths.
func writeQuery(ctx context.Context, db *sql.DB, q, format string, maxWidth int, stdout io.Writer) error {
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return err
	}
	types, err := rs.ColumnTypes()
	if err != nil {
		return err
	}
	r := &renderer{types: make([]string, len(types)), exact: format != "table"}
	for i, t := range types {
		r.types[i] = t.DatabaseTypeName()
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	cells := make([]cell, len(cols))
	next := func() (bool, error) {
		if !rs.Next() {
			return false, rs.Err()
		}
		if err := rs.Scan(ptrs...); err != nil {
			return false, err
		}
		for i, v := range vals {
			cells[i] = r.render(i, v)
		}
		return true, nil
	}

	out := bufio.NewWriter(stdout)
	switch format {
	case "csv":
		w := csv.NewWriter(out)
		w.Write(cols)
		rec := make([]string, len(cols))
		for {
			ok, err := next()
			if err != nil || !ok {
				w.Flush()
				if err == nil {
					err = w.Error()
				}
				if ferr := out.Flush(); err == nil {
					err = ferr
				}
				return err
			}
			for i, c := range cells {
				rec[i] = c.text // NULL is an empty field, as DuckDB's own CSV writes it
			}
			w.Write(rec)
		}
	case "json":
		// Each object is written in column order by hand: encoding/json would sort a
		// map's keys, and would make every value a string.
		keys := make([]string, len(cols))
		for i, c := range cols {
			keys[i] = jsonString(c) + ":"
		}
		var line strings.Builder
		for {
			ok, err := next()
			if err != nil || !ok {
				if ferr := out.Flush(); err == nil {
					err = ferr
				}
				return err
			}
			line.Reset()
			line.WriteByte('{')
			for i, c := range cells {
				if i > 0 {
					line.WriteByte(',')
				}
				line.WriteString(keys[i])
				line.WriteString(c.json())
			}
			line.WriteString("}\n")
			out.WriteString(line.String())
		}
	}
	var rows [][]string
	for {
		ok, err := next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		row := make([]string, len(cells))
		for i, c := range cells {
			row[i] = c.text
		}
		rows = append(rows, row)
	}
	writeTable(out, cols, rows, maxWidth)
	return out.Flush()
}

func writeTable(w io.Writer, cols []string, rows [][]string, maxWidth int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cut := func(s string) string {
		s = strings.ReplaceAll(s, "\n", " ")
		if maxWidth > 0 && len([]rune(s)) > maxWidth {
			return string([]rune(s)[:maxWidth-1]) + "…"
		}
		return s
	}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		parts := make([]string, len(r))
		for i, v := range r {
			parts[i] = cut(v)
		}
		fmt.Fprintln(tw, strings.Join(parts, "\t"))
	}
	tw.Flush()
	fmt.Fprintf(w, "(%d rows)\n", len(rows))
}
