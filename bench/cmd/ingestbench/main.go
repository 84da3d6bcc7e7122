// Command ingestbench measures sofpipe's ingest against DuckDB's own CSV reader, checks the
// ingest's memory stays flat as files grow, and times nightly runs with nothing new and
// with one small new file.
//
// Every contender runs as its own subprocess, so the wall time, CPU time and peak RSS
// (getrusage of the child, as /usr/bin/time -v reports them) are its own. Contenders
// alternate over the rounds and the report gives medians.
//
//	ingestbench -mode compare     -rows 5000000 -rounds 3   sofpipe ingest vs duckcopy
//	ingestbench -mode rss         -rss-rows 1000000,5000000,20000000
//	ingestbench -mode incremental -rows 5000000            nightly runs on a 5M-row workspace
//	ingestbench -mode fullrun     -full-rows 1000000,5000000,20000000 -rounds 3
//	                                                       a whole sofpipe run vs duckjob
//
// Generated data goes under -dir, never into the source tree.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/evaluation-taskforce/sofpipe/bench/spendgen"
)

type flags struct {
	mode       string
	rows       int64
	rounds     int
	dir        string
	sofpipe    string
	duckcopy   string
	report     string
	rssRows    string
	fixtures   string
	newRows    int64
	nights     int
	sofpipeArg string
	duckjob    string
	fullRows   string
}

func main() {
	var f flags
	flag.StringVar(&f.mode, "mode", "compare", "compare, rss, incremental, fullrun or machine")
	flag.Int64Var(&f.rows, "rows", 5_000_000, "rows of the spend CSV")
	flag.IntVar(&f.rounds, "rounds", 3, "rounds per contender (medians are reported)")
	flag.StringVar(&f.dir, "dir", filepath.Join(os.TempDir(), "sofpipe-bench"), "folder for generated CSVs and outputs")
	flag.StringVar(&f.sofpipe, "sofpipe", "bin/sofpipe", "sofpipe binary")
	flag.StringVar(&f.duckcopy, "duckcopy", "bin/duckcopy", "duckcopy binary")
	flag.StringVar(&f.report, "report", "", "also write the report to this file")
	flag.StringVar(&f.rssRows, "rss-rows", "1000000,5000000,20000000", "row counts for -mode rss")
	flag.StringVar(&f.fixtures, "fixtures", "fixtures/sof/inbox", "inbox of the register and other datasets for -mode incremental")
	flag.Int64Var(&f.newRows, "new-rows", 2_000, "rows of the new file in -mode incremental")
	flag.IntVar(&f.nights, "nights", 5, "one-file nights in -mode incremental (the median is reported)")
	flag.StringVar(&f.sofpipeArg, "sofpipe-args", "", "extra arguments for sofpipe ingest, space separated")
	flag.StringVar(&f.duckjob, "duckjob", "bin/duckjob", "duckjob binary (-mode fullrun)")
	flag.StringVar(&f.fullRows, "full-rows", "1000000,5000000,20000000", "spend rows for -mode fullrun")
	flag.Parse()
	if err := run(f); err != nil {
		fmt.Fprintln(os.Stderr, "ingestbench:", err)
		os.Exit(1)
	}
}

func run(f flags) error {
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	var out bytes.Buffer
	w := io.MultiWriter(os.Stdout, &out)
	fmt.Fprintln(w, machine())
	var err error
	switch f.mode {
	case "compare":
		err = compare(w, f)
	case "rss":
		err = rss(w, f)
	case "incremental":
		err = incremental(w, f)
	case "fullrun":
		err = fullRun(w, f)
	case "machine": // the machine line alone, to head other reports
	default:
		err = fmt.Errorf("unknown -mode %q", f.mode)
	}
	if err != nil {
		return err
	}
	if f.report != "" {
		if err := os.MkdirAll(filepath.Dir(f.report), 0o755); err != nil {
			return err
		}
		return os.WriteFile(f.report, out.Bytes(), 0o644)
	}
	return nil
}

