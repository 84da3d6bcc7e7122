// Package serve is `sofpipe serve`, the long-running daemon: it owns the workspace for its
// whole life, starts batches on the config's schedule, at start when a scheduled batch
// was missed, when deliveries in the inbox settle, and on POST /run; it never runs two at
// once; and it answers health, readiness, metrics and run history over HTTP (http.go).
//
// It decides nothing about a batch's work: every batch is batch.Run, called as `sofpipe
// run` calls it, with the lock the daemon already holds. When batches are due comes from
// package schedule, when deliveries have settled from package watch, and the batch metrics
// from package metrics; this package only wires them to clocks, goroutines and sockets.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/metrics"
	"github.com/evaluation-taskforce/sofpipe/pipeline/schedule"
	"github.com/evaluation-taskforce/sofpipe/pipeline/watch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// Options are the parts of the daemon that do not come from the config.
type Options struct {
	Version string
	Logger  *slog.Logger
	// Listening, when set, is called with the HTTP server's address once it accepts
	// connections (with port 0 in the config, the port the system chose).
	Listening func(addr net.Addr)
	// Executable is the sofpipe program each batch runs as a child process of (see
	// child.go); LogFormat ("text" or "json") the format its log lines take, as the
	// daemon's; Stderr where they go (default os.Stderr).
	Executable string
	LogFormat  string
	Stderr     io.Writer
}

func (o Options) childStderr() io.Writer {
	if o.Stderr != nil {
		return o.Stderr
	}
	return os.Stderr
}

// Triggers: what started a batch, in its log lines.
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch-up"
	TriggerWatch    = "watch"
	TriggerHTTP     = "http"
)

// ErrShutdown is the cause a batch is cancelled with when the shutdown grace has passed.
var ErrShutdown = errors.New("the daemon was stopped and the shutdown grace passed")

// Daemon is one running `sofpipe serve`.
type Daemon struct {
	cfg   config.Config
	opt   Options
	log   *slog.Logger
	ws    workspace.Workspace
	lock  *fsutil.Lock // held for the daemon's life; its children inherit it
	led   *ledger.Ledger
	sched schedule.Schedule

	reg     *prometheus.Registry
	m       *metrics.Batch
	skipped prometheus.Counter

	// batchCtx is the parent of every batch's context: it outlives the daemon's own
	// context, so that a shutdown can give a running batch its grace before cancelling it.
	batchCtx context.Context

	mu       sync.Mutex
	running  *job       // the batch in progress, or nil
	last     ledger.Run // the last finished batch, for /readyz
	stopping bool
}

// job is one batch the daemon started.
type job struct {
	trigger string
	cancel  context.CancelCauseFunc
	started chan struct{} // closed once id is known
	done    chan struct{} // closed once the batch has returned and been recorded
	once    sync.Once
	id      string
	run     ledger.Run // set before done is closed
	err     error      // likewise
}

func (j *job) setID(id string) {
	j.once.Do(func() { j.id = id; close(j.started) })
}

// Run serves until ctx is cancelled, then stops the schedule and the watch, gives a
// running batch serve.shutdown_grace_seconds to finish, cancels it if it has not, and
// returns nil. It returns an error at once if the workspace is held by another process
// (wrapping fsutil.ErrLocked) or the listen address cannot be bound.
func Run(ctx context.Context, cfg config.Config, opt Options) error {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	sched, err := schedule.Parse(cfg.Serve.Schedules)
	if err != nil {
		return fmt.Errorf("serve: serve.schedules: %w", err)
	}
	ws, err := workspace.New(cfg.Workspace)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if err := ws.Init(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	lock, err := ws.Lock()
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer lock.Unlock()

	if opt.Executable == "" {
		return errors.New("serve: no executable to run batches with (serve.Options.Executable)")
	}
	d := &Daemon{
		cfg: cfg, opt: opt, log: opt.Logger, ws: ws, sched: sched, lock: lock,
		led:      ledger.Open(ws.LedgerFiles(), ws.LedgerRuns()),
		reg:      prometheus.NewRegistry(),
		batchCtx: context.WithoutCancel(ctx),
	}
	starts, err := d.setUpMetrics()
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Serve.Listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s (serve.listen): %w", cfg.Serve.Listen, err)
	}
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	d.log.Info("serving", "listen", ln.Addr().String(), "workspace", ws.Root, "pid", os.Getpid(),
		"schedules", cfg.Serve.Schedules, "next_run", d.sched.Next(time.Now()), "watch", cfg.Serve.Watch.Enabled)
	if opt.Listening != nil {
		opt.Listening(ln.Addr())
	}

	if cfg.Serve.CatchUp {
		if due, missed := schedule.Missed(sched, starts, time.Now()); missed {
			d.log.Info("a scheduled batch was missed while the daemon was down: running one now", "due", due)
			d.start(TriggerCatchUp)
		}
	}

	// robfig/cron runs the timers. Its job only asks for a batch and returns: start is the
	// single flight for every trigger (schedule, watch, HTTP), and counts the ticks it
	// skips, which cron.SkipIfStillRunning could only log.
	c := cron.New(cron.WithLogger(cronLogger{d.log}), cron.WithChain(cron.Recover(cronLogger{d.log})))
	for _, spec := range sched {
		c.Schedule(spec, cron.FuncJob(func() {
			if _, ok := d.start(TriggerSchedule); !ok {
				d.skipped.Inc()
			}
		}))
	}
	c.Start()

	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); d.watch(watchCtx) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-httpErr:
		serveErr = fmt.Errorf("serve: http: %w", serveErr)
	}
	d.log.Info("stopping: no new batches")
	<-c.Stop().Done()
	stopWatch()
	<-watchDone
	d.finishRunning()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutCtx)
	d.log.Info("stopped")
	return serveErr
}

