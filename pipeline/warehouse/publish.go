package warehouse

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
)

// Publish makes the built file the live one, read-only, by rename. The file it replaces is first linked
// into historyDir as sof-<previousBatch>.duckdb (for rollback), and only the newest keep
// history files are kept. Readers holding the old file open are unaffected: they keep its
// inode until they close it.
func Publish(buildPath, livePath, historyDir, previousBatch string, keep int) error {
	// Read-only, so that a DuckDB opened on it read-write by mistake fails rather than
	// change what analysts and the next incremental build rely on.
	if err := os.Chmod(buildPath, 0o444); err != nil {
		return fmt.Errorf("warehouse: publish: %w", err)
	}
	if err := fsutil.SyncFile(buildPath); err != nil {
		return fmt.Errorf("warehouse: publish: %w", err)
	}
	if previousBatch != "" && keep > 0 {
		if err := os.MkdirAll(historyDir, 0o755); err != nil {
			return fmt.Errorf("warehouse: publish: %w", err)
		}
		old := filepath.Join(historyDir, "sof-"+previousBatch+".duckdb")
		if err := os.Link(livePath, old); err != nil && !errors.Is(err, fs.ErrExist) && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("warehouse: publish: keep previous: %w", err)
		}
	}
	if err := fsutil.RenameDurable(buildPath, livePath); err != nil {
		return fmt.Errorf("warehouse: publish: %w", err)
	}
	return pruneHistory(historyDir, keep)
}

// History lists the kept warehouse files, newest first.
func History(historyDir string) ([]string, error) {
	entries, err := os.ReadDir(historyDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "sof-") && strings.HasSuffix(e.Name(), ".duckdb") {
			names = append(names, e.Name())
		}
	}
	// Batch ids are UTC timestamps, so names sort by age.
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for i, n := range names {
		names[i] = filepath.Join(historyDir, n)
	}
	return names, nil
}

func pruneHistory(historyDir string, keep int) error {
	files, err := History(historyDir)
	if err != nil {
		return fmt.Errorf("warehouse: history: %w", err)
	}
	for i := keep; i < len(files); i++ {
		if err := os.Remove(files[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("warehouse: history: %w", err)
		}
	}
	return nil
}
