// Package batch runs one sofpipe batch end to end: it takes the workspace lock, reads every
// file waiting in the inbox into the lake (keeping the original bytes and a ledger record of
// each), builds and tests a new warehouse file, publishes it by rename, and exports the
// marts. Each step is safe to interrupt: the lake only counts files the ledger has
// committed, the warehouse is replaced only by a complete tested file, and a rerun picks up
// where the crash left off.
package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/export"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

// Run statuses.
const (
	StatusRunning      = "running"
	StatusPublished    = "published"
	StatusUnchanged    = "unchanged" // nothing new: the published warehouse still holds
	StatusChecksFailed = "checks_failed"
	StatusFailed       = "failed"
	StatusAbandoned    = "abandoned" // a run that never finished (crash, kill -9)
)

// Options are the parts of a run that do not come from the config.
type Options struct {
	Version string
	Logger  *slog.Logger
	// Now returns the time; tests pin it. Defaults to time.Now.
	Now func() time.Time
	// ForceBuild rebuilds the warehouse even when nothing changed.
	ForceBuild bool
}

// Outcome is what a run did and where its outputs are.
type Outcome struct {
	Run       ledger.Run
	Warehouse string
	Exports   []string
	Checks    []warehouse.Check
	Tables    map[string]int64
}

// Run executes one batch in the workspace cfg names.
func Run(ctx context.Context, cfg config.Config, opt Options) (out Outcome, err error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	ws, err := workspace.New(cfg.Workspace)
	if err != nil {
		return out, err
	}
	if err := ws.Init(); err != nil {
		return out, err
	}
	lock, err := ws.Lock()
	if err != nil {
		return out, err
	}
	defer lock.Unlock()

	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	runs, err := led.Runs()
	if err != nil {
		return out, err
	}
	if err := markAbandoned(led, runs); err != nil {
		return out, err
	}
	b := &batch{cfg: cfg, opt: opt, ws: ws, led: led}
	b.run = ledger.Run{BatchID: newBatchID(opt.Now(), runs), Version: opt.Version, StartedAt: opt.Now().UTC(), Status: StatusRunning}
	b.log = opt.Logger.With("batch", b.run.BatchID)
	if err := led.SaveRun(b.run); err != nil {
		return out, err
	}
	defer func() {
		b.run.FinishedAt = opt.Now().UTC()
		if err != nil && b.run.Status == StatusRunning {
			b.run.Status = StatusFailed
			b.run.Message = err.Error()
		}
		if serr := led.SaveRun(b.run); serr != nil && err == nil {
			err = serr
		}
		out.Run = b.run
	}()
	if err := b.cleanLeftovers(); err != nil {
		return out, err
	}
	start := time.Now()
	if err := b.ingestInbox(ctx); err != nil {
		return out, err
	}
	if err := os.RemoveAll(filepath.Join(b.ws.Staging(), b.run.BatchID)); err != nil {
		return out, err
	}
	b.run.IngestSeconds = time.Since(start).Seconds()
	return b.buildAndPublish(ctx)
}

type batch struct {
	cfg config.Config
	opt Options
	ws  workspace.Workspace
	led *ledger.Ledger
	log *slog.Logger
	run ledger.Run
}

// newBatchID is the UTC start time to the second, made unique against earlier runs; batch
// ids sort by time.
func newBatchID(now time.Time, runs []ledger.Run) string {
	base := now.UTC().Format("20060102T150405Z")
	id := base
	taken := map[string]bool{}
	for _, r := range runs {
		taken[r.BatchID] = true
	}
	for n := 2; taken[id]; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}

