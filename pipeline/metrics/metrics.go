// Package metrics is sofpipe's batch metrics in Prometheus form: what batches ran and how
// they ended, how long they took, the rows and files they took in, the data tests of the
// last build, the last success and what waits in the inbox. The same set serves the
// daemon's /metrics (package serve, which adds its schedule's metrics and the Go and
// process collectors) and `sofpipe run --metrics-file`, node_exporter's textfile format.
//
// The metrics are derived from the ledger's run and file records, never from a batch's
// memory alone, so both ways of running agree with `sofpipe runs`.
//
// Counters start from the workspace's history: Seed adds up every run the ledger holds,
// then Observe adds each batch as it finishes. A restart therefore shows Prometheus a
// counter that carries on from where it was (plus any batch run by hand meanwhile), not
// one that falls to zero; Prometheus would handle a reset, but a total that survives
// restarts is also right in a plain query of the current value. The one way a counter can
// go down across a restart is a file's bytes read again after being rejected: the ledger
// keeps the last reading of each file, so its earlier rows are not counted again.
//
// Everything is registered on a registry the caller gives, never the global one, so a test
// can build two.
package metrics

import (
	"bytes"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/evaluation-taskforce/sofpipe/pipeline/batch"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// UnknownDataset labels files no dataset was found for (rejected whole as unknown_dataset).
const UnknownDataset = "unknown"

// Statuses are the final statuses a batch can have; each gets a series from zero.
var Statuses = []string{batch.StatusPublished, batch.StatusUnchanged, batch.StatusChecksFailed, batch.StatusFailed, batch.StatusAbandoned, batch.StatusCancelled}

// DurationBuckets span a batch with nothing new (a tenth of a second) to a full rebuild of
// a large lake (many minutes).
var DurationBuckets = []float64{0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// Batch is the batch metrics.
type Batch struct {
	batches      *prometheus.CounterVec
	duration     prometheus.Histogram
	rows         *prometheus.CounterVec
	files        *prometheus.CounterVec
	checksFailed prometheus.Gauge
	checksWarned prometheus.Gauge
	lastSuccess  prometheus.Gauge
	inboxWaiting prometheus.Gauge
	inboxSkipped prometheus.Gauge
}

// New registers the batch metrics on reg.
func New(reg prometheus.Registerer) *Batch {
	m := &Batch{
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sofpipe_batches_total",
			Help: "Batches finished, by final status (published, unchanged, checks_failed, failed, abandoned, cancelled).",
		}, []string{"status"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sofpipe_batch_duration_seconds",
			Help:    "Wall time of finished batches, from start to the run record's finish.",
			Buckets: DurationBuckets,
		}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sofpipe_rows_total",
			Help: "Rows read from delivered files, by dataset and outcome (accepted or rejected).",
		}, []string{"dataset", "outcome"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sofpipe_files_total",
			Help: "Files delivered, by dataset and status (ingested, rejected, quarantined, duplicate).",
		}, []string{"dataset", "status"}),
		checksFailed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sofpipe_checks_failed",
			Help: "Data tests at error severity that failed in the last batch that built a warehouse.",
		}),
		checksWarned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sofpipe_checks_warned",
			Help: "Data tests at warn severity that failed in the last batch that built a warehouse.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sofpipe_last_success_timestamp_seconds",
			Help: "When the last batch that ended published or unchanged finished (Unix time); 0 if none has.",
		}),
		inboxWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sofpipe_inbox_files_waiting",
			Help: "Files in the inbox that a batch will read.",
		}),
		inboxSkipped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sofpipe_inbox_files_skipped",
			Help: "Entries in the inbox that no batch will ever read: symbolic links, sockets, devices. Each needs a person.",
		}),
	}
	reg.MustRegister(m.batches, m.duration, m.rows, m.files, m.checksFailed, m.checksWarned, m.lastSuccess, m.inboxWaiting, m.inboxSkipped)
	// Every series a dashboard or alert names exists from the start, at zero, so a rate or
	// an absence alert works before the first failure.
	for _, s := range Statuses {
		m.batches.WithLabelValues(s)
	}
	for _, ds := range contract.Names() {
		m.rows.WithLabelValues(ds, "accepted")
		m.rows.WithLabelValues(ds, "rejected")
		for _, s := range []string{ledger.StatusIngested, ledger.StatusRejected, ledger.StatusQuarantined, ledger.StatusDuplicate} {
			m.files.WithLabelValues(ds, s)
		}
	}
	return m
}

