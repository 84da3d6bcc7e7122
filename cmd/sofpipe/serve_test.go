package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// daemon is a `sofpipe serve` subprocess.
type daemon struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	mu     sync.Mutex
	log    bytes.Buffer
	exited chan struct{}
	err    error
}

func (d *daemon) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.Write(p)
}

func (d *daemon) logText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeServeConfig writes a config for a workspace and returns its path.
func writeServeConfig(t *testing.T, ws string, port int, serve string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sofpipe.json")
	body := fmt.Sprintf(`{"workspace": %q, "serve": {"listen": "127.0.0.1:%d", "log_format": "json", %s}}`, ws, port, serve)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startDaemon starts `sofpipe serve` and waits until it answers /healthz.
func startDaemon(t *testing.T, bin, cfg string, port int) *daemon {
	t.Helper()
	d := &daemon{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), exited: make(chan struct{})}
	d.cmd = exec.Command(bin, "serve", "--config", cfg)
	d.cmd.Stdout, d.cmd.Stderr = d, d
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.logText())
		}
	})
	waitFor(t, 15*time.Second, "the daemon answers /healthz", func() bool {
		select {
		case <-d.exited:
			t.Fatalf("the daemon exited at start: %v\n%s", d.err, d.logText())
		default:
		}
		resp, err := http.Get(d.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return d
}

// stop sends SIGTERM and returns the exit code.
func (d *daemon) stop(within time.Duration) int {
	d.t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(within):
		d.t.Fatalf("the daemon did not exit within %s of SIGTERM", within)
	}
	var ee *exec.ExitError
	if errors.As(d.err, &ee) {
		return ee.ExitCode()
	}
	if d.err != nil {
		d.t.Fatal(d.err)
	}
	return 0
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type runJSON struct {
	BatchID      string `json:"batch_id"`
	Status       string `json:"status"`
	FilesNew     int    `json:"files_new"`
	RowsAccepted int64  `json:"rows_accepted"`
	Message      string `json:"message"`
}

func (d *daemon) runs() []runJSON {
	d.t.Helper()
	resp, err := http.Get(d.base + "/runs")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []runJSON
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		d.t.Fatal(err)
	}
	return out
}

func (d *daemon) metrics() map[string]float64 {
	d.t.Helper()
	resp, err := http.Get(d.base + "/metrics")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			d.t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// sum adds the series of a metric whose labels contain every one of with.
func sum(m map[string]float64, name string, with ...string) float64 {
	total := 0.0
	for k, v := range m {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, w := range with {
			ok = ok && strings.Contains(k, w)
		}
		if ok {
			total += v
		}
	}
	return total
}

// spendFile is a small spend return of n new lines for a registered project; tag keeps its
// bytes and line references its own.
func spendFile(tag string, n int) []byte {
	var b strings.Builder
	b.WriteString("project_id,department,financial_year,period,budget_type,planned_gbp,actual_gbp,line_ref,supplier,description\n")
	for i := range n {
		fmt.Fprintf(&b, "SOF1-013,Cabinet Office,2020-21,%d,RDEL,1000.00,%d.%02d,%s-%06d,Test Supplier Ltd,Test line %d\n", i%12+1, 900+i%200, i%100, tag, i, i)
	}
	return []byte(b.String())
}

// deliver writes a file into the inbox as a transfer job should: under a hidden name,
// renamed when complete.
func deliver(t *testing.T, ws, rel string, body []byte) {
	t.Helper()
	dst := filepath.Join(ws, "inbox", filepath.FromSlash(rel))
	tmp := filepath.Join(filepath.Dir(dst), ".upload-"+filepath.Base(dst))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// runsTable parses `sofpipe runs`: per batch, its status and ACCEPTED column.
func runsTable(t *testing.T, bin, ws string) (status map[string]string, accepted map[string]int64, filesNew map[string]int) {
	t.Helper()
	out, err := exec.Command(bin, "runs", "--workspace", ws).Output()
	if err != nil {
		t.Fatalf("sofpipe runs: %v", err)
	}
	status, accepted, filesNew = map[string]string{}, map[string]int64{}, map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Fields(line)
		// BATCH STATUS BUILD STARTED(2 fields) SECONDS FILES-NEW DUPLICATE REJECTED ROWS-READ ACCEPTED …
		status[f[0]] = f[1]
		n, _ := strconv.Atoi(f[6])
		filesNew[f[0]] = n
		a, _ := strconv.ParseInt(f[10], 10, 64)
		accepted[f[0]] = a
	}
	return status, accepted, filesNew
}

// leftovers lists the temporary files a batch makes and must not leave behind.
func leftovers(t *testing.T, ws string) []string {
	t.Helper()
	var found []string
	tmp := regexp.MustCompile(`^\.build-|^\.incoming-|^\.staging-|\.tmp-|\.duckdb\.wal$`)
	filepath.WalkDir(ws, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if tmp.MatchString(d.Name()) {
			found = append(found, p)
		}
		if filepath.Base(filepath.Dir(p)) == "_staging" {
			found = append(found, p)
		}
		return nil
	})
	return found
}

func query(t *testing.T, bin, ws, sql string) string {
	t.Helper()
	out, err := exec.Command(bin, "query", "--workspace", ws, "--format", "csv", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("sofpipe query %q: %v\n%s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestServe drives `sofpipe serve` as an operator would, in two starts on one workspace.
// The first, on a 2-second schedule, takes the fixtures in, answers /runs, /metrics and
// POST /run, and is stopped by SIGTERM in the middle of a batch. The second, with no
// schedule so that nothing but its watch can start a batch (on a 2-second schedule the
// schedule and the watch race for any new file), finishes the work.
func TestServe(t *testing.T) {
	bin := sofpipeBinary(t)
	ws := filepath.Join(t.TempDir(), "ws")
	copyTree(t, filepath.Join("..", "..", "fixtures", "sof", "inbox"), filepath.Join(ws, "inbox"))
	port := freePort(t)
	// shutdown_grace_seconds 0: SIGTERM cancels the running batch at once, the case a
	// grace cannot cover.
	cfg := writeServeConfig(t, ws, port, `"schedules": ["*/2 * * * * *"], "shutdown_grace_seconds": 0, "watch": {"enabled": true, "poll_seconds": 1, "settle_seconds": 1}`)
	d := startDaemon(t, bin, cfg, port)

	// The fixtures are published by the first batch (the catch-up: nothing ran at the last
	// 2-second tick).
	var published runJSON
	waitFor(t, 40*time.Second, "/runs shows a published batch", func() bool {
		for _, r := range d.runs() {
			if r.Status == "published" {
				published = r
				return true
			}
		}
		return false
	})
	if published.FilesNew != 90 {
		t.Errorf("the published batch took %d files, want the fixtures' 90", published.FilesNew)
	}
	if !strings.Contains(d.logText(), `"trigger":"catch-up"`) {
		t.Error("no batch was started as a catch-up")
	}

	// The counters agree with `sofpipe runs`, which reads the ledger the daemon holds.
	// Scheduled batches with nothing new go on meanwhile, so the batch count is bracketed.
	before, _, _ := runsTable(t, bin, ws)
	m := d.metrics()
	after, accepted, filesNew := runsTable(t, bin, ws)
	var wantAccepted int64
	wantFiles := 0
	for id, a := range accepted {
		wantAccepted += a
		wantFiles += filesNew[id]
	}
	if got := sum(m, "sofpipe_rows_total", `outcome="accepted"`); got != float64(wantAccepted) {
		t.Errorf("sofpipe_rows_total{outcome=accepted} = %g, sofpipe runs says %d", got, wantAccepted)
	}
	if got := sum(m, "sofpipe_files_total", `status="ingested"`); got != float64(wantFiles) {
		t.Errorf("sofpipe_files_total{status=ingested} = %g, sofpipe runs says %d", got, wantFiles)
	}
	if got := sum(m, "sofpipe_batches_total", `status="published"`); got != 1 {
		t.Errorf("sofpipe_batches_total{status=published} = %g, want 1", got)
	}
	finished := func(status map[string]string) int {
		n := 0
		for _, s := range status {
			if s != "running" {
				n++
			}
		}
		return n
	}
	if got := sum(m, "sofpipe_batches_total"); got < float64(finished(before)) || got > float64(len(after)) {
		t.Errorf("sofpipe_batches_total = %g, sofpipe runs shows %d finished before the scrape and %d batches after", got, finished(before), len(after))
	}
	for _, name := range []string{"sofpipe_batch_duration_seconds_count", "sofpipe_last_success_timestamp_seconds", "sofpipe_next_run_timestamp_seconds", "go_goroutines", "process_open_fds"} {
		if m[name] <= 0 {
			t.Errorf("%s = %g, want > 0", name, m[name])
		}
	}
	if next := m["sofpipe_next_run_timestamp_seconds"]; next < float64(time.Now().Unix())-1 || next > float64(time.Now().Unix())+3 {
		t.Errorf("sofpipe_next_run_timestamp_seconds = %g, want within 2 s from now", next)
	}

	// A batch run by hand is refused while the daemon holds the workspace, naming it.
	out, err := exec.Command(bin, "run", "--workspace", ws).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitLocked {
		t.Errorf("sofpipe run on the served workspace: %v, want exit %d\n%s", err, ExitLocked, out)
	}
	if pid := strconv.Itoa(d.cmd.Process.Pid); !strings.Contains(string(out), "process "+pid) {
		t.Errorf("sofpipe run's refusal does not name the daemon's pid %s: %s", pid, out)
	}

	// POST /run starts a batch now (202 and its id); a second while it runs gets 409.
	var posted string
	waitFor(t, 10*time.Second, "POST /run is accepted", func() bool {
		resp, err := http.Post(d.base+"/run", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode == http.StatusConflict {
			return false // a scheduled batch is running: try again
		}
		if resp.StatusCode != http.StatusAccepted || body["batch_id"] == "" {
			t.Fatalf("POST /run = %d %v, want 202 with a batch id", resp.StatusCode, body)
		}
		posted = body["batch_id"]
		return true
	})
	waitFor(t, 10*time.Second, "the posted batch is in /runs", func() bool {
		for _, r := range d.runs() {
			if r.BatchID == posted && r.Status != "running" {
				return true
			}
		}
		return false
	})

	// SIGTERM in the middle of a batch: a new file is delivered, and the signal goes as
	// soon as /runs shows the batch that takes it running.
	seen := map[string]bool{}
	for _, r := range d.runs() {
		seen[r.BatchID] = true
	}
	deliver(t, ws, "spend/sigterm-test.csv", spendFile("SIGTERM", 20000))
	var interrupted string
	waitFor(t, 10*time.Second, "a new batch is running", func() bool {
		for _, r := range d.runs() {
			if !seen[r.BatchID] && r.Status == "running" {
				interrupted = r.BatchID
				return true
			}
		}
		return false
	})
	if code := d.stop(20 * time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
	status, _, _ := runsTable(t, bin, ws)
	t.Logf("the batch interrupted by SIGTERM ended %s", status[interrupted])
	if s := status[interrupted]; s != "cancelled" && s != "published" {
		t.Errorf("the interrupted batch %s ended %q, want cancelled (or published, had it finished first)", interrupted, s)
	}
	if got := query(t, bin, ws, "SELECT count(*) FROM _checks WHERE severity = 'error' AND status <> 'pass'"); got != "count_star()\n0" {
		t.Errorf("the published warehouse fails data tests: %s", got)
	}
	if l := leftovers(t, ws); len(l) > 0 {
		t.Errorf("temporary files left after SIGTERM: %v", l)
	}

	// The next start finishes the work: its watch takes a new delivery, and the batch
	// publishes it with whatever the interrupted batch left undone.
	cfg2 := writeServeConfig(t, ws, port, `"schedules": [], "watch": {"enabled": true, "poll_seconds": 1, "settle_seconds": 1}`)
	d2 := startDaemon(t, bin, cfg2, port)
	deliver(t, ws, "spend/watch-test.csv", spendFile("WATCH", 50))
	waitFor(t, 20*time.Second, "the watch publishes the new file", func() bool {
		rs := d2.runs()
		return len(rs) > 0 && rs[0].Status == "published" && strings.Contains(d2.logText(), `"trigger":"watch"`)
	})
	if code := d2.stop(20 * time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
	got := query(t, bin, ws, "SELECT count(*) FROM _files WHERE source_path IN ('spend/sigterm-test.csv', 'spend/watch-test.csv') AND status = 'ingested'")
	if got != "count_star()\n2" {
		t.Errorf("after the second start the warehouse holds %s of the two delivered files, want both", got)
	}
	if got := query(t, bin, ws, "SELECT count(*) FROM spend_lines WHERE line_ref LIKE 'SIGTERM-%' OR line_ref LIKE 'WATCH-%'"); got != "count_star()\n20050" {
		t.Errorf("spend_lines holds %s of the two files' 20050 lines", got)
	}
	if got := query(t, bin, ws, "SELECT count(*) FROM _checks WHERE severity = 'error' AND status <> 'pass'"); got != "count_star()\n0" {
		t.Errorf("the published warehouse fails data tests: %s", got)
	}
	if l := leftovers(t, ws); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestServedWorkspaceRefusesRun: `sofpipe run` on a workspace a daemon holds exits 4 and
// names the daemon's pid; the read-only commands keep working.
func TestServedWorkspaceRefusesRun(t *testing.T) {
	bin := sofpipeBinary(t)
	ws := filepath.Join(t.TempDir(), "ws")
	port := freePort(t)
	cfg := writeServeConfig(t, ws, port, `"schedules": [], "catch_up": false`)
	d := startDaemon(t, bin, cfg, port)
	cmd := exec.Command(bin, "run", "--workspace", ws)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitLocked {
		t.Fatalf("sofpipe run = %v, want exit %d", err, ExitLocked)
	}
	if pid := strconv.Itoa(d.cmd.Process.Pid); !strings.Contains(stderr.String(), "process "+pid) {
		t.Errorf("message %q does not name the daemon's pid %s", stderr.String(), pid)
	}
	if out, err := exec.Command(bin, "runs", "--workspace", ws).CombinedOutput(); err != nil {
		t.Errorf("sofpipe runs on the served workspace: %v\n%s", err, out)
	}
	if code := d.stop(10 * time.Second); code != 0 {
		t.Errorf("serve exited %d, want 0", code)
	}
}