func markAbandoned(led *ledger.Ledger, runs []ledger.Run) error {
	for _, r := range runs {
		if r.Status == StatusRunning {
			r.Status = StatusAbandoned
			r.Message = "the process stopped before the run finished; the next run picked up its work"
			if err := led.SaveRun(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// cleanLeftovers removes what a crashed run left half-done: staged lake files and partial
// warehouse builds. Nothing there was ever published.
func (b *batch) cleanLeftovers() error {
	if err := os.RemoveAll(b.ws.Staging()); err != nil {
		return err
	}
	if err := os.MkdirAll(b.ws.Staging(), 0o755); err != nil {
		return err
	}
	for _, pattern := range []string{
		filepath.Join(b.ws.Warehouse(), ".build-*"),
		filepath.Join(b.ws.Store(), ".incoming-*"),
		filepath.Join(b.ws.Exports(), ".staging-*"),
	} {
		leftovers, err := filepath.Glob(pattern)
		if err != nil {
			return err
		}
		for _, p := range leftovers {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("batch: clean up after an earlier run: %w", err)
			}
		}
	}
	return nil
}

// inboxFile is a file found waiting in the inbox.
type inboxFile struct {
	path string // absolute
	rel  string // relative to the inbox, with forward slashes
}

func (b *batch) listInbox() ([]inboxFile, error) {
	var files []inboxFile
	root := b.ws.Inbox()
	settle := time.Duration(b.cfg.Ingest.MinFileAgeSeconds) * time.Second
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != root && (strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~")) {
			// Hidden and editor files, and uploads in progress named .partial or similar.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if settle > 0 {
			info, err := d.Info()
			if err != nil {
				return nil // gone since the listing: not delivered after all
			}
			// Wall-clock time, not Options.Now: the question is whether an upload is
			// still running on this machine now.
			if age := time.Since(info.ModTime()); age < settle {
				b.log.Info("file changed too recently: left for the next batch", "file", rel, "age_seconds", int(age.Seconds()))
				return nil
			}
		}
		files = append(files, inboxFile{path: p, rel: filepath.ToSlash(rel)})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return arrivesBefore(files[i].rel, files[j].rel) })
	return files, err
}

// arrivesBefore orders the files of one batch, and so decides which of two files carrying
// the same natural key supersedes the other. It is the path order with each file's
// extension set aside, so that the usual names of a correction sort after the original:
// "dfe-2024-01.csv" before "dfe-2024-01 (corrected).csv", "dfe-2024-01-v2.csv" and
// "dfe-2024-01-corrected.csv" (with the extension, " " and "-" would sort before ".").
func arrivesBefore(a, b string) bool {
	sa, sb := strings.TrimSuffix(a, path.Ext(a)), strings.TrimSuffix(b, path.Ext(b))
	if sa != sb {
		return sa < sb
	}
	return a < b
}

// route finds a file's dataset and source profile: the first profile whose pattern matches,
// else the dataset named by the file's first folder.
func (b *batch) route(rel string) (*contract.Dataset, *config.Profile) {
	if p := b.cfg.ProfileFor(rel); p != nil {
		ds, _ := contract.Lookup(p.Dataset)
		return ds, p
	}
	first, _, found := strings.Cut(rel, "/")
	if !found {
		return nil, nil
	}
	ds, ok := contract.Lookup(first)
	if !ok {
		return nil, nil
	}
	return ds, nil
}

func (b *batch) ingestInbox(ctx context.Context) error {
	files, err := b.listInbox()
	if err != nil {
		return fmt.Errorf("batch: inbox: %w", err)
	}
	known, err := b.led.Files()
	if err != nil {
		return err
	}
	bySHA := map[string]ledger.File{}
	var arrival int64
	for _, f := range known {
		bySHA[f.SHA256] = f
		arrival = max(arrival, f.Arrival)
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		sha, size, err := b.keepOriginal(f)
		if errors.Is(err, fs.ErrNotExist) {
			b.log.Warn("file left the inbox before it could be read: skipped", "file", f.rel)
			continue
		}
		if err != nil {
			return fmt.Errorf("batch: keep original of %s: %w", f.rel, err)
		}
		delivery := ledger.Delivery{SHA256: sha, SourcePath: f.rel, ReceivedAt: b.opt.Now().UTC(), SizeBytes: size}
		// Only bytes that were taken in are duplicates. Bytes once rejected or quarantined
		// (a misfiled copy, a layout no profile knew yet) are read again: the department
		// or the operator has put them back for a reason.
		if prev, ok := bySHA[sha]; ok && prev.Status == ledger.StatusIngested {
			b.log.Info("file already ingested: same bytes as an earlier delivery", "file", f.rel, "first_delivered_as", prev.SourcePath, "sha256", sha)
			delivery.Status = ledger.StatusDuplicate
			b.run.FilesDuplicate++
		} else {
			arrival++
			rec, err := b.ingestOne(ctx, f, sha, size, arrival)
			if err != nil {
				return err
			}
			bySHA[sha] = rec
			delivery.Status = rec.Status
		}
		b.run.Deliveries = append(b.run.Deliveries, delivery)
		// The run record is saved with each delivery, so a crash never loses what the
		// run had already done.
		if err := b.led.SaveRun(b.run); err != nil {
			return err
		}
		// The bytes are in the store and the ledger says what became of them: the inbox
		// copy has done its job.
		if err := os.Remove(f.path); err != nil {
			return fmt.Errorf("batch: %w", err)
		}
	}
	return nil
}

// keepOriginal copies an inbox file into the content-addressed store, hashing the bytes as
// it copies them, so the stored file holds exactly the bytes its name is the digest of even
// if the inbox copy changes meanwhile. The ingest then reads the stored copy.
func (b *batch) keepOriginal(f inboxFile) (sha string, size int64, err error) {
	in, err := os.Open(f.path)
	if err != nil {
		return "", 0, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(b.ws.Store(), ".incoming-*")
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	if size, err = io.Copy(io.MultiWriter(tmp, h), in); err != nil {
		return "", 0, err
	}
	if err = tmp.Chmod(0o444); err != nil {
		return "", 0, err
	}
	if err = tmp.Sync(); err != nil {
		return "", 0, err
	}
	if err = tmp.Close(); err != nil {
		return "", 0, err
	}
	sha = hex.EncodeToString(h.Sum(nil))
	dst := b.ws.StorePath(sha)
	if _, statErr := os.Stat(dst); statErr == nil {
		os.Remove(tmp.Name()) // the same bytes are stored already
		return sha, size, nil
	}
	if err = os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", 0, err
	}
	return sha, size, fsutil.RenameDurable(tmp.Name(), dst)
}

func (b *batch) ingestOne(ctx context.Context, f inboxFile, sha string, size int64, arrival int64) (ledger.File, error) {
	log := b.log.With("file", f.rel)
	rec := ledger.File{SHA256: sha, SourcePath: f.rel, Arrival: arrival, BatchID: b.run.BatchID, ReceivedAt: b.opt.Now().UTC(), SizeBytes: size}
	store := b.ws.StorePath(sha)
	ds, profile := b.route(f.rel)
	if profile != nil {
		rec.Profile = profile.Name
	}
	if ds == nil {
		rec.Dataset = ""
		rec.Status = ledger.StatusRejected
		rec.Reason = string(ingest.ReasonUnknownDataset)
		rec.Message = fmt.Sprintf("no source profile matches %q and its folder names no dataset: put it under inbox/<dataset>/ (one of %s)", f.rel, strings.Join(contract.Names(), ", "))
		b.run.FilesRejected++
		log.Warn("file rejected", "reason", rec.Reason)
		return rec, b.led.Commit(rec)
	}
	rec.Dataset = ds.Name
	stage := filepath.Join(b.ws.Staging(), b.run.BatchID)
	opt := ingest.OptionsFrom(b.cfg.Ingest)
	opt.BatchID, opt.StageDir, opt.Logger = b.run.BatchID, stage, b.log
	res, err := ingest.File(ctx, ingest.Input{Path: store, Source: f.rel, SHA256: sha, Dataset: ds, Profile: profile}, opt)
	if err != nil {
		return rec, err
	}
	rec.Encoding = res.Encoding
	rec.RowsRead, rec.RowsAccepted, rec.RowsRejected = res.RowsRead, res.RowsAccepted, res.RowsRejected
	rec.Status, rec.Reason, rec.Message = string(res.Status), string(res.Reason), res.Message
	rec.IgnoredColumns = res.IgnoredColumns
	if len(res.RejectsByReason) > 0 {
		rec.RejectsByReason = map[string]int64{}
		for r, n := range res.RejectsByReason {
			rec.RejectsByReason[string(r)] = n
		}
	}
	// Publish the staged files into the lake, then commit: until the commit record exists,
	// the lake's readers ignore these files, and a rerun after a crash rewrites them.
	for _, rel := range res.Outputs {
		if err := moveIntoLake(stage, b.ws.Lake(), rel); err != nil {
			return rec, err
		}
	}
	rec.Outputs = res.Outputs
	if res.RejectsFile != "" {
		if err := moveIntoLake(stage, b.ws.Lake(), res.RejectsFile); err != nil {
			return rec, err
		}
		rec.RejectsFile = res.RejectsFile
	}
	if err := b.led.Commit(rec); err != nil {
		return rec, err
	}
	b.run.RowsRead += res.RowsRead
	b.run.RowsAccepted += res.RowsAccepted
	b.run.RowsRejected += res.RowsRejected
	switch res.Status {
	case ingest.StatusIngested:
		b.run.FilesNew++
	case ingest.StatusRejected:
		b.run.FilesRejected++
	case ingest.StatusQuarantined:
		b.run.FilesQuarantined++
	}
	// A clean file is routine; a file with problems is what an operator must see.
	level := slog.LevelDebug
	if res.Status != ingest.StatusIngested || res.RowsRejected > 0 {
		level = slog.LevelWarn
	}
	log.Log(ctx, level, "file read", "dataset", ds.Name, "status", res.Status, "rows_read", res.RowsRead, "accepted", res.RowsAccepted, "rejected", res.RowsRejected, "reasons", ingest.SummarizeReasons(res.RejectsByReason), "message", res.Message)
	return rec, nil
}

func moveIntoLake(stage, lake, rel string) error {
	dst := filepath.Join(lake, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return fsutil.RenameDurable(filepath.Join(stage, filepath.FromSlash(rel)), dst)
}

// published is what state/published.json and state/exported.json remember.
type published struct {
	BatchID     string    `json:"batch_id"`
	Fingerprint string    `json:"fingerprint"`
	At          time.Time `json:"at"`
	// WarehouseSHA256 is the digest of the warehouse file as published: an incremental
	// build starts from that file only while it still has these bytes.
	WarehouseSHA256 string `json:"warehouse_sha256,omitempty"`
}

func readState(p string) (published, error) {
	var s published
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

func writeState(p string, s published) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(p, append(b, '\n'), 0o644)
}

// fingerprint identifies everything a warehouse build depends on: the program version, the
// SQL, the mart constants and the committed files. Equal fingerprints mean an equal build.
func fingerprint(version string, marts config.Marts, files []ledger.File) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "version %s\n", version)
	fmt.Fprintf(h, "program %s\n", programDigest())
	digest, err := sqlmodels.Digest()
	if err != nil {
		return "", err
	}
	for _, s := range digest {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	m, err := json.Marshal(marts)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "marts %s\n", m)
	for _, f := range files {
		fmt.Fprintf(h, "file %s %d %s %s\n", f.SHA256, f.Arrival, f.Status, strings.Join(f.Outputs, ","))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// programDigest is the SHA-256 of the running executable, so that a fingerprint changes
// with the program itself and not only with its version label (a build from a modified
// tree can carry an old one). Empty when the executable cannot be read.
var programDigest = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	sum, err := fileSHA256(exe)
	if err != nil {
		return ""
	}
	return sum
})

