package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

func queryCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := newFlagSet("query", stderr)
	var common commonFlags
	common.register(flags)
	format := flags.String("format", "table", "output format: table, csv or json")
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
	cols, rows, err := queryRows(ctx, db, flags.Arg(0))
	if err != nil {
		return exitCode(stderr, err)
	}
	switch *format {
	case "csv":
		w := csv.NewWriter(stdout)
		w.Write(cols)
		for _, r := range rows {
			w.Write(r)
		}
		w.Flush()
	case "json":
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			obj := make(map[string]string, len(cols))
			for i, c := range cols {
				obj[c] = r[i]
			}
			enc.Encode(obj)
		}
	default:
		writeTable(stdout, cols, rows, *maxWidth)
	}
	return ExitOK
}

// queryRows runs q and renders every value as text.
func queryRows(ctx context.Context, db *sql.DB, q string) ([]string, [][]string, error) {
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out [][]string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = formatValue(v)
		}
		out = append(out, row)
	}
	return cols, out, rs.Err()
}

func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(v)
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format(time.RFC3339)
	case float64:
		return fmt.Sprintf("%.6g", v)
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
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
