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
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/textutil"
)

// inboxFile is a file found waiting in the inbox.
type inboxFile struct {
	path string // absolute
	// rel is the name it was delivered as, relative to the inbox with forward slashes, as
	// valid UTF-8 (textutil.ToUTF8: a byte that is not UTF-8 read as Windows-1252, as SMB
	// and FTP clients write names), since every string written to Parquet or DuckDB must
	// be; rawRel holds the name's own bytes when they differ.
	rel    string
	rawRel string
	// claimedBy is the batch that had claimed the file (renamed it to a claim name beside
	// it) and stopped before it finished with it; empty for a file as delivered.
	claimedBy string
}

func newInboxFile(path, rel string) inboxFile {
	rel = filepath.ToSlash(rel)
	f := inboxFile{path: path, rel: textutil.ToUTF8(rel)}
	if f.rel != rel {
		f.rawRel = rel
	}
	return f
}

// claimPrefix starts the hidden name a batch renames a file to before it reads it (see
// claim), in the file's own folder so that the rename never crosses file systems.
const claimPrefix = ".sofpipe-claimed."

// claimName is the name batch gives the file name while it reads it.
func claimName(batch, name string) string { return claimPrefix + batch + "." + name }

// parseClaimName returns the batch and original name of a claim name.
func parseClaimName(name string) (batch, original string, ok bool) {
	rest, found := strings.CutPrefix(name, claimPrefix)
	if !found {
		return "", "", false
	}
	// Batch ids hold no dots.
	batch, original, ok = strings.Cut(rest, ".")
	return batch, original, ok && batch != "" && original != ""
}

// listInbox returns the files waiting in the inbox, in the order they count as arriving,
// with the files that a batch which stopped part way had claimed and not finished among
// them under the names they were delivered as. Entries that can never be read as a
// delivery (symbolic links, devices, folders it cannot list) are logged and counted in
// b.inboxSkipped, every batch, so that a delivery nobody will read is seen.
func (b *batch) listInbox() ([]inboxFile, error) {
	var files []inboxFile
	root := b.ws.Inbox()
	settle := time.Duration(b.cfg.Ingest.MinFileAgeSeconds) * time.Second
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if err != nil {
			if p == root {
				return err
			}
			b.inboxSkipped++
			b.log.Warn("inbox entry cannot be read: skipped until it can", "file", rel, "error", err)
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if batch, original, ok := parseClaimName(name); ok && d.Type().IsRegular() {
			f := newInboxFile(p, filepath.Join(filepath.Dir(rel), original))
			f.claimedBy = batch
			files = append(files, f)
			return nil
		}
		if p != root && (strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~")) {
			// Hidden and editor files, and uploads in progress named .partial or similar.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			b.inboxSkipped++
			b.log.Warn("inbox entry is not a regular file (a symbolic link, device or pipe): never read; deliver the file itself", "file", rel, "type", d.Type().String())
			return nil
		}
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
		files = append(files, newInboxFile(p, rel))
		return nil
	})
	// A file claimed by an earlier batch arrived before one now delivered under its name.
	sort.SliceStable(files, func(i, j int) bool {
		if files[i].rel == files[j].rel {
			return files[i].claimedBy != "" && files[j].claimedBy == ""
		}
		return arrivesBefore(files[i].rel, files[j].rel)
	})
	return files, err
}

// claim renames a delivered file to a claim name beside it before the batch reads it, so
// that whatever is delivered under the name meanwhile (a correction uploaded as .name and
// renamed over it) is a new file that this batch leaves alone for the next, instead of
// bytes it would delete unread. It returns the path to read and, in the end, to remove.
func (b *batch) claim(f inboxFile) (string, error) {
	if f.claimedBy != "" {
		return f.path, nil
	}
	claimed := filepath.Join(filepath.Dir(f.path), claimName(b.run.BatchID, filepath.Base(f.path)))
	if err := os.Rename(f.path, claimed); err != nil {
		return "", err
	}
	return claimed, nil
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
	// A file that a batch which stopped part way had claimed is done when that batch's
	// record holds its delivery: only the claimed copy is left to remove.
	done := map[[2]string]bool{}
	for _, r := range b.earlier {
		for _, d := range r.Deliveries {
			done[[2]string{r.BatchID, d.SourcePath}] = true
		}
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.claimedBy != "" && done[[2]string{f.claimedBy, f.rel}] {
			if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("batch: %w", err)
			}
			continue
		}
		b.stage = "claiming " + f.rel
		path, err := b.claim(f)
		if errors.Is(err, fs.ErrNotExist) {
			b.log.Warn("file left the inbox before it could be read: skipped", "file", f.rel)
			continue
		}
		if err != nil {
			return fmt.Errorf("batch: claim %s: %w", f.rel, err)
		}
		b.reading = &claimedFile{original: f.path, claimed: path}
		if b.opt.afterClaim != nil {
			b.opt.afterClaim(f.rel)
		}
		b.stage = "storing the original of " + f.rel
		sha, size, err := b.keepOriginal(path)
		if errors.Is(err, fs.ErrPermission) {
			// A delivery the service user may not read stays where it was, under its own
			// name, and is read on a later night once its permissions are mended.
			b.inboxSkipped++
			b.log.Warn("file cannot be read by this user: left in the inbox for a later batch", "file", f.rel, "error", err)
			if _, statErr := os.Lstat(f.path); errors.Is(statErr, fs.ErrNotExist) {
				if err := os.Rename(path, f.path); err != nil {
					return fmt.Errorf("batch: give back %s: %w", f.rel, err)
				}
			}
			b.reading = nil
			continue
		}
		if err != nil {
			return fmt.Errorf("batch: keep original of %s: %w", f.rel, err)
		}
		delivery := ledger.Delivery{SHA256: sha, SourcePath: f.rel, SourcePathBytes: []byte(f.rawRel), ReceivedAt: b.opt.Now().UTC(), SizeBytes: size}
		// Only bytes that were taken in are duplicates. Bytes once rejected or quarantined
		// (a misfiled copy, a layout no profile knew yet) are read again: the department
		// or the operator has put them back for a reason.
		if prev, ok := bySHA[sha]; ok && prev.Status == ledger.StatusIngested {
			b.log.Info("file already ingested: same bytes as an earlier delivery", "file", f.rel, "first_delivered_as", prev.SourcePath, "sha256", sha)
			delivery.Status = ledger.StatusDuplicate
			b.run.FilesDuplicate++
		} else {
			arrival++
			// A file to read: the disk copies the published warehouse for the build
			// meanwhile.
			b.startBaseCopy(ctx, known)
			b.stage = "reading " + f.rel + " into the lake"
			rec, err := b.ingestOne(ctx, f, sha, size, arrival)
			if err != nil {
				return err
			}
			bySHA[sha] = rec
			delivery.Status = rec.Status
		}
		b.opt.reach("file committed")
		b.run.Deliveries = append(b.run.Deliveries, delivery)
		b.reading.recorded = true
		b.stage = "recording the delivery of " + f.rel
		// The run record is saved with each delivery, so a crash never loses what the
		// run had already done (a crash before this line is tidied by recoverRuns).
		if err := b.led.SaveRun(b.run); err != nil {
			return err
		}
		b.opt.reach("delivery recorded")
		// The bytes are in the store and the ledger says what became of them: the claimed
		// copy has done its job. Whatever was delivered under the name since is not
		// touched.
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("batch: %w", err)
		}
		b.reading = nil
	}
	return nil
}