// measure is one subprocess run.
type measure struct {
	wall, cpu time.Duration
	maxRSS    int64 // bytes
	stdout    []byte
	// others is the CPU time the rest of the machine used during the run: on a shared
	// machine a run that competed for the cores says so.
	others time.Duration
}

// busyCPU returns the machine's busy CPU time so far, from /proc/stat.
func busyCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100
}

// waitQuiet waits (up to a minute) until the rest of the machine uses less than a tenth
// of a core, so that runs on a shared machine are not timed against someone's build.
func waitQuiet() {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		before := busyCPU()
		time.Sleep(time.Second)
		if busyCPU()-before < 100*time.Millisecond {
			return
		}
	}
	fmt.Fprintln(os.Stderr, "the machine is busy; measuring anyway (see the others column)")
}

func runMeasured(name string, args ...string) (measure, error) {
	waitQuiet()
	busy := busyCPU()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m := measure{wall: time.Since(start), stdout: stdout.Bytes()}
	if ps := cmd.ProcessState; ps != nil {
		m.cpu = ps.UserTime() + ps.SystemTime()
		m.others = max(0, busyCPU()-busy-m.cpu)
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			m.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w\n%s%s", name, strings.Join(args, " "), err, stdout.Bytes(), tail(stderr.Bytes()))
	}
	return m, nil
}

func tail(b []byte) []byte {
	if len(b) > 4000 {
		return b[len(b)-4000:]
	}
	return b
}

// spendCSV generates (once) the benchmark file of rows rows and returns its path and size.
func spendCSV(dir string, rows int64, opt spendgen.Options, name string) (string, int64, error) {
	p := filepath.Join(dir, name)
	if st, err := os.Stat(p + ".done"); err == nil && st.Size() > 0 {
		b, _ := os.ReadFile(p + ".done")
		n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return p, n, nil
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "generating %s (%d rows)…\n", p, rows)
	fh, err := os.Create(p)
	if err != nil {
		return "", 0, err
	}
	n, err := spendgen.Write(fh, rows, opt)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	fmt.Fprintf(os.Stderr, "generated %.0f MB in %.1fs\n", float64(n)/1e6, time.Since(start).Seconds())
	return p, n, os.WriteFile(p+".done", []byte(strconv.FormatInt(n, 10)), 0o644)
}

// sofpipeResult is the part of `sofpipe ingest`'s JSON summary the benchmark checks.
type sofpipeResult struct {
	Status       string `json:"status"`
	RowsRead     int64  `json:"rows_read"`
	RowsAccepted int64  `json:"rows_accepted"`
	RowsRejected int64  `json:"rows_rejected"`
}

type contender struct {
	name string
	run  func() (measure, error)
	// glob of the Parquet it wrote, for the checks.
	glob   string
	outDir string
	runs   []measure
}

