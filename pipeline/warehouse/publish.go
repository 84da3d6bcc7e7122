package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
)

// Publish makes the built file the live one, read-only, by rename. The file it replaces is
// first linked into historyDir (for rollback) under the name of the batch that built it,
// read from its own _build record (HistoryName), and only the newest keep history files
// are kept. Readers holding the old file open are unaffected: they keep its inode until
// they close it. live is what the caller recorded of the live file (LiveFile).
func Publish(ctx context.Context, buildPath, livePath, historyDir string, keep int, live LiveFile) error {
	// Synced before it is made read-only, so that nothing here needs write access to a
	// read-only file (which only root has).
	if err := fsutil.SyncFile(buildPath); err != nil {
		return fmt.Errorf("warehouse: publish: %w", err)
	}
	// Read-only, so that a DuckDB opened on it read-write by mistake fails rather than
	// change what analysts and the next incremental build rely on.
	if err := os.Chmod(buildPath, 0o444); err != nil {
		return fmt.Errorf("warehouse: publish: %w", err)
	}
	if err := KeepInHistory(ctx, livePath, historyDir, keep, live); err != nil {
		return err
	}
	if err := fsutil.RenameDurable(buildPath, livePath); err != nil {
		return fmt.Errorf("warehouse: publish: %w", err)
	}
	return pruneHistory(historyDir, keep)
}

// LiveFile is what a caller recorded of the live warehouse when it published it: the
// batch that built it and the file's fsutil.Identity then. While the file keeps that
// identity it holds those bytes, so its batch is known without opening it. The zero
// LiveFile knows nothing: the file's own _build record is read.
type LiveFile struct {
	Batch    string
	Identity *fsutil.Identity
}

// batchOf returns the batch of the live file at path: lf's, when the file still has lf's
// identity, else its own _build record's (BatchOf).
func (lf LiveFile) batchOf(ctx context.Context, path string, info os.FileInfo) (string, error) {
	if lf.Is(info) {
		return lf.Batch, nil
	}
	return BatchOf(ctx, path)
}

// Is reports whether the file info describes is the one lf recorded (the same
// fsutil.Identity), and so holds lf.Batch's warehouse.
func (lf LiveFile) Is(info os.FileInfo) bool {
	if lf.Batch == "" || lf.Identity == nil {
		return false
	}
	id, ok := fsutil.IdentityOf(info)
	return ok && id == *lf.Identity
}

// KeepInHistory links the live warehouse, if there is one, into historyDir as
// HistoryName(its batch). keep 0 keeps no history. live is what the caller recorded of
// the live file (LiveFile).
func KeepInHistory(ctx context.Context, livePath, historyDir string, keep int, live LiveFile) error {
	if keep <= 0 {
		return nil
	}
	info, err := os.Stat(livePath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("warehouse: keep the published warehouse in history: %w", err)
	}
	batch, err := live.batchOf(ctx, livePath, info)
	if err != nil {
		return fmt.Errorf("warehouse: keep the published warehouse in history: %w", err)
	}
	if err := os.MkdirAll(historyDir, 0o755); err != nil {
		return fmt.Errorf("warehouse: publish: %w", err)
	}
	old := filepath.Join(historyDir, HistoryName(batch))
	if err := os.Link(livePath, old); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("warehouse: publish: keep previous: %w", err)
	}
	return fsutil.SyncDir(historyDir)
}

// HistoryName is the file name a warehouse built by batch has in the history folder.
func HistoryName(batch string) string { return "sof-" + batch + ".duckdb" }

// BatchOf returns the batch that built the warehouse file at path, from its own _build
// record, so that a file's name in the history always says what it holds, whatever was
// renamed by hand. The file is opened read-only and closed again before BatchOf returns
// (DuckDB keeps one instance per path per process while a handle is open).
func BatchOf(ctx context.Context, path string) (string, error) {
	db, err := Open(path, true)
	if err != nil {
		return "", err
	}
	defer db.Close()
	batch, err := ReadBatch(ctx, db)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return batch, nil
}

