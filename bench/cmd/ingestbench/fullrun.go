package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/bench/spendgen"
)

// fullRun times a whole fresh `sofpipe run` (ingest, lake, ledger, warehouse build, data
// tests, publish, exports, report) against duckjob, the same night's job written with
// DuckDB alone, on the same inbox: the fixtures' register, outcomes, lessons and deflators
// and one generated spend file of each size in -full-rows. (The fixtures' own spend returns
// are left out: they are messy on purpose, and DuckDB's typed read_csv cannot read them.)
// Contenders alternate round by round, each a process of its own; the report gives medians
// and checks that both exported the same scale_up_candidates rows.
func fullRun(w io.Writer, f flags) error {
	projects, err := registerIDs(filepath.Join(f.fixtures, "projects"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "a whole night from a fresh workspace: sofpipe run (validation, rejects, ledger, lineage, lake, warehouse, data tests, exports, report) %s\n", f.sofpipeArg)
	fmt.Fprintf(w, "against duckjob (DuckDB alone: read_csv typed by the contracts into a new DuckDB file, the restatement rule as a QUALIFY, sql/models 010-060, COPY of the two exports)\n")
	fmt.Fprintf(w, "inbox: the fixtures' projects, outcomes, lessons and gdp_deflators and one spend file; %d rounds, contenders alternating\n\n", f.rounds)
	type row struct {
		rows       int64
		size       int64
		sof, duck  measure
		sofW, dckW []string
		check      string
	}
	var table []row
	for _, s := range strings.Split(f.fullRows, ",") {
		rows, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("-full-rows: %w", err)
		}
		big, size, err := spendCSV(f.dir, rows, spendgen.Options{Seed: 2, Projects: projects, FirstLine: 10_000_000}, fmt.Sprintf("spend-register-%d.csv", rows))
		if err != nil {
			return err
		}
		inbox := filepath.Join(f.dir, fmt.Sprintf("fullrun-inbox-%d", rows))
		if err := fullRunInbox(f.fixtures, big, inbox); err != nil {
			return err
		}
		ws := filepath.Join(f.dir, "fullrun-ws")
		duckDir := filepath.Join(f.dir, "fullrun-duckjob")
		var sofRuns, duckRuns []measure
		runSof := func() (measure, error) {
			if err := os.RemoveAll(ws); err != nil {
				return measure{}, err
			}
			// sofpipe takes the files out of its inbox: each round gets links to them.
			if err := linkTree(inbox, filepath.Join(ws, "inbox")); err != nil {
				return measure{}, err
			}
			args := append([]string{"run", "--workspace", ws}, strings.Fields(f.sofpipeArg)...)
			return runMeasured(f.sofpipe, args...)
		}
		runDuck := func() (measure, error) {
			if err := os.RemoveAll(duckDir); err != nil {
				return measure{}, err
			}
			if err := os.MkdirAll(duckDir, 0o755); err != nil {
				return measure{}, err
			}
			return runMeasured(f.duckjob, "-inbox", inbox, "-db", filepath.Join(duckDir, "sof.duckdb"), "-out", filepath.Join(duckDir, "exports"))
		}
		for round := 0; round < f.rounds; round++ {
			order := []string{"sofpipe", "duckjob"}
			if round%2 == 1 {
				order = []string{"duckjob", "sofpipe"}
			}
			for _, name := range order {
				var m measure
				if name == "sofpipe" {
					m, err = runSof()
					sofRuns = append(sofRuns, m)
				} else {
					m, err = runDuck()
					duckRuns = append(duckRuns, m)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%9d rows round %d %-8s wall %7.2fs cpu %7.2fs RSS %5.0f MiB   (rest of machine: %.2f cpu s)\n", rows, round+1, name, m.wall.Seconds(), m.cpu.Seconds(), float64(m.maxRSS)/(1<<20), m.others.Seconds())
			}
		}
		check, err := sameCandidates(filepath.Join(ws, "exports", "scale_up_candidates.parquet"), filepath.Join(duckDir, "exports", "scale_up_candidates.parquet"))
		if err != nil {
			return err
		}
		r := row{rows: rows, size: size, sof: medians(sofRuns), duck: medians(duckRuns), check: check}
		for _, m := range sofRuns {
			r.sofW = append(r.sofW, fmt.Sprintf("%.2f", m.wall.Seconds()))
		}
		for _, m := range duckRuns {
			r.dckW = append(r.dckW, fmt.Sprintf("%.2f", m.wall.Seconds()))
		}
		table = append(table, r)
		os.RemoveAll(ws)
		os.RemoveAll(duckDir)
	}
	fmt.Fprintf(w, "\nmedians of %d rounds ([each round's wall])\n", f.rounds)
	fmt.Fprintf(w, "%10s %8s | %8s %8s %8s %8s | %8s %8s %8s | %6s %6s %6s | %s\n", "rows", "CSV MB", "sof s", "s/M rows", "cpu s", "RSS MiB", "duck s", "cpu s", "RSS MiB", "wall", "cpu", "RSS", "candidates")
	for _, r := range table {
		fmt.Fprintf(w, "%10d %8.0f | %8.2f %8.2f %8.2f %8.0f | %8.2f %8.2f %8.0f | %6.2f %6.2f %6.2f | %s\n", r.rows, float64(r.size)/1e6,
			r.sof.wall.Seconds(), r.sof.wall.Seconds()/(float64(r.rows)/1e6), r.sof.cpu.Seconds(), float64(r.sof.maxRSS)/(1<<20),
			r.duck.wall.Seconds(), r.duck.cpu.Seconds(), float64(r.duck.maxRSS)/(1<<20),
			r.sof.wall.Seconds()/r.duck.wall.Seconds(), r.sof.cpu.Seconds()/r.duck.cpu.Seconds(), float64(r.sof.maxRSS)/float64(r.duck.maxRSS), r.check)
	}
	for _, r := range table {
		fmt.Fprintf(w, "%10d rows: sofpipe [%s], duckjob [%s]\n", r.rows, strings.Join(r.sofW, " "), strings.Join(r.dckW, " "))
	}
	for _, r := range table {
		if !strings.HasPrefix(r.check, "identical") {
			return fmt.Errorf("%d rows: scale_up_candidates differ: %s", r.rows, r.check)
		}
	}
	return nil
}

// fullRunInbox lays out the benchmark's inbox (once): hard links to the fixtures' files of
// every dataset but spend, and to the generated spend file.
func fullRunInbox(fixtures, big, inbox string) error {
	if _, err := os.Stat(filepath.Join(inbox, "spend", "bench-big.csv")); err == nil {
		return nil
	}
	if err := os.RemoveAll(inbox); err != nil {
		return err
	}
	entries, err := os.ReadDir(fixtures)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "spend" {
			continue
		}
		if err := os.CopyFS(filepath.Join(inbox, e.Name()), os.DirFS(filepath.Join(fixtures, e.Name()))); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(inbox, "spend"), 0o755); err != nil {
		return err
	}
	return os.Link(big, filepath.Join(inbox, "spend", "bench-big.csv"))
}

