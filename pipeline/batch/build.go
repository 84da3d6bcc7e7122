package batch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/export"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

func (b *batch) buildAndPublish(ctx context.Context) (Outcome, error) {
	// out names only what this batch published: a build whose data tests failed leaves
	// the warehouse and exports as they were, and names none.
	var out Outcome
	// What build read from the new file for recordPublished is staged until then; a batch
	// that stops on the way leaves none of it behind (recordPublished has moved it in
	// place when it ran).
	defer func() {
		b.ready.discard()
		b.ready = nil
	}()
	b.stage = "keeping the published scorecard in the lake's history"
	if err := recordPublished(ctx, b.ws, b.log, nil); err != nil {
		return out, err
	}
	b.stage = "building the warehouse"
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
	_, markErr := os.Stat(b.ws.RebuildNeeded())
	if pub.Fingerprint == fp && statErr == nil && !b.opt.ForceBuild && markErr != nil {
		b.log.Info("nothing new since the last published warehouse: not rebuilt", "published_batch", pub.BatchID)
		b.run.Status = StatusUnchanged
		b.run.Warehouse = b.ws.WarehouseFile()
	} else {
		start := time.Now()
		built, builtID, err := b.build(ctx, files, pub, &out)
		if err != nil {
			return out, err
		}
		b.run.WarehouseSeconds = time.Since(start).Seconds() - b.run.ExportSeconds
		b.stage = "recording the published warehouse in state/"
		now := b.opt.Now().UTC()
		if err := writeState(pubState, published{BatchID: b.run.BatchID, Fingerprint: fp, At: now, WarehouseSHA256: built, WarehouseIdentity: builtID}); err != nil {
			return out, err
		}
		b.opt.reach("state saved")
		if err := writeState(filepath.Join(b.ws.State(), "exported.json"), published{BatchID: b.run.BatchID, Fingerprint: b.exportKey(fp), At: now}); err != nil {
			return out, err
		}
		b.run.Status = StatusPublished
		b.run.Warehouse = b.ws.WarehouseFile()
		out.Warehouse = b.run.Warehouse
		// A warehouse published from the lake as it now is: a repair's mark has done its job.
		if err := os.Remove(b.ws.RebuildNeeded()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return out, err
		}
		return out, recordPublished(ctx, b.ws, b.log, b.ready)
	}
	// The warehouse stands; its exports may not, if a crash came between the two renames
	// or the export settings changed.
	start := time.Now()
	exported, err := b.exportIfStale(ctx, fp)
	if err != nil {
		return out, err
	}
	if len(exported) > 0 {
		b.run.ExportSeconds = time.Since(start).Seconds()
	}
	out.Exports = exported
	return out, nil
}

// exportKey identifies the exports of a warehouse under the current export settings.
func (b *batch) exportKey(fp string) string {
	return fmt.Sprintf("%s suppress_below=%d", fp, b.cfg.Export.SuppressBelow)
}