func compare(w io.Writer, f flags) error {
	csv, size, err := spendCSV(f.dir, f.rows, spendgen.Options{Seed: 1}, fmt.Sprintf("spend-%d.csv", f.rows))
	if err != nil {
		return err
	}
	sofOut := filepath.Join(f.dir, "out-sofpipe")
	duckOut := filepath.Join(f.dir, "out-duckdb")
	sof := &contender{name: "sofpipe", outDir: sofOut, glob: filepath.Join(sofOut, "spend", "**", "*.parquet")}
	sof.run = func() (measure, error) {
		args := append([]string{"ingest", "-dataset", "spend", "-out", sofOut}, strings.Fields(f.sofpipeArg)...)
		m, err := runMeasured(f.sofpipe, append(args, csv)...)
		if err != nil {
			return m, err
		}
		var r sofpipeResult
		if err := json.Unmarshal(m.stdout, &r); err != nil {
			return m, fmt.Errorf("sofpipe summary: %w", err)
		}
		if r.Status != "ingested" || r.RowsRejected != 0 || r.RowsRead != f.rows {
			return m, fmt.Errorf("sofpipe: %s", m.stdout)
		}
		return m, nil
	}
	duck := &contender{name: "duckdb", outDir: duckOut, glob: filepath.Join(duckOut, "spend.parquet")}
	duck.run = func() (measure, error) {
		return runMeasured(f.duckcopy, "-in", csv, "-out", filepath.Join(duckOut, "spend.parquet"))
	}
	fmt.Fprintf(w, "input: %s, %d rows, %.1f MB\n", filepath.Base(csv), f.rows, float64(size)/1e6)
	fmt.Fprintf(w, "sofpipe: sofpipe ingest -dataset spend (full validation, rejects, lineage; Hive-partitioned zstd Parquet) %s\n", f.sofpipeArg)
	fmt.Fprintf(w, "duckdb:  COPY (SELECT * FROM read_csv(..., columns = {DECIMAL(18,2) money, DATE, INTEGER, VARCHAR})) TO ... (FORMAT parquet, COMPRESSION zstd)\n\n")

	for round := 0; round < f.rounds; round++ {
		order := []*contender{sof, duck}
		if round%2 == 1 {
			order = []*contender{duck, sof}
		}
		for _, c := range order {
			if err := os.RemoveAll(c.outDir); err != nil {
				return err
			}
			if err := os.MkdirAll(c.outDir, 0o755); err != nil {
				return err
			}
			m, err := c.run()
			if err != nil {
				return err
			}
			c.runs = append(c.runs, m)
			fmt.Fprintf(w, "round %d %-8s wall %6.2fs cpu %6.2fs RSS %5.0f MiB   (rest of machine: %.2f cpu s)\n", round+1, c.name, m.wall.Seconds(), m.cpu.Seconds(), float64(m.maxRSS)/(1<<20), m.others.Seconds())
		}
	}

	fmt.Fprintf(w, "\n%-8s %8s %8s %12s %8s %9s %10s   (median of %d rounds; [each round's wall])\n", "", "wall s", "cpu s", "rows/s", "MB/s", "RSS MiB", "out MB", f.rounds)
	med := map[string]measure{}
	for _, c := range []*contender{sof, duck} {
		m := medians(c.runs)
		med[c.name] = m
		outSize, err := dirSize(c.outDir)
		if err != nil {
			return err
		}
		var walls []string
		for _, r := range c.runs {
			walls = append(walls, fmt.Sprintf("%.2f", r.wall.Seconds()))
		}
		fmt.Fprintf(w, "%-8s %8.2f %8.2f %12.0f %8.1f %9.0f %10.1f   [%s]\n", c.name, m.wall.Seconds(), m.cpu.Seconds(),
			float64(f.rows)/m.wall.Seconds(), float64(size)/1e6/m.wall.Seconds(), float64(m.maxRSS)/(1<<20), float64(outSize)/1e6, strings.Join(walls, " "))
	}
	s, d := med["sofpipe"], med["duckdb"]
	fmt.Fprintf(w, "ratio sofpipe/duckdb: wall %.2f, cpu %.2f, peak RSS %.2f\n\n", s.wall.Seconds()/d.wall.Seconds(), s.cpu.Seconds()/d.cpu.Seconds(), float64(s.maxRSS)/float64(d.maxRSS))

	// Both outputs must hold the same rows and the same money, to the penny.
	sums := map[string]string{}
	for _, c := range []*contender{sof, duck} {
		v, err := parquetSums(c.glob)
		if err != nil {
			return fmt.Errorf("%s output: %w", c.name, err)
		}
		sums[c.name] = v
		fmt.Fprintf(w, "check %-8s %s\n", c.name, v)
	}
	if sums["sofpipe"] != sums["duckdb"] {
		fmt.Fprintln(w, "check: MISMATCH")
		return errors.New("row counts or money sums differ")
	}
	fmt.Fprintln(w, "check: identical row counts and money sums")
	return nil
}