// linkTree recreates the folders of from under to with each file hard-linked.
func linkTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		return os.Link(p, filepath.Join(to, rel))
	})
}

// sameCandidates compares two scale_up_candidates exports row for row, on the columns
// both have.
func sameCandidates(a, b string) (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	ctx := context.Background()
	q := func(p string) string { return "read_parquet('" + strings.ReplaceAll(p, "'", "''") + "')" }
	var na, nb, onlyA, onlyB int64
	err = db.QueryRowContext(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM %[1]s), (SELECT count(*) FROM %[2]s),
		(SELECT count(*) FROM (SELECT * FROM %[1]s EXCEPT ALL SELECT * FROM %[2]s)),
		(SELECT count(*) FROM (SELECT * FROM %[2]s EXCEPT ALL SELECT * FROM %[1]s))`, q(a), q(b))).Scan(&na, &nb, &onlyA, &onlyB)
	if err != nil {
		return "", fmt.Errorf("compare candidates: %w", err)
	}
	if na != nb || onlyA != 0 || onlyB != 0 || na == 0 {
		return fmt.Sprintf("DIFFER (%d against %d rows; %d only in sofpipe's, %d only in duckjob's)", na, nb, onlyA, onlyB), nil
	}
	return fmt.Sprintf("identical (%d rows)", na), nil
}