// build builds the warehouse, exports from it and publishes both, and returns the SHA-256
// of the published warehouse file and its fsutil.Identity once published (nil where the
// system gives none).
func (b *batch) build(ctx context.Context, files []ledger.File, pub published, out *Outcome) (string, *fsutil.Identity, error) {
	runs, err := b.led.Runs()
	if err != nil {
		return "", nil, err
	}
	// The warehouse's _runs shows this run as it will stand once published.
	current := b.run
	current.Status = StatusPublished
	for i := range runs {
		if runs[i].BatchID == current.BatchID {
			runs[i] = current
		}
	}
	buildPath := b.buildPath()
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
		Progress:    b.buildProgress(),
	}
	if why := b.whyFull(pub); why != "" {
		b.log.Info("full warehouse build", "why", why)
	} else {
		in.Base, in.BaseSHA256, in.BaseIdentity = b.ws.WarehouseFile(), pub.WarehouseSHA256, pub.WarehouseIdentity
		in.NewFiles = func(base warehouse.BuildInfo) ([]string, string) { return b.filesSince(base, files) }
	}
	// The copy of the published warehouse started while the inbox was read, if any: the
	// build starts from it, or removes it.
	in.BaseCopy, b.baseCopy = b.baseCopy, nil
	// The exports, the digest and what recordPublished needs are taken from the finished
	// file while the build still has it open (finish); fin holds them.
	fin := &finishing{staging: filepath.Join(b.ws.Exports(), ".staging-"+b.run.BatchID)}
	defer fin.close()
	in.Finished = func(ctx context.Context, db *sql.DB) error { return b.finish(ctx, db, buildPath, fin) }
	res, err := warehouse.Build(ctx, in)
	var ce *warehouse.ChecksError
	if err != nil && res.Kind == "incremental" && !errors.As(err, &ce) && ctx.Err() == nil && fin.err == nil {
		// Whatever stopped the incremental build, a full build from the lake does not
		// depend on it.
		b.log.Warn("incremental warehouse build failed: building in full", "error", err)
		fromLake(&in)
		res, err = warehouse.Build(ctx, in)
	}
	// DuckDB spills most of its work to disk, but not all of it: a build over spend spread
	// across many files can still run out of memory at a small warehouse.memory_limit. A
	// night's build should not fail for that: it is done again with twice the limit, then
	// four times, and the log says to raise the setting.
	for limit, tries := in.Resources.MemoryLimit, 0; err != nil && warehouse.IsOutOfMemory(err) && limit != "" && tries < 2 && ctx.Err() == nil; tries++ {
		bytes, perr := config.ParseMemoryLimit(limit)
		if perr != nil {
			break
		}
		limit = fmt.Sprintf("%dMB", 2*bytes/1_000_000)
		b.log.Warn("the warehouse build ran out of memory at warehouse.memory_limit: building again with more; raise the setting if this recurs", "memory_limit", in.Resources.MemoryLimit, "retry_with", limit, "error", err)
		more := *in.Resources
		more.MemoryLimit = limit
		in.Resources = &more
		fromLake(&in)
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
		return "", nil, err
	}
	if err != nil {
		os.RemoveAll(fin.staging)
		return "", nil, err
	}
	// The exports, the digest and what recordPublished needs were taken from the finished
	// file by finish, before DuckDB closed it. The digest is of the bytes as finish found
	// them: should the close have changed the file after all, it is taken again.
	d := fin.digest()
	if d.err == nil {
		if now, err := fin.built.Stat(); err != nil || identityStamp(now) != identityStamp(fin.info) {
			b.log.Warn("the warehouse file changed as DuckDB closed it: its digest is taken again", "file", buildPath)
			d.sum, _, d.err = fsutil.SHA256Of(fin.built)
		}
	}
	if d.err != nil {
		os.Remove(buildPath)
		os.RemoveAll(fin.staging)
		return "", nil, d.err
	}
	ready := fin.ready
	sum := d.sum
	b.stage = "publishing the warehouse"
	if err := b.recordDigest(sum, pub.BatchID); err != nil {
		os.Remove(buildPath)
		os.RemoveAll(fin.staging)
		return "", nil, err
	}
	if err := warehouse.Publish(ctx, buildPath, b.ws.WarehouseFile(), b.ws.WarehouseHistory(), b.cfg.KeepWarehouses, warehouse.LiveFile{Batch: pub.BatchID, Identity: pub.WarehouseIdentity}); err != nil {
		return "", nil, err
	}
	b.opt.reach("warehouse published")
	// The file's identity as published: while the live file keeps it, the next
	// incremental build takes its bytes for these without reading them (warehouse.Input),
	// and recordPublished uses what was read from it before.
	// It is the digested file's identity, and only while the live path still names that
	// file.
	var published *fsutil.Identity
	if info, err := fin.built.Stat(); err == nil {
		id, ok := fsutil.IdentityOf(info)
		live, liveOK, err := fsutil.IdentityOfPath(b.ws.WarehouseFile())
		if ok && liveOK && err == nil && live == id {
			published = &id
			if ready != nil {
				ready.live.Identity = published
				b.ready = ready
				fin.ready = nil // handed over
			}
		}
	}
	written, err := publishExports(fin.staging, b.ws.Exports())
	if err != nil {
		return "", nil, err
	}
	out.Exports = written
	return sum, published, nil
}