// fileSHA256 returns the hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("batch: %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (b *batch) buildAndPublish(ctx context.Context) (Outcome, error) {
	out := Outcome{Warehouse: b.ws.WarehouseFile()}
	files, err := b.led.Files()
	if err != nil {
		return out, err
	}
	fp, err := fingerprint(b.opt.Version, b.cfg.Marts, files)
	if err != nil {
		return out, err
	}
	b.run.Fingerprint = fp
	pubState := filepath.Join(b.ws.State(), "published.json")
	pub, err := readState(pubState)
	if err != nil {
		return out, fmt.Errorf("batch: %s: %w", pubState, err)
	}
	_, statErr := os.Stat(b.ws.WarehouseFile())
	if pub.Fingerprint == fp && statErr == nil && !b.opt.ForceBuild {
		b.log.Info("nothing new since the last published warehouse: not rebuilt", "published_batch", pub.BatchID)
		b.run.Status = StatusUnchanged
		b.run.Warehouse = b.ws.WarehouseFile()
	} else {
		start := time.Now()
		built, err := b.build(ctx, files, pub, &out)
		if err != nil {
			return out, err
		}
		b.run.WarehouseSeconds = time.Since(start).Seconds() - b.run.ExportSeconds
		now := b.opt.Now().UTC()
		if err := writeState(pubState, published{BatchID: b.run.BatchID, Fingerprint: fp, At: now, WarehouseSHA256: built}); err != nil {
			return out, err
		}
		if err := writeState(filepath.Join(b.ws.State(), "exported.json"), published{BatchID: b.run.BatchID, Fingerprint: b.exportKey(fp), At: now}); err != nil {
			return out, err
		}
		b.run.Status = StatusPublished
		b.run.Warehouse = b.ws.WarehouseFile()
		return out, nil
	}
	// The warehouse stands; its exports may not, if a crash came between the two renames
	// or the export settings changed.
	start := time.Now()
	exported, err := b.exportIfStale(ctx, fp)
	if err != nil {
		return out, err
	}
	b.run.ExportSeconds = time.Since(start).Seconds()
	out.Exports = exported
	return out, nil
}