// Seed adds up the workspace's history: every run record, oldest first, with the file
// records that say what its deliveries became. A run record still marked running belongs
// to a process that is gone (the caller holds the workspace lock) and counts as abandoned,
// as the next batch will record it.
func (m *Batch) Seed(runs []ledger.Run, files []ledger.File) {
	bySHA := FilesBySHA(files)
	for _, r := range runs { // ledger.Runs gives them oldest first: the last build sets the gauges
		if r.Status == batch.StatusRunning {
			r.Status = batch.StatusAbandoned
		}
		m.Observe(r, bySHA)
	}
}

// FilesBySHA indexes file records by their digest, as Observe takes them.
func FilesBySHA(files []ledger.File) map[string]ledger.File {
	out := make(map[string]ledger.File, len(files))
	for _, f := range files {
		out[f.SHA256] = f
	}
	return out
}

// Observe adds one finished batch: its run record and the file records (by digest) of its
// deliveries.
func (m *Batch) Observe(r ledger.Run, files map[string]ledger.File) {
	if r.Status == batch.StatusRunning {
		return
	}
	m.batches.WithLabelValues(r.Status).Inc()
	if !r.FinishedAt.IsZero() && !r.FinishedAt.Before(r.StartedAt) {
		m.duration.Observe(r.FinishedAt.Sub(r.StartedAt).Seconds())
	}
	for _, d := range r.Deliveries {
		f, known := files[d.SHA256]
		ds := f.Dataset
		if ds == "" {
			ds = UnknownDataset
		}
		m.files.WithLabelValues(ds, d.Status).Inc()
		// Rows belong to the batch that read the bytes last: that is the reading the
		// ledger keeps, and a duplicate delivery reads nothing.
		if known && d.Status != ledger.StatusDuplicate && f.BatchID == r.BatchID {
			m.rows.WithLabelValues(ds, "accepted").Add(float64(f.RowsAccepted))
			m.rows.WithLabelValues(ds, "rejected").Add(float64(f.RowsRejected))
		}
	}
	// An unchanged batch runs no data tests; the last build's results still describe the
	// published warehouse, so only a batch that built one moves these.
	if r.WarehouseBuild != "" || r.Status == batch.StatusPublished || r.Status == batch.StatusChecksFailed {
		m.checksFailed.Set(float64(r.ChecksFailed))
		m.checksWarned.Set(float64(r.ChecksWarned))
	}
	if (r.Status == batch.StatusPublished || r.Status == batch.StatusUnchanged) && !r.FinishedAt.IsZero() {
		m.lastSuccess.Set(float64(r.FinishedAt.UnixNano()) / float64(time.Second))
	}
}

// SetInbox records what waits in the inbox.
func (m *Batch) SetInbox(waiting, skipped int) {
	m.inboxWaiting.Set(float64(waiting))
	m.inboxSkipped.Set(float64(skipped))
}

// WriteTextfile writes everything g gathers to path in the Prometheus text format, for
// node_exporter's textfile collector: atomically, so the collector never reads half a file
// (its temporary name does not end in .prom, which the collector ignores).
func WriteTextfile(path string, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("metrics: gather: %w", err)
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return fmt.Errorf("metrics: encode %s: %w", mf.GetName(), err)
		}
	}
	if err := fsutil.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("metrics: write %s: %w", path, err)
	}
	return nil
}

// Textfile is the whole of `sofpipe run --metrics-file`: the batch metrics seeded from the
// workspace's ledger (which by then holds the batch just run) and the inbox's count,
// written to path.
func Textfile(path string, runs []ledger.Run, files []ledger.File, inboxWaiting, inboxSkipped int) error {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.Seed(runs, files)
	m.SetInbox(inboxWaiting, inboxSkipped)
	return WriteTextfile(path, reg)
}