// fromLake makes in a full build, from the lake alone: no base, no copy of it.
func fromLake(in *warehouse.Input) {
	in.Base, in.BaseSHA256, in.BaseIdentity, in.NewFiles, in.BaseCopy = "", "", nil, nil, nil
}

// buildPath is where the batch builds its warehouse, beside the published one.
func (b *batch) buildPath() string {
	return filepath.Join(b.ws.Warehouse(), ".build-"+b.run.BatchID+".duckdb")
}

// whyFull says why the build cannot start from the published warehouse, as pub records
// it, or "" when it may try (filesSince decides, from the copy's own build record).
func (b *batch) whyFull(pub published) string {
	if b.opt.ForceBuild {
		return "asked for (--force)"
	}
	if _, err := os.Stat(b.ws.RebuildNeeded()); err == nil {
		return "sofpipe verify --repair changed the lake"
	}
	if pub.RolledBack {
		return "the published warehouse was put back by sofpipe rollback"
	}
	if pub.WarehouseSHA256 == "" {
		return "no published warehouse with its digest on record"
	}
	return ""
}

// startBaseCopy starts the copy of the published warehouse that an incremental build
// starts from (warehouse.StartBaseCopy), unless it has started or the build will be full:
// called as the inbox shows a file, so that the disk copies while the file is read. known
// are the files delivered before this batch.
//
// First the page cache lets go of files the night will not read (releaseCold), the
// warehouse's size of them before the copy and as much again beside it: the copy and the
// build's memory take the pages they held. On a virtual machine that hands free memory
// back to its host (free page reporting; Firecracker, here), memory the system has not
// used lately is faulted in from the host at about 2 ms a megabyte: the 170 MB copy of a
// 5M-line warehouse took 0.35 s of such memory and 0.05-0.08 s of pages just let go, and a
// one-file night in make bench went from 1.47 s to about 1.05 s.
func (b *batch) startBaseCopy(ctx context.Context, known []ledger.File) {
	if b.baseCopy != nil {
		return
	}
	pub, err := readState(filepath.Join(b.ws.State(), "published.json"))
	if err != nil || b.whyFull(pub) != "" {
		return // the build says why
	}
	release := func() {
		if info, err := os.Stat(b.ws.WarehouseFile()); err == nil {
			releaseCold(b.ws, known, info.Size(), info.Size())
		}
	}
	b.baseCopy = warehouse.StartBaseCopy(ctx, b.ws.WarehouseFile(), b.buildPath(), pub.WarehouseSHA256, pub.WarehouseIdentity, release)
}

// releaseCold lets the page cache drop (fsutil.ReleaseCache) files the workspace keeps but
// a night does not read, the most recently written first (the likeliest to be cached
// still): the warehouses kept in history (read by a rollback) and the stored originals of
// the files known (read by verify and reread). It returns once their sizes add up to now
// (what the copy will take), and goes on in the background for later bytes more (what
// the build will take).
func releaseCold(ws workspace.Workspace, known []ledger.File, now, later int64) {
	paths, _ := warehouse.History(ws.WarehouseHistory())
	for _, f := range known {
		paths = append(paths, ws.StorePath(f.SHA256))
	}
	type cold struct {
		path  string
		size  int64
		mtime time.Time
	}
	var files []cold
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil {
			files = append(files, cold{p, info.Size(), info.ModTime()})
		}
	}
	slices.SortFunc(files, func(a, b cold) int { return b.mtime.Compare(a.mtime) })
	release := func(budget int64) {
		for len(files) > 0 && budget > 0 {
			fsutil.ReleaseCache(files[0].path)
			budget -= files[0].size
			files = files[1:]
		}
	}
	release(now)
	go release(later)
}

