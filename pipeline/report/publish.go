package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
)

// LatestDir is the folder under the reports folder that always holds the newest published
// batch's page: a copy, not a link, so that the folder opens the same when copied to a
// shared drive.
const LatestDir = "latest"

// PagePath is where the page of batch id goes under the reports folder dir.
func PagePath(dir, id string) string { return filepath.Join(dir, id, "index.html") }

// Publish writes page as dir/<id>/index.html and, when latest is set, as
// dir/latest/index.html too. Each file appears by rename (written beside itself, synced,
// renamed): a reader, or a process stopped half way, never sees half a page.
func Publish(dir, id string, page []byte, latest bool) error {
	if id == "" || id == LatestDir || filepath.Base(id) != id {
		return fmt.Errorf("report: %q cannot name a report folder", id)
	}
	if err := fsutil.WriteFileAtomic(PagePath(dir, id), page, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if latest {
		return PublishLatest(dir, page)
	}
	return nil
}

// PublishLatest writes page as dir/latest/index.html by rename, unless it holds those
// bytes already.
func PublishLatest(dir string, page []byte) error {
	p := filepath.Join(dir, LatestDir, "index.html")
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, page) {
		return nil
	}
	if err := fsutil.WriteFileAtomic(p, page, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