// keepOriginal copies an inbox file into the content-addressed store, hashing the bytes as
// it copies them, so the stored file holds exactly the bytes its name is the digest of even
// if the inbox copy changes meanwhile. The ingest then reads the stored copy.
func (b *batch) keepOriginal(path string) (sha string, size int64, err error) {
	in, err := os.Open(path)
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
	// The disk writes the copy as it is made, so the Sync below waits for its tail only.
	if size, err = io.Copy(io.MultiWriter(fsutil.WritebackWriter(tmp), h), in); err != nil {
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
	rec := ledger.File{SHA256: sha, SourcePath: f.rel, SourcePathBytes: []byte(f.rawRel), Arrival: arrival, BatchID: b.run.BatchID, ReceivedAt: b.opt.Now().UTC(), SizeBytes: size}
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
	res, err := b.readIntoLake(ctx, &rec, ds, profile)
	if err != nil {
		return rec, err
	}
	b.stage = "recording " + f.rel + " in the ledger"
	if err := b.led.Commit(rec); err != nil {
		// Uncommitted, its lake files count for nothing: they go, and a later batch
		// reads the file again.
		for _, p := range rec.LakePaths() {
			os.Remove(filepath.Join(b.ws.Lake(), filepath.FromSlash(p)))
		}
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

// readIntoLake reads the stored original of rec into the lake as ds under profile, with
// this batch's id and the config's ingest settings, and fills in rec what became of it
// (counts, status, lake files with their digests, how it was read). The caller commits
// rec.
func (b *batch) readIntoLake(ctx context.Context, rec *ledger.File, ds *contract.Dataset, profile *config.Profile) (ingest.Result, error) {
	stage := filepath.Join(b.ws.Staging(), b.run.BatchID)
	opt := ingest.OptionsFrom(b.cfg.Ingest)
	opt.BatchID, opt.StageDir, opt.Logger = b.run.BatchID, stage, b.log
	opt.Progress = b.fileProgress(rec.SourcePath, rec.SizeBytes)
	readWith, err := json.Marshal(ingest.ReadSettings{Ingest: b.cfg.Ingest, Profile: profile})
	if err != nil {
		return ingest.Result{}, err
	}
	res, described, err := ingest.IntoLake(ctx, ingest.Input{Path: b.ws.StorePath(rec.SHA256), Source: rec.SourcePath, SHA256: rec.SHA256, Dataset: ds, Profile: profile}, opt, b.ws.Lake(), nil)
	if err != nil {
		return res, err
	}
	rec.Encoding = res.Encoding
	rec.RowsRead, rec.RowsAccepted, rec.RowsRejected = res.RowsRead, res.RowsAccepted, res.RowsRejected
	rec.Status, rec.Reason, rec.Message = string(res.Status), string(res.Reason), res.Message
	rec.IgnoredColumns = res.IgnoredColumns
	rec.HeaderLine, rec.SkippedLines, rec.MoneyRounded = res.HeaderLine, res.SkippedLines, res.MoneyRounded
	rec.RejectsByReason = nil
	if len(res.RejectsByReason) > 0 {
		rec.RejectsByReason = map[string]int64{}
		for r, n := range res.RejectsByReason {
			rec.RejectsByReason[string(r)] = n
		}
	}
	rec.Outputs, rec.RejectsFile, rec.LakeFiles, rec.ReadWith = res.Outputs, res.RejectsFile, described, readWith
	return res, nil
}