// finishing is what a batch takes from its build's finished file before DuckDB closes it
// (batch.finish), for the publish that follows.
type finishing struct {
	staging  string      // the exports, written here and published beside the warehouse
	built    *os.File    // the finished file, opened once: digested through this handle
	info     os.FileInfo // built as it was when its digest began
	digested chan digest // the digest of built, once taken
	ready    *readied    // for recordPublished, until handed to it
	err      error       // finish's error: the build is not made again in full for it
}

type digest struct {
	sum string
	err error
}

// digest waits for the digest finish started and returns it; an error when none is under
// way.
func (fin *finishing) digest() digest {
	if fin.digested == nil {
		return digest{err: errors.New("batch: no digest of the build was taken")}
	}
	d := <-fin.digested
	fin.digested = nil
	return d
}

// close releases what finish left that was not handed on, once its digest, if one is
// still being taken, is done with the file.
func (fin *finishing) close() {
	if fin.digested != nil {
		fin.digest()
	}
	if fin.built != nil {
		fin.built.Close()
		fin.built = nil
	}
	fin.ready.discard()
	fin.ready = nil
}

// finish is the build's warehouse.Input.Finished: with the file at buildPath built and
// checkpointed, and still open in db, it writes the exports to fin.staging and reads what
// recordPublished will need (readyRecord) through db, while the file's digest is taken on
// the other core. All only read the file. The exports are made before the file is
// published, so a failed export leaves the last published warehouse and exports as they
// were.
func (b *batch) finish(ctx context.Context, db *sql.DB, buildPath string, fin *finishing) error {
	fin.close() // what an earlier build of this batch left
	fin.err = nil
	b.stage = "exporting the marts"
	start := time.Now()
	built, err := os.Open(buildPath)
	if err == nil {
		fin.built = built
		fin.info, err = built.Stat()
	}
	if err != nil {
		fin.err = err
		return err
	}
	digested := make(chan digest, 1)
	fin.digested = digested
	go func() {
		sum, _, err := fsutil.SHA256Of(built)
		digested <- digest{sum, err}
	}()
	type readying struct {
		r   *readied
		err error
	}
	readied := make(chan readying, 1)
	go func() {
		r, err := readyRecord(ctx, b.ws, db, b.run.BatchID)
		readied <- readying{r, err}
	}()
	_, err = export.Write(ctx, db, fin.staging, export.Options{SuppressBelow: b.cfg.Export.SuppressBelow})
	b.run.ExportSeconds = time.Since(start).Seconds()
	ready := <-readied
	fin.ready = ready.r
	if ready.err != nil {
		// Not a reason to withhold the warehouse: recordPublished reads the live file.
		b.log.Warn("the scorecard history and report could not be read from the new warehouse before publishing it: they are read once it is live", "error", ready.err)
	}
	if err != nil {
		fin.digest() // done with built
		fin.err = err
		os.RemoveAll(fin.staging)
		return err
	}
	return nil
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

// exportIfStale exports the published warehouse again when the exports on disk are not
// its own under the current settings, and returns the files it wrote (none when they
// were).
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
		return nil, nil
	}
	written, err := export.Run(ctx, b.ws.WarehouseFile(), b.ws.Exports(), opt)
	if err != nil {
		return written, err
	}
	return written, writeState(state, published{BatchID: b.run.BatchID, Fingerprint: key, At: b.opt.Now().UTC()})
}

// recordDigest keeps the SHA-256 of the warehouse this batch is about to publish in
// state/warehouses.json (for sofpipe verify), with those of the files still kept: the live
// one (built by batch live) and the history's.
func (b *batch) recordDigest(sum, live string) error {
	kept, err := warehouse.History(b.ws.WarehouseHistory())
	if err != nil {
		return err
	}
	batches := []string{live}
	for _, p := range kept {
		id, _ := warehouse.HistoryBatch(p)
		batches = append(batches, id)
	}
	return warehouse.RecordDigest(b.ws.WarehouseDigests(), b.run.BatchID, sum, batches)
}
