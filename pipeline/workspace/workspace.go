// Package workspace names the folders of a sofpipe workspace and owns its lock. Every path
// the pipeline touches is built here, so the layout is written down once:
//
//	inbox/<dataset>/*.csv         files as departments deliver them
//	store/sha256/<ab>/<sha256>    the original bytes of every delivered file, by content
//	lake/<dataset>/…/*.parquet    accepted rows (Hive partitions where the dataset has one)
//	lake/_rejects/*.parquet       rejected rows with line, raw text and reason
//	lake/_ledger/files/*.json     one commit record per ingested file (what the lake holds)
//	lake/_ledger/runs/*.json      one record per batch
//	lake/_staging/<batch>/        a batch's files before they are published by rename
//	warehouse/sof.duckdb          the published warehouse; history/ keeps the last few
//	lake/_history/scorecard/      every published batch's scorecard (pipeline/history)
//	exports/                      summary Parquet and CSV
//	reports/<batch>/index.html    each published batch's report; reports/latest/ the newest
//	.lock                         held by the process that owns the workspace
package workspace

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
)

// Workspace is a workspace root.
type Workspace struct{ Root string }

// New returns the workspace at root (made absolute so log lines and DuckDB paths are
// unambiguous).
func New(root string) (Workspace, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return Workspace{}, err
	}
	return Workspace{Root: abs}, nil
}

func (w Workspace) Inbox() string         { return filepath.Join(w.Root, "inbox") }
func (w Workspace) Store() string         { return filepath.Join(w.Root, "store", "sha256") }
func (w Workspace) Lake() string          { return filepath.Join(w.Root, "lake") }
func (w Workspace) LedgerFiles() string   { return filepath.Join(w.Root, "lake", "_ledger", "files") }
func (w Workspace) LedgerRuns() string    { return filepath.Join(w.Root, "lake", "_ledger", "runs") }
func (w Workspace) Staging() string       { return filepath.Join(w.Root, "lake", "_staging") }
func (w Workspace) Warehouse() string     { return filepath.Join(w.Root, "warehouse") }
func (w Workspace) WarehouseFile() string { return filepath.Join(w.Root, "warehouse", "sof.duckdb") }
func (w Workspace) WarehouseHistory() string {
	return filepath.Join(w.Root, "warehouse", "history")
}
func (w Workspace) Exports() string { return filepath.Join(w.Root, "exports") }
func (w Workspace) Reports() string { return filepath.Join(w.Root, "reports") }
func (w Workspace) State() string   { return filepath.Join(w.Root, "state") }

// RebuildNeeded is the mark sofpipe verify --repair leaves while the warehouse still has
// to be built from the repaired lake; a batch that publishes removes it.
func (w Workspace) RebuildNeeded() string {
	return filepath.Join(w.Root, "state", "verify-rebuild-needed")
}

// WarehouseDigests is where the SHA-256 of each published warehouse file is kept.
func (w Workspace) WarehouseDigests() string {
	return filepath.Join(w.Root, "state", "warehouses.json")
}

// StorePath is where the original bytes with this digest are kept.
func (w Workspace) StorePath(sha string) string {
	return filepath.Join(w.Store(), sha[:2], sha)
}

// Init creates the folders a batch needs.
func (w Workspace) Init() error {
	for _, d := range []string{w.Inbox(), w.Store(), w.LedgerFiles(), w.LedgerRuns(), w.Staging(), w.WarehouseHistory(), w.Exports(), w.State()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("workspace: %w", err)
		}
	}
	return nil
}

// Lock takes the workspace for this process; a second process gets fsutil.ErrLocked.
func (w Workspace) Lock() (*fsutil.Lock, error) {
	return fsutil.TryLock(w.lockPath())
}

// AdoptLock takes over the lock a parent process holds on the workspace and passed down as
// descriptor fd (sofpipe serve runs each batch as a child process).
func (w Workspace) AdoptLock(fd uintptr) (*fsutil.Lock, error) {
	return fsutil.AdoptLock(fd, w.lockPath())
}

func (w Workspace) lockPath() string { return filepath.Join(w.Root, ".lock") }