// exportKey identifies the exports of a warehouse under the current export settings.
func (b *batch) exportKey(fp string) string {
	return fmt.Sprintf("%s suppress_below=%d", fp, b.cfg.Export.SuppressBelow)
}

// build builds the warehouse, exports from it and publishes both, and returns the SHA-256
// of the published warehouse file.
func (b *batch) build(ctx context.Context, files []ledger.File, pub published, out *Outcome) (string, error) {
	runs, err := b.led.Runs()
	if err != nil {
		return "", err
	}
	// The warehouse's _runs shows this run as it will stand once published.
	current := b.run
	current.Status = StatusPublished
	for i := range runs {
		if runs[i].BatchID == current.BatchID {
			runs[i] = current
		}
	}
	buildPath := filepath.Join(b.ws.Warehouse(), ".build-"+b.run.BatchID+".duckdb")
	in := warehouse.Input{
		Path:        buildPath,
		LakeDir:     b.ws.Lake(),
		Files:       files,
		Runs:        runs,
		Marts:       b.cfg.Marts,
		Resources:   &b.cfg.Warehouse,
		Logger:      b.log,
		BatchID:     b.run.BatchID,
		Fingerprint: b.run.Fingerprint,
	}
	if b.opt.ForceBuild {
		b.log.Info("full warehouse build", "why", "asked for (--force)")
	} else if pub.WarehouseSHA256 == "" {
		b.log.Info("full warehouse build", "why", "no published warehouse with its digest on record")
	} else {
		in.Base, in.BaseSHA256 = b.ws.WarehouseFile(), pub.WarehouseSHA256
		in.NewFiles = func(base warehouse.BuildInfo) ([]string, string) { return b.filesSince(base, files) }
	}
	res, err := warehouse.Build(ctx, in)
	var ce *warehouse.ChecksError
	if err != nil && res.Kind == "incremental" && !errors.As(err, &ce) && ctx.Err() == nil {
		// Whatever stopped the incremental build, a full build from the lake does not
		// depend on it.
		b.log.Warn("incremental warehouse build failed: building in full", "error", err)
		in.Base, in.BaseSHA256, in.NewFiles = "", "", nil
		res, err = warehouse.Build(ctx, in)
	}
	b.run.WarehouseBuild = res.Kind
	out.Checks, out.Tables = res.Checks, res.Tables
	for _, c := range res.Checks {
		if c.Failed() {
			if c.Severity == sqlmodels.SeverityError {
				b.run.ChecksFailed++
			} else {
				b.run.ChecksWarned++
			}
		}
	}
	if errors.As(err, &ce) {
		b.run.Status = StatusChecksFailed
		b.run.Message = fmt.Sprintf("%v; the last published warehouse is unchanged", err)
		if kept, kerr := b.keepFailedBuild(buildPath); kerr != nil {
			b.run.Message += fmt.Sprintf("; the failed build could not be kept: %v", kerr)
		} else {
			b.run.Message += "; the failed build is kept at " + kept
		}
		return "", err
	}
	if err != nil {
		return "", err
	}
	// The exports are made from the new file before it is published, so a failed export
	// leaves the last published warehouse and exports as they were.
	staging := filepath.Join(b.ws.Exports(), ".staging-"+b.run.BatchID)
	start := time.Now()
	if _, err := export.Run(ctx, buildPath, staging, export.Options{SuppressBelow: b.cfg.Export.SuppressBelow}); err != nil {
		os.Remove(buildPath)
		os.RemoveAll(staging)
		return "", err
	}
	b.run.ExportSeconds = time.Since(start).Seconds()
	sum, err := fileSHA256(buildPath)
	if err != nil {
		os.Remove(buildPath)
		os.RemoveAll(staging)
		return "", err
	}
	if err := warehouse.Publish(buildPath, b.ws.WarehouseFile(), b.ws.WarehouseHistory(), pub.BatchID, b.cfg.KeepWarehouses); err != nil {
		return "", err
	}
	written, err := publishExports(staging, b.ws.Exports())
	if err != nil {
		return "", err
	}
	out.Exports = written
	return sum, nil
}