// setUpMetrics registers the metrics, seeds the counters from the workspace's history,
// and returns the start times of the batches that did their work (for the catch-up).
func (d *Daemon) setUpMetrics() ([]time.Time, error) {
	d.m = metrics.New(d.reg)
	d.skipped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sofpipe_schedule_skipped_total",
		Help: "Scheduled ticks skipped because a batch was still running (since the daemon started).",
	})
	next := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sofpipe_next_run_timestamp_seconds",
		Help: "When the schedule next starts a batch (Unix time); 0 when nothing is scheduled.",
	}, func() float64 {
		n := d.sched.Next(time.Now())
		if n.IsZero() {
			return 0
		}
		return float64(n.Unix())
	})
	d.reg.MustRegister(d.skipped, next,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	runs, err := d.led.Runs()
	if err != nil {
		return nil, fmt.Errorf("serve: read the run history: %w", err)
	}
	files, err := d.led.Files()
	if err != nil {
		return nil, fmt.Errorf("serve: read the file ledger: %w", err)
	}
	d.m.Seed(runs, files)
	var starts []time.Time
	for _, r := range runs {
		switch r.Status {
		case batch.StatusRunning, batch.StatusAbandoned, batch.StatusCancelled:
			// Stopped part way: its scheduled work is still to do.
		default:
			starts = append(starts, r.StartedAt)
		}
		if r.Status != batch.StatusRunning {
			d.last = r
		}
	}
	d.scanInbox(nil)
	return starts, nil
}

// start starts a batch unless one is running (or the daemon is stopping), and returns the
// job in progress either way.
func (d *Daemon) start(trigger string) (*job, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		d.log.Info("batch not started: the daemon is stopping", "trigger", trigger)
		return nil, false
	}
	if j := d.running; j != nil {
		d.log.Info("batch not started: another is running", "trigger", trigger, "running", j.id, "running_trigger", j.trigger)
		return j, false
	}
	ctx, cancel := context.WithCancelCause(context.WithValue(d.batchCtx, triggerKey{}, trigger))
	j := &job{trigger: trigger, cancel: cancel, started: make(chan struct{}), done: make(chan struct{})}
	d.running = j
	go d.runJob(ctx, j)
	return j, true
}

func (d *Daemon) runJob(ctx context.Context, j *job) {
	defer j.cancel(nil)
	log := d.log.With("trigger", j.trigger)
	began := time.Now()
	out, err := d.runBatch(ctx, j, log)
	run := out.Run
	if run.BatchID == "" {
		// The batch stopped before it had a run record (the workspace could not be read,
		// say): it still counts, as failed, so an alert sees it.
		run = ledger.Run{BatchID: j.id, StartedAt: began.UTC(), FinishedAt: time.Now().UTC(), Status: batch.StatusFailed}
		if err != nil {
			run.Message = err.Error()
		}
	}
	files, ferr := d.led.Files()
	if ferr != nil {
		log.Error("file ledger unreadable: this batch's file and row metrics are not counted", "batch", run.BatchID, "error", ferr)
	}
	d.m.Observe(run, metrics.FilesBySHA(files))
	level := slog.LevelInfo
	switch {
	case run.Status == batch.StatusCancelled:
		level = slog.LevelWarn // asked for (a shutdown), not a fault
	case err != nil:
		level = slog.LevelError
	}
	log.Log(ctx, level, "batch finished", "batch", run.BatchID, "status", run.Status,
		"seconds", time.Since(began).Seconds(), "files_new", run.FilesNew, "rows_accepted", run.RowsAccepted, "message", run.Message)
	if out.InboxSkipped > 0 {
		log.Warn("inbox entries this batch could not read (symbolic links, devices, unreadable files): they wait for a person", "batch", run.BatchID, "count", out.InboxSkipped)
	}
	d.scanInbox(nil)
	// A batch's garbage (Arrow buffers, Parquet pages, query results) is dead once it
	// returns; the daemon then idles for hours. Handing the freed heap back to the system
	// now brings the process back to its resting size instead of holding the batch's peak
	// until the collector's next cycle. (The batch itself ran in a child process, which
	// returned all of its memory when it exited.)
	debug.FreeOSMemory()

	d.mu.Lock()
	d.last = run
	d.running = nil
	d.mu.Unlock()
	j.run, j.err = run, err
	close(j.done)
}

