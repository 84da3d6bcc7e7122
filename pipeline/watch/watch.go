// Package watch decides when deliveries in the inbox have settled: Scan lists what waits
// there (by the batch's own rules of what it reads), and Settler says when a listing has
// stayed the same long enough to start a batch. It polls rather than asking the kernel for
// file-change events, so it works on the network shares departments deliver to, where
// those events do not arrive. It starts nothing itself: the daemon (package serve) polls
// and starts the batch.
package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"time"
)

// State is what a poll sees of one file: a file whose size or modification time changes is
// still being written.
type State struct {
	Size    int64
	ModTime time.Time
}

// Snapshot is one listing of the inbox.
type Snapshot struct {
	// Files are the files a batch would read, by path relative to the inbox.
	Files map[string]State
	// Skipped are the entries a batch will never read (symbolic links, sockets, devices),
	// relative to the inbox: a delivery that needs a person.
	Skipped []string
}

// Scan lists the inbox at root by the batch's rules: names starting with "." or ending in
// "~" (uploads in progress, editor files) and the folders so named are passed over
// without a word; other entries that are not regular files are Skipped.
func Scan(root string) (Snapshot, error) {
	snap := Snapshot{Files: map[string]State{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != root {
				return nil // taken by a batch since the folder was read
			}
			return err
		}
		if p == root {
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			snap.Skipped = append(snap.Skipped, rel)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // gone since the listing
		}
		snap.Files[rel] = State{Size: info.Size(), ModTime: info.ModTime()}
		return nil
	})
	if err != nil {
		return snap, fmt.Errorf("watch: %s: %w", root, err)
	}
	return snap, nil
}

// Settler decides, poll by poll, when to start a batch: when the inbox holds files, none
// has changed (appeared, gone, grown, been touched) for Settle, and the files are not the
// same ones a batch was already started for. One burst of files therefore makes one batch,
// and files a batch leaves behind (too young for ingest.min_file_age_seconds, say) do not
// start batch after batch; they start one when they change or more arrive.
type Settler struct {
	Settle time.Duration

	last      map[string]State
	changedAt time.Time
	fired     map[string]State
}

// Observe takes one poll's files at now and reports whether to start a batch. When it says
// yes, the caller either starts one or, if a batch is already running, calls Retry so the
// files count as not yet handled.
func (s *Settler) Observe(now time.Time, files map[string]State) bool {
	if s.last == nil || !maps.Equal(s.last, files) {
		s.last = files
		s.changedAt = now
	}
	if len(files) == 0 {
		s.fired = nil
		return false
	}
	if now.Sub(s.changedAt) < s.Settle || maps.Equal(s.fired, files) {
		return false
	}
	s.fired = files
	return true
}

// Retry forgets the last yes: the files it was for are still waiting (a batch was running
// and could not start another), so the next poll that sees them settled says yes again.
func (s *Settler) Retry() { s.fired = nil }