// ReadBatch is BatchOf for a warehouse already open.
func ReadBatch(ctx context.Context, db *sql.DB) (string, error) {
	var batch string
	if err := db.QueryRowContext(ctx, "SELECT batch_id FROM _build").Scan(&batch); err != nil {
		return "", fmt.Errorf("no build record (_build): %w", err)
	}
	if batch == "" || strings.ContainsAny(batch, `/\`) {
		return "", fmt.Errorf("build record names no usable batch (%q)", batch)
	}
	return batch, nil
}

// History lists the kept warehouse files, newest batch first. The order is the batches'
// (ledger.CompareBatchIDs), not the names': "sof-X-2.duckdb" sorts before "sof-X.duckdb"
// as text although batch X-2 came after X.
func History(historyDir string) ([]string, error) {
	entries, err := os.ReadDir(historyDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var batches []string
	for _, e := range entries {
		if b, ok := historyBatch(e.Name()); ok && e.Type().IsRegular() {
			batches = append(batches, b)
		}
	}
	slices.SortFunc(batches, func(a, b string) int { return ledger.CompareBatchIDs(b, a) })
	names := make([]string, len(batches))
	for i, b := range batches {
		names[i] = filepath.Join(historyDir, HistoryName(b))
	}
	return names, nil
}

// HistoryBatch returns the batch a history file's name says built it.
func HistoryBatch(path string) (string, bool) { return historyBatch(filepath.Base(path)) }

func historyBatch(name string) (string, bool) {
	if !strings.HasPrefix(name, "sof-") || !strings.HasSuffix(name, ".duckdb") {
		return "", false
	}
	b := strings.TrimSuffix(strings.TrimPrefix(name, "sof-"), ".duckdb")
	return b, b != ""
}

func pruneHistory(historyDir string, keep int) error {
	files, err := History(historyDir)
	if err != nil {
		return fmt.Errorf("warehouse: history: %w", err)
	}
	for i := max(keep, 0); i < len(files); i++ {
		if err := os.Remove(files[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("warehouse: history: %w", err)
		}
	}
	return nil
}

// Stamp is what a warehouse file says of itself: its build record and how many of its data
// tests failed or warned.
type Stamp struct {
	BuildInfo
	ChecksFailed, ChecksWarned int
}

// ReadStamp reads a warehouse file's Stamp, opening it read-only and closing it again.
func ReadStamp(ctx context.Context, path string) (Stamp, error) {
	var s Stamp
	db, err := Open(path, true)
	if err != nil {
		return s, err
	}
	defer db.Close()
	if s.BuildInfo, err = readBuild(ctx, db); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	err = db.QueryRowContext(ctx, "SELECT count(*) FILTER (status = 'fail'), count(*) FILTER (status = 'warn') FROM _checks").Scan(&s.ChecksFailed, &s.ChecksWarned)
	if err != nil {
		return s, fmt.Errorf("%s: _checks: %w", path, err)
	}
	return s, nil
}

// Digests reads the SHA-256 of each warehouse file as it was published, by the batch that
// built it (state/warehouses.json): sofpipe verify checks the live and kept files against
// them.
func Digests(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	var d map[string]string
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("warehouse: %s: %w", path, err)
	}
	if d == nil {
		d = map[string]string{}
	}
	return d, nil
}

// RecordDigest adds a warehouse file's digest to the record at path before it is
// published, and forgets the digests of batches whose files are neither live nor kept.
func RecordDigest(path, batch, sum string, kept []string) error {
	d, err := Digests(path)
	if err != nil {
		return err
	}
	d[batch] = sum
	keep := map[string]bool{batch: true}
	for _, k := range kept {
		keep[k] = true
	}
	for k := range d {
		if !keep[k] {
			delete(d, k)
		}
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, append(out, '\n'), 0o644)
}