// batchRun, when set, runs batches instead of a child process: a test of the daemon's own
// recovery puts a batch that panics in its place.
var batchRun func(context.Context, config.Config, batch.Options) (batch.Outcome, error)

// runBatch runs one batch with the daemon's lock. A panic anywhere in it is recovered and
// recorded in the ledger as a failed batch: the daemon lives on, and the next batch
// starts from a clean state as after any failure.
func (d *Daemon) runBatch(ctx context.Context, j *job, log *slog.Logger) (out batch.Outcome, err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		err = fmt.Errorf("serve: the batch panicked: %v", p)
		log.Error("batch panicked: recorded as failed", "batch", j.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		out = batch.Outcome{}
		if j.id == "" {
			return
		}
		runs, rerr := d.led.Runs()
		if rerr != nil {
			log.Error("the panicked batch's run record could not be read", "batch", j.id, "error", rerr)
			return
		}
		for _, r := range runs {
			if r.BatchID == j.id {
				r.Status, r.Message, r.FinishedAt = batch.StatusFailed, err.Error(), time.Now().UTC()
				if serr := d.led.SaveRun(r); serr != nil {
					log.Error("the panicked batch's run record could not be saved", "batch", j.id, "error", serr)
				}
				out.Run = r
			}
		}
	}()
	run := d.runChild
	if batchRun != nil {
		run = batchRun
	}
	return run(ctx, d.cfg, batch.Options{
		Version:  d.opt.Version,
		Logger:   log,
		LockHeld: true,
		OnStart:  j.setID,
	})
}

// finishRunning is the shutdown of a running batch: it gets the grace to finish, and is
// then cancelled; batch.Run stops at its next safe point and records it as cancelled.
func (d *Daemon) finishRunning() {
	d.mu.Lock()
	d.stopping = true
	j := d.running
	d.mu.Unlock()
	if j == nil {
		return
	}
	grace := time.Duration(d.cfg.Serve.ShutdownGraceSeconds) * time.Second
	d.log.Info("waiting for the running batch to finish", "batch", j.id, "grace_seconds", d.cfg.Serve.ShutdownGraceSeconds)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-j.done:
		return
	case <-t.C:
	}
	d.log.Warn("shutdown grace passed: cancelling the running batch", "batch", j.id)
	j.cancel(ErrShutdown)
	<-j.done
}

// watch polls the inbox every serve.watch.poll_seconds: for the inbox gauges always, and
// to start a batch when deliveries settle when serve.watch.enabled.
func (d *Daemon) watch(ctx context.Context) {
	w := d.cfg.Serve.Watch
	// Deliveries settle for at least ingest.min_file_age_seconds: a batch started sooner
	// would leave them as too young, and the watch would not start another for the same
	// files.
	settler := watch.Settler{Settle: time.Duration(max(w.SettleSeconds, d.cfg.Ingest.MinFileAgeSeconds)) * time.Second}
	tick := time.NewTicker(time.Duration(w.PollSeconds) * time.Second)
	defer tick.Stop()
	logged := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			snap, ok := d.scanInbox(logged)
			if !ok || !w.Enabled {
				continue
			}
			if settler.Observe(now, snap.Files) {
				d.log.Info("deliveries settled in the inbox: starting a batch", "files", len(snap.Files))
				if _, started := d.start(TriggerWatch); !started {
					settler.Retry()
				}
			}
		}
	}
}

// scanInbox lists the inbox and sets its gauges. Entries no batch will read are logged the
// first time this poller sees each (logged is nil for a scan that logs nothing).
func (d *Daemon) scanInbox(logged map[string]bool) (watch.Snapshot, bool) {
	snap, err := watch.Scan(d.ws.Inbox())
	if err != nil {
		d.log.Error("inbox unreadable", "error", err)
		return snap, false
	}
	d.m.SetInbox(len(snap.Files), len(snap.Skipped))
	if logged != nil {
		seen := map[string]bool{}
		for _, rel := range snap.Skipped {
			seen[rel] = true
			if !logged[rel] {
				d.log.Warn("inbox entry is not a regular file (a symbolic link?): no batch will read it", "file", rel)
			}
		}
		clear(logged)
		for rel := range seen {
			logged[rel] = true
		}
	}
	return snap, true
}

// cronLogger lets robfig/cron log through slog: its routine lines at debug, its errors
// (a recovered panic in a job) at error.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "error", err)...)
}
