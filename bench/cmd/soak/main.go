// Command soak runs `sofpipe serve` for many scheduled batches and checks that it holds no
// more memory or open files after the last than after the tenth: a daemon that runs for
// months must come back to its resting level after every batch (no DuckDB handle kept, no
// goroutine or file left behind).
//
//	soak -bin bin/sofpipe -batches 300 -every 30 -report bench/results/soak.txt
//
// The schedule fires every second ("* * * * * *"); every -every-th batch a new spend file
// is delivered first, so most batches have nothing new and some build the warehouse. The
// resident set (VmRSS) and open descriptors are read from /proc while the daemon is idle.
// It exits 1 when either grew by more than -tolerance.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/sofpipe", "the sofpipe binary")
	batches := flag.Int("batches", 300, "scheduled batches to run")
	every := flag.Int("every", 30, "deliver a new file before every n-th batch")
	fixtures := flag.String("fixtures", "fixtures/sof/inbox", "inbox to start from")
	dir := flag.String("dir", "build/soak", "workspace parent (emptied first)")
	report := flag.String("report", "bench/results/soak.txt", "report file")
	tolerance := flag.Float64("tolerance", 0.10, "largest allowed growth from the 10th batch to the last")
	flag.Parse()
	if err := run(*bin, *fixtures, *dir, *report, *batches, *every, *tolerance); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type sample struct {
	batches int
	rssKiB  int
	fds     int
}

func run(bin, fixtures, dir, report string, batches, every int, tolerance float64) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	ws := filepath.Join(dir, "ws")
	if err := copyTree(fixtures, filepath.Join(ws, "inbox")); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "sofpipe.json")
	body := fmt.Sprintf(`{"workspace": %q, "serve": {"schedules": ["* * * * * *"], "listen": %q, "log_format": "json"}}`, ws, addr)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	base := "http://" + addr

	start := time.Now()
	var first, last sample
	var series []sample // before each delivery: whether memory levels off or keeps climbing
	delivered := 0
	finished := 0
	for finished < batches {
		time.Sleep(200 * time.Millisecond)
		if time.Since(start) > time.Duration(batches)*5*time.Second {
			return fmt.Errorf("only %d of %d batches after %s", finished, batches, time.Since(start))
		}
		runs, running, err := countRuns(base)
		if err != nil {
			continue // not listening yet
		}
		if running {
			continue // sample only an idle daemon
		}
		if runs == finished {
			continue
		}
		finished = runs
		if finished >= 10 && first.batches == 0 {
			if first, err = measure(pid, finished); err != nil {
				return err
			}
			fmt.Printf("after batch %d: RSS %d KiB, %d open fds\n", first.batches, first.rssKiB, first.fds)
		}
		if finished/every > delivered {
			if s, err := measure(pid, finished); err == nil {
				series = append(series, s)
				fmt.Printf("after batch %d: RSS %d KiB, %d open fds\n", s.batches, s.rssKiB, s.fds)
			}
			delivered++
			if err := deliver(ws, delivered); err != nil {
				return err
			}
		}
	}
	if last, err = measure(pid, finished); err != nil {
		return err
	}
	fmt.Printf("after batch %d: RSS %d KiB, %d open fds\n", last.batches, last.rssKiB, last.fds)
	elapsed := time.Since(start)
	cmd.Process.Signal(syscall.SIGTERM)
	waitErr := cmd.Wait()

	statuses, skipped := summary(base, ws, bin)
	rssGrowth := float64(last.rssKiB-first.rssKiB) / float64(first.rssKiB)
	fdGrowth := float64(last.fds-first.fds) / float64(first.fds)
	ok := rssGrowth <= tolerance && fdGrowth <= tolerance
	var b strings.Builder
	fmt.Fprintf(&b, "soak: sofpipe serve, schedule \"* * * * * *\", %d batches, a new spend file before every %dth\n", finished, every)
	fmt.Fprintf(&b, "machine: %s/%s, %d CPUs; %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "elapsed: %s; files delivered during the soak: %d; daemon exit after SIGTERM: %v\n", elapsed.Round(time.Second), delivered, exitText(waitErr))
	fmt.Fprintf(&b, "batches by status: %s\n", statuses)
	fmt.Fprintf(&b, "scheduled ticks skipped while a batch ran: %s\n", skipped)
	fmt.Fprintf(&b, "\n%-22s %12s %10s\n", "", "RSS (KiB)", "open fds")
	fmt.Fprintf(&b, "%-22s %12d %10d\n", fmt.Sprintf("after batch %d", first.batches), first.rssKiB, first.fds)
	fmt.Fprintf(&b, "%-22s %12d %10d\n", fmt.Sprintf("after batch %d", last.batches), last.rssKiB, last.fds)
	fmt.Fprintf(&b, "%-22s %+11.1f%% %+9.1f%%\n", "change", 100*rssGrowth, 100*fdGrowth)
	fmt.Fprintf(&b, "\nbefore each new file (the level between builds):\n")
	for _, s := range series {
		fmt.Fprintf(&b, "%-22s %12d %10d\n", fmt.Sprintf("after batch %d", s.batches), s.rssKiB, s.fds)
	}
	verdict := "PASS"
	if !ok {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\n%s: both within %.0f%% of their level after batch %d\n", verdict, 100*tolerance, first.batches)
	fmt.Print(b.String())
	if err := os.WriteFile(report, []byte(b.String()), 0o644); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("resident memory or open files grew by more than %.0f%%", 100*tolerance)
	}
	return nil
}

func exitText(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}

// countRuns returns how many batches have finished, and whether one is running.
func countRuns(base string) (int, bool, error) {
	resp, err := http.Get(base + "/runs")
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	var runs []struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&runs); err != nil {
		return 0, false, err
	}
	n, running := 0, false
	for _, r := range runs {
		if r.Status == "running" {
			running = true
		} else {
			n++
		}
	}
	return n, running, nil
}

// measure reads the daemon's resident set and open descriptors from /proc.
func measure(pid, batches int) (sample, error) {
	s := sample{batches: batches}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			s.rssKiB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.fds = len(fds)
	return s, nil
}

// summary counts the batches by status from `sofpipe runs` and reads the skipped ticks
// from the daemon's log (its metrics are gone with it).
func summary(base, ws, bin string) (string, string) {
	out, err := exec.Command(bin, "runs", "--workspace", ws).Output()
	if err != nil {
		return err.Error(), "?"
	}
	counts := map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 1 {
			counts[f[1]]++
		}
	}
	var parts []string
	for _, s := range []string{"published", "unchanged", "checks_failed", "failed", "cancelled", "abandoned"} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, counts[s]))
		}
	}
	log, _ := os.ReadFile(filepath.Join(filepath.Dir(ws), "serve.log"))
	skipped := strings.Count(string(log), `"trigger":"schedule","running"`)
	return strings.Join(parts, ", "), strconv.Itoa(skipped)
}

// deliver puts a new spend file of 500 lines in the inbox (hidden name, then rename).
func deliver(ws string, n int) error {
	var b strings.Builder
	b.WriteString("project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref,supplier,description\n")
	for i := range 500 {
		fmt.Fprintf(&b, "SOF1-013,Cabinet Office,2021-22,%d,RDEL,1000.00,%d.%02d,SOAK%03d-%05d,Soak Supplier Ltd,Soak line %d\n", i%12+1, 900+i%200, i%100, n, i, i)
	}
	dstDir := filepath.Join(ws, "inbox", "spend")
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(dstDir, fmt.Sprintf(".soak-%03d.csv", n))
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dstDir, fmt.Sprintf("soak-%03d.csv", n)))
}

func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
}
