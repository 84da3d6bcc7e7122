package serve

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// TestPanickingBatchIsRecordedAndSurvived: a batch that panics (a bug) is recorded as
// failed, the daemon keeps serving, /readyz says why it is not ready, and the next batch
// runs as after any failure.
func TestPanickingBatchIsRecordedAndSurvived(t *testing.T) {
	cfg := config.DefaultConfig()
	cfg.Workspace = t.TempDir()
	cfg.Serve.Schedules = nil
	cfg.Serve.CatchUp = false
	cfg.Serve.Listen = "127.0.0.1:0"
	ws, _ := workspace.New(cfg.Workspace)
	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	batchRun = func(ctx context.Context, cfg config.Config, opt batch.Options) (batch.Outcome, error) {
		opt.OnStart("20261130T020000Z")
		if err := led.SaveRun(ledger.Run{BatchID: "20261130T020000Z", StartedAt: time.Now().UTC(), Status: batch.StatusRunning}); err != nil {
			t.Error(err)
		}
		var m map[string]int
		m["boom"]++ // a nil map: the kind of bug a panic is
		return batch.Outcome{}, nil
	}
	defer func() { batchRun = nil }()

	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Version: "test", Executable: "/bin/false", Listening: func(a net.Addr) { addr <- a }})
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not listen")
	}
	post := func() int {
		res, err := http.Post(base+"/run", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(); code != http.StatusAccepted {
		t.Fatalf("POST /run: %d", code)
	}
	var runs []ledger.Run
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := http.Get(base + "/runs")
		if err != nil {
			t.Fatal(err)
		}
		runs = nil
		json.NewDecoder(res.Body).Decode(&runs)
		res.Body.Close()
		if len(runs) == 1 && runs[0].Status != batch.StatusRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs %+v", runs)
		}
	}
	if runs[0].Status != batch.StatusFailed || !strings.Contains(runs[0].Message, "panicked") {
		t.Errorf("the panicked batch: %s %q, want failed, saying it panicked", runs[0].Status, runs[0].Message)
	}
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz after a failed batch: %d, want 503", res.StatusCode)
	}
	// The next batch is a real one, on an empty inbox.
	batchRun = func(ctx context.Context, cfg config.Config, opt batch.Options) (batch.Outcome, error) {
		opt.LockHeld = true // in this process: the daemon's lock
		return batch.Run(ctx, cfg, opt)
	}
	for deadline := time.Now().Add(20 * time.Second); post() != http.StatusAccepted; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("POST /run never accepted again")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}
