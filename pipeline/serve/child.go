package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// The daemon runs each batch as a child process, `sofpipe run --config -`, not in its own:
// whatever a batch allocates (DuckDB's own allocator keeps what its threads freed, Arrow,
// the Go heap) is returned to the system when the child exits, so a daemon that runs for
// months stays at its resting size; a crash in a batch (a DuckDB fatal error, a panic)
// ends the child, not the daemon; and no DuckDB instance outlives its batch. The child
// runs batch.Run exactly as `sofpipe run` does.
//
// The workspace lock stays the daemon's: the child inherits its open descriptor and takes
// it over (workspace.AdoptLock), which succeeds only for the descriptor that holds the
// lock. The child reads the effective config as JSON on its standard input and writes
// "started <batch>" to the events descriptor once the batch has its id.
const (
	// EnvLockFD names the descriptor of the daemon's workspace lock in the child.
	EnvLockFD = "SOFPIPE_LOCK_FD"
	// EnvEventsFD names the descriptor the child writes its events to.
	EnvEventsFD = "SOFPIPE_EVENTS_FD"
	// EnvLogFormat tells the child to log as the daemon does (text or json).
	EnvLogFormat = "SOFPIPE_LOG_FORMAT"
	// EnvTrigger says what started the batch (schedule, catch-up, watch, http), for every
	// line the child logs.
	EnvTrigger = "SOFPIPE_TRIGGER"
)

// triggerKey carries a job's trigger to runChild.
type triggerKey struct{}

// ChildOfDaemon is the child's side: when the process was started by a daemon (EnvLockFD
// is set) it takes over the daemon's lock on ws and returns the hooks for batch.Options
// (LockHeld, OnStart) and a release for the end; otherwise nil.
func ChildOfDaemon(ws workspace.Workspace) (*Child, error) {
	v := os.Getenv(EnvLockFD)
	if v == "" {
		return nil, nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", EnvLockFD, v, fsutil.ErrLocked)
	}
	lock, err := ws.AdoptLock(uintptr(fd))
	if err != nil {
		return nil, err
	}
	c := &Child{lock: lock}
	if v := os.Getenv(EnvEventsFD); v != "" {
		if fd, err := strconv.Atoi(v); err == nil {
			c.events = os.NewFile(uintptr(fd), "events")
		}
	}
	return c, nil
}

// Child is a batch process started by the daemon.
type Child struct {
	lock   *fsutil.Lock
	events *os.File
}

// Started tells the daemon the batch's id (batch.Options.OnStart).
func (c *Child) Started(batchID string) {
	if c.events != nil {
		fmt.Fprintf(c.events, "started %s\n", batchID)
	}
}

// Close lets go of the inherited descriptors; the daemon keeps its lock.
func (c *Child) Close() {
	if c.events != nil {
		c.events.Close()
	}
	c.lock.Unlock()
}

// childWaitDelay bounds how long a cancelled child may take to stop at its next safe
// point after SIGTERM before it is killed (a kill is as safe, only slower to tidy).
const childWaitDelay = 2 * time.Minute

// runChild runs one batch as a child process and returns its outcome as the ledger
// records it. A child that ended without finishing its run record (killed, crashed) has
// its batch recorded as failed, with how it ended.
func (d *Daemon) runChild(ctx context.Context, cfg config.Config, opt batch.Options) (batch.Outcome, error) {
	var out batch.Outcome
	trigger, _ := ctx.Value(triggerKey{}).(string)
	// The parent-death signal is tied to the thread that started the child: this one is
	// kept for the child's life, so the Go runtime cannot retire it and signal the child
	// early.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	conf, err := json.Marshal(cfg)
	if err != nil {
		return out, err
	}
	events, eventsW, err := os.Pipe()
	if err != nil {
		return out, err
	}
	defer events.Close()
	cmd := exec.CommandContext(ctx, d.opt.Executable, "run", "--config", "-")
	cmd.Stdin = strings.NewReader(string(conf))
	cmd.Stdout = io.Discard // the run summary; the log is on stderr
	cmd.Stderr = d.opt.childStderr()
	cmd.ExtraFiles = []*os.File{d.lock.File(), eventsW} // descriptors 3 and 4
	cmd.Env = append(os.Environ(), EnvLockFD+"=3", EnvEventsFD+"=4", EnvLogFormat+"="+d.logFormat(), EnvTrigger+"="+trigger)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	// A daemon that dies (kill -9) takes its batch with it, cleanly: the child is sent
	// SIGTERM, stops at its next safe point, and lets go of the inherited lock, so that
	// the next daemon is not refused by an orphan it cannot see.
	cmd.SysProcAttr = childProcAttr()
	cmd.WaitDelay = childWaitDelay
	if err := cmd.Start(); err != nil {
		eventsW.Close()
		return out, fmt.Errorf("serve: start the batch process %s: %w", d.opt.Executable, err)
	}
	eventsW.Close()
	var id string
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(events)
		for sc.Scan() {
			if b, ok := strings.CutPrefix(sc.Text(), "started "); ok && id == "" {
				id = b
				if opt.OnStart != nil {
					opt.OnStart(id)
				}
			}
		}
	}()
	waitErr := cmd.Wait()
	<-scanned
	if id == "" {
		return out, fmt.Errorf("serve: the batch process ended before it started a batch: %v", exitText(waitErr))
	}
	runs, err := d.led.Runs()
	if err != nil {
		return out, err
	}
	for _, r := range runs {
		if r.BatchID == id {
			out.Run = r
		}
	}
	out.InboxSkipped = out.Run.InboxSkipped
	if out.Run.Status == batch.StatusRunning || out.Run.BatchID == "" {
		// The child could not finish its record: the daemon does, as the next batch's
		// recovery would, saying how the process ended.
		out.Run.BatchID, out.Run.Status = id, batch.StatusFailed
		out.Run.Message = fmt.Sprintf("the batch process ended before it finished: %s; the next batch takes up its work", exitText(waitErr))
		out.Run.FinishedAt = time.Now().UTC()
		if err := d.led.SaveRun(out.Run); err != nil {
			return out, err
		}
	}
	if waitErr != nil {
		return out, fmt.Errorf("serve: batch %s: %s: %s", id, out.Run.Status, out.Run.Message)
	}
	return out, nil
}

func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("ended by signal %d (%s)", int(ws.Signal()), ws.Signal())
		}
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// logFormat is the format the daemon logs in, for its children.
func (d *Daemon) logFormat() string {
	if d.opt.LogFormat != "" {
		return d.opt.LogFormat
	}
	return config.LogJSON
}