// maxBuildsSinceFull bounds a chain of incremental builds: at least every seventh build is
// a full one, which reads every row from the lake again and writes a compact file.
const maxBuildsSinceFull = 6

// filesSince decides whether a build may start from base, a copy of the published
// warehouse, and add only the files delivered since (warehouse.Input.NewFiles). It may when
// base says it was built, by this program from the same SQL and mart constants, out of
// files whose ledger records are unchanged, and every file not in it arrived after all
// that are: then the restatement rule gives the new files' lines precedence, as a full
// build would. It returns the new files, or why the build must be full.
func (b *batch) filesSince(base warehouse.BuildInfo, files []ledger.File) (newFiles []string, whyFull string) {
	if base.BuildsSinceFull >= maxBuildsSinceFull {
		return nil, fmt.Sprintf("%d incremental builds since the last full one", base.BuildsSinceFull)
	}
	inBase := make(map[string]bool, len(base.Files))
	for _, sha := range base.Files {
		inBase[sha] = true
	}
	var held []ledger.File
	var lastArrival int64
	for _, f := range files {
		if inBase[f.SHA256] {
			held = append(held, f)
			lastArrival = max(lastArrival, f.Arrival)
		}
	}
	if len(held) != len(inBase) {
		return nil, "the published warehouse holds a file the ledger does not"
	}
	if fp, err := fingerprint(b.opt.Version, b.cfg.Marts, held); err != nil || fp != base.Fingerprint {
		return nil, "the program, the SQL, the mart constants or a file's ledger record changed since the published build"
	}
	for _, f := range files {
		if inBase[f.SHA256] {
			continue
		}
		if f.Arrival <= lastArrival {
			return nil, fmt.Sprintf("%s arrived before a file already published", f.SourcePath)
		}
		newFiles = append(newFiles, f.SHA256)
	}
	if len(newFiles) == 0 {
		return nil, "no new files"
	}
	return newFiles, ""
}