func rss(w io.Writer, f flags) error {
	fmt.Fprintf(w, "peak RSS of sofpipe ingest as the file grows (one run each) %s\n", f.sofpipeArg)
	fmt.Fprintf(w, "%12s %10s %8s %8s %12s %9s %8s\n", "rows", "CSV MB", "wall s", "cpu s", "rows/s", "RSS MiB", "others")
	for _, s := range strings.Split(f.rssRows, ",") {
		rows, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("-rss-rows: %w", err)
		}
		csv, size, err := spendCSV(f.dir, rows, spendgen.Options{Seed: 1}, fmt.Sprintf("spend-%d.csv", rows))
		if err != nil {
			return err
		}
		out := filepath.Join(f.dir, "out-rss")
		os.RemoveAll(out)
		args := append([]string{"ingest", "-dataset", "spend", "-out", out}, strings.Fields(f.sofpipeArg)...)
		m, err := runMeasured(f.sofpipe, append(args, csv)...)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%12d %10.1f %8.2f %8.2f %12.0f %9.0f %8.2f\n", rows, float64(size)/1e6, m.wall.Seconds(), m.cpu.Seconds(), float64(rows)/m.wall.Seconds(), float64(m.maxRSS)/(1<<20), m.others.Seconds())
		os.RemoveAll(out)
	}
	return nil
}

// incremental times the nightly batch on a workspace holding the fixtures' register and a
// large spend file: the first run, a run with nothing new, and a run with one small file.
func incremental(w io.Writer, f flags) error {
	ws := filepath.Join(f.dir, "ws-incremental")
	if err := os.RemoveAll(ws); err != nil {
		return err
	}
	inbox := filepath.Join(ws, "inbox")
	if err := os.CopyFS(inbox, os.DirFS(f.fixtures)); err != nil {
		return fmt.Errorf("copy fixtures: %w", err)
	}
	projects, err := registerIDs(filepath.Join(f.fixtures, "projects"))
	if err != nil {
		return err
	}
	big, size, err := spendCSV(f.dir, f.rows, spendgen.Options{Seed: 2, Projects: projects, FirstLine: 10_000_000}, fmt.Sprintf("spend-register-%d.csv", f.rows))
	if err != nil {
		return err
	}
	if err := os.Link(big, filepath.Join(inbox, "spend", "bench-big.csv")); err != nil {
		return err
	}
	fmt.Fprintf(w, "nightly runs (sofpipe run) on a workspace with the fixtures' register and %d bench spend rows (%.0f MB)\n", f.rows, float64(size)/1e6)
	fmt.Fprintf(w, "%-44s %8s %8s %9s %8s  %s\n", "run", "wall s", "cpu s", "RSS MiB", "others", "last run record")
	// Each run starts with the disk as quiet as the CPU (waitQuiet): the file system's
	// writes from the run before, the first night's gigabyte above all, are flushed, as
	// they are by the time a real night comes a day later.
	step := func(label string) (measure, error) {
		syscall.Sync()
		m, err := runMeasured(f.sofpipe, "run", "--workspace", ws)
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				return m, err
			}
		}
		status := runStatus(ws)
		fmt.Fprintf(w, "%-44s %8.2f %8.2f %9.0f %8.2f  %s\n", label, m.wall.Seconds(), m.cpu.Seconds(), float64(m.maxRSS)/(1<<20), m.others.Seconds(), status)
		return m, nil
	}
	sofpipeBin = f.sofpipe
	if _, err := step(fmt.Sprintf("first run: fixtures + %d rows", f.rows)); err != nil {
		return err
	}
	var nothing, oneFile []measure
	m, err := step("nothing new")
	if err != nil {
		return err
	}
	nothing = append(nothing, m)
	// Several nights, each with a new file of its own (new line references; its lines
	// without one restate the months they fall in), so that one slow night is seen as
	// such. The sixth incremental build in a row would be a full one (maxBuildsSinceFull).
	for night := 1; night <= f.nights; night++ {
		small := filepath.Join(inbox, "spend", fmt.Sprintf("bench-new-%d.csv", night))
		fh, err := os.Create(small)
		if err != nil {
			return err
		}
		if _, err := spendgen.Write(fh, f.newRows, spendgen.Options{Seed: uint64(2 + night), Projects: projects, FirstLine: int64(90_000_000 + night*100_000)}); err != nil {
			fh.Close()
			return err
		}
		if err := fh.Close(); err != nil {
			return err
		}
		m, err := step(fmt.Sprintf("night %d: one new file of %d rows", night, f.newRows))
		if err != nil {
			return err
		}
		oneFile = append(oneFile, m)
		if m, err = step("nothing new"); err != nil {
			return err
		}
		nothing = append(nothing, m)
	}
	summary := func(label string, ms []measure) {
		walls := make([]string, len(ms))
		for i, m := range ms {
			walls[i] = fmt.Sprintf("%.2f", m.wall.Seconds())
		}
		med := medians(ms)
		fmt.Fprintf(w, "%-30s median wall %5.2f s, cpu %5.2f s, peak RSS %4.0f MiB  (walls %s)\n", label, med.wall.Seconds(), med.cpu.Seconds(), float64(med.maxRSS)/(1<<20), strings.Join(walls, " "))
	}
	fmt.Fprintln(w)
	summary(fmt.Sprintf("one new file of %d rows:", f.newRows), oneFile)
	summary("nothing new:", nothing)
	return nil
}

