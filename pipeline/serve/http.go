package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// startWait bounds how long POST /run waits for the new batch's id. A batch has its id
// within milliseconds of starting; the bound only keeps a stuck disk from holding the
// request open.
const startWait = 30 * time.Second

func (d *Daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", d.readyz)
	mux.HandleFunc("GET /runs", d.runs)
	mux.HandleFunc("POST /run", d.postRun)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg}))
	mux.Handle("GET /report/", reportHandler(d.ws)) // report.go
	return mux
}

// readyz answers 200 when the workspace can be written and the last batch did not fail,
// and 503 with the reason otherwise: what an operator's alert should fire on.
func (d *Daemon) readyz(w http.ResponseWriter, _ *http.Request) {
	if reason := d.workspaceUnusable(); reason != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unready", "reason": reason})
		return
	}
	d.mu.Lock()
	last := d.last
	d.mu.Unlock()
	switch last.Status {
	case batch.StatusFailed, batch.StatusChecksFailed:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{
			"status": "unready",
			"reason": fmt.Sprintf("the last batch, %s, ended %s: %s", last.BatchID, last.Status, last.Message),
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "last_batch": last.BatchID, "last_status": last.Status})
}

// workspaceUnusable returns why a batch could not run in the workspace now, or "". A file
// is created and removed in state/, so a full disk or a folder made read-only shows.
func (d *Daemon) workspaceUnusable() string {
	for _, dir := range []string{d.ws.Root, d.ws.Inbox(), d.ws.Lake(), d.ws.Warehouse(), d.ws.State()} {
		info, err := os.Stat(dir)
		if err != nil {
			return err.Error()
		}
		if !info.IsDir() {
			return dir + " is not a folder"
		}
	}
	f, err := os.CreateTemp(d.ws.State(), ".readyz-*")
	if err != nil {
		return "the workspace cannot be written: " + err.Error()
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return "the workspace cannot be written: " + err.Error()
	}
	return ""
}

// RunRecord is one line of /runs: the columns of `sofpipe runs`.
type RunRecord struct {
	BatchID    string     `json:"batch_id"`
	Status     string     `json:"status"`
	Build      string     `json:"build"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Seconds    float64    `json:"seconds"`
	FilesNew   int        `json:"files_new"`
	// FilesDuplicate and FilesRejected are DUPLICATE and REJECTED of `sofpipe runs`; the
	// latter counts quarantined files too.
	FilesDuplicate int    `json:"files_duplicate"`
	FilesRejected  int    `json:"files_rejected"`
	RowsRead       int64  `json:"rows_read"`
	RowsAccepted   int64  `json:"rows_accepted"`
	RowsRejected   int64  `json:"rows_rejected"`
	ChecksFailed   int    `json:"checks_failed"`
	ChecksWarned   int    `json:"checks_warned"`
	Message        string `json:"message"`
}

// Record is r as /runs shows it.
func Record(r ledger.Run) RunRecord {
	rec := RunRecord{
		BatchID: r.BatchID, Status: r.Status, Build: r.WarehouseBuild, StartedAt: r.StartedAt,
		FilesNew: r.FilesNew, FilesDuplicate: r.FilesDuplicate, FilesRejected: r.FilesRejected + r.FilesQuarantined,
		RowsRead: r.RowsRead, RowsAccepted: r.RowsAccepted, RowsRejected: r.RowsRejected,
		ChecksFailed: r.ChecksFailed, ChecksWarned: r.ChecksWarned, Message: r.Message,
	}
	if !r.FinishedAt.IsZero() {
		f := r.FinishedAt
		rec.FinishedAt = &f
		rec.Seconds = f.Sub(r.StartedAt).Seconds()
	}
	return rec
}

// runs answers the batch history, newest first; ?limit=N keeps the newest N.
func (d *Daemon) runs(w http.ResponseWriter, r *http.Request) {
	limit := -1
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a whole number, got " + strconv.Quote(s)})
			return
		}
		limit = n
	}
	runs, err := d.led.Runs()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	out := make([]RunRecord, 0, len(runs))
	for i := len(runs) - 1; i >= 0 && (limit < 0 || len(out) < limit); i-- {
		out = append(out, Record(runs[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// postRun starts a batch now: 202 with its id, or 409 with the running one's.
func (d *Daemon) postRun(w http.ResponseWriter, _ *http.Request) {
	j, started := d.start(TriggerHTTP)
	if j == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the daemon is stopping"})
		return
	}
	if !started {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "a batch is running", "batch_id": runningID(j)})
		return
	}
	t := time.NewTimer(startWait)
	defer t.Stop()
	select {
	case <-j.started:
		writeJSON(w, http.StatusAccepted, map[string]string{"batch_id": j.id, "status": batch.StatusRunning})
	case <-j.done:
		msg := "the batch stopped before it started"
		if j.err != nil {
			msg = j.err.Error()
		}
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": msg, "batch_id": j.run.BatchID})
	case <-t.C:
		writeJSON(w, http.StatusAccepted, map[string]string{"batch_id": "", "status": "starting"})
	}
}

// runningID is the running batch's id, or "" while it is still starting.
func runningID(j *job) string {
	select {
	case <-j.started:
		return j.id
	default:
		return ""
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