// keepFailedBuild moves a build whose data tests failed to failed-<batch>.duckdb for
// inspection, replacing the one an earlier night left: one is enough to debug, and a week
// of failures must not fill the disk.
func (b *batch) keepFailedBuild(buildPath string) (string, error) {
	old, err := filepath.Glob(filepath.Join(b.ws.Warehouse(), "failed-*.duckdb"))
	if err != nil {
		return "", err
	}
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return "", err
		}
	}
	failed := filepath.Join(b.ws.Warehouse(), "failed-"+b.run.BatchID+".duckdb")
	return failed, os.Rename(buildPath, failed)
}

// publishExports renames each staged export into dir and removes the staging folder.
func publishExports(staging, dir string) ([]string, error) {
	entries, err := os.ReadDir(staging)
	if err != nil {
		return nil, fmt.Errorf("batch: exports: %w", err)
	}
	var written []string
	for _, e := range entries {
		dst := filepath.Join(dir, e.Name())
		if err := fsutil.RenameDurable(filepath.Join(staging, e.Name()), dst); err != nil {
			return written, fmt.Errorf("batch: exports: %w", err)
		}
		written = append(written, dst)
	}
	return written, os.Remove(staging)
}

func (b *batch) exportIfStale(ctx context.Context, fp string) ([]string, error) {
	state := filepath.Join(b.ws.State(), "exported.json")
	key := b.exportKey(fp)
	prev, err := readState(state)
	if err != nil {
		return nil, err
	}
	opt := export.Options{SuppressBelow: b.cfg.Export.SuppressBelow}
	paths := export.Paths(b.ws.Exports(), opt)
	complete := true
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			complete = false
		}
	}
	if prev.Fingerprint == key && complete && !b.opt.ForceBuild {
		return paths, nil
	}
	written, err := export.Run(ctx, b.ws.WarehouseFile(), b.ws.Exports(), opt)
	if err != nil {
		return written, err
	}
	return written, writeState(state, published{BatchID: b.run.BatchID, Fingerprint: key, At: b.opt.Now().UTC()})
}