var sofpipeBin = "bin/sofpipe"

// runStatus reads the last run's status from the run records sofpipe keeps.
func runStatus(ws string) string {
	out, err := exec.Command(sofpipeBin, "runs", "--workspace", ws).Output()
	if err != nil {
		return "?"
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(strings.Fields(lines[len(lines)-1]), " ")
}

func registerIDs(dir string) ([]string, error) {
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if i == 0 || line == "" {
				continue
			}
			seen[strings.TrimSpace(strings.SplitN(line, ",", 2)[0])] = true
		}
		return nil
	})
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, err
}

func medians(ms []measure) measure {
	pick := func(get func(measure) int64) int64 {
		xs := make([]int64, len(ms))
		for i, m := range ms {
			xs[i] = get(m)
		}
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	return measure{
		wall:   time.Duration(pick(func(m measure) int64 { return int64(m.wall) })),
		cpu:    time.Duration(pick(func(m measure) int64 { return int64(m.cpu) })),
		maxRSS: pick(func(m measure) int64 { return m.maxRSS }),
	}
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}

// parquetSums has DuckDB read an output and return its row count and money sums.
func parquetSums(glob string) (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var rows int64
	var actual, planned string
	q := fmt.Sprintf(`SELECT count(*), sum(actual_gbp)::VARCHAR, sum(planned_gbp)::VARCHAR, typeof(any_value(actual_gbp))
		FROM read_parquet('%s')`, strings.ReplaceAll(glob, "'", "''"))
	var typ string
	if err := db.QueryRowContext(context.Background(), q).Scan(&rows, &actual, &planned, &typ); err != nil {
		return "", err
	}
	return fmt.Sprintf("rows %d, sum(actual_gbp) %s, sum(planned_gbp) %s, type %s", rows, actual, planned, typ), nil
}

// machine describes where the numbers came from.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	duck := "?"
	if db, err := sql.Open("duckdb", ""); err == nil {
		db.QueryRow("SELECT version()").Scan(&duck)
		db.Close()
	}
	rev := "?"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		rev = strings.TrimSpace(string(out))
		// Changes to the reports themselves (make bench writes one after another) do not
		// make the code that produced them dirty.
		changed, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results").Output()
		if err == nil && len(changed) > 0 {
			rev += "-dirty"
		}
	}
	return fmt.Sprintf("machine: %s, %d cores, %s RAM, %s/%s; %s; DuckDB %s; sofpipe %s; %s",
		cpu, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version(), duck, rev, time.Now().UTC().Format("2006-01-02 15:04 MST"))
}
