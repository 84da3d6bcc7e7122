// Package verify checks a workspace against its own records, as restic's check and git's
// fsck do for theirs: every stored original still hashes to its name, every lake file the
// ledger counts still has the digest and rows recorded when it was written, every
// published warehouse still has the digest recorded when it was published, and ledger,
// lake and store agree (nothing counted is missing, nothing present is uncounted). Repair
// rebuilds what can be rebuilt from what is sound: lake files are read again from their
// stored originals, as they were read the first time; an original that cannot be repaired
// is moved aside and the damage recorded, its lake rows kept.
//
// The package reads and repairs; it never builds a warehouse. A caller that repaired the
// lake or found the live warehouse damaged builds a new one (sofpipe verify --repair runs
// a full batch).
package verify

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// Kinds of problem, stable for scripts (sofpipe verify --format json) and tests.
const (
	OriginalDamaged  = "original_damaged"  // a stored original's bytes no longer hash to its name
	OriginalMissing  = "original_missing"  // the ledger records a file whose original is not stored
	LakeMissing      = "lake_missing"      // a lake file the ledger counts is gone
	LakeDamaged      = "lake_damaged"      // a lake file's bytes or rows differ from its record
	LakeOrphan       = "lake_orphan"       // a lake file no ledger record counts
	WarehouseDamaged = "warehouse_damaged" // a published warehouse's bytes differ from publish
	WarehouseStale   = "warehouse_stale"   // a repair changed the lake and the warehouse was not built again
)

// Problem is one thing found wrong.
type Problem struct {
	Kind   string `json:"kind"`
	Path   string `json:"path"` // relative to the workspace
	Detail string `json:"detail"`
	// SHA256 is the original's digest the problem concerns, where there is one.
	SHA256 string `json:"sha256,omitempty"`
}

func (p Problem) String() string { return fmt.Sprintf("%s: %s: %s", p.Kind, p.Path, p.Detail) }

// Report is what Check found.
type Report struct {
	Originals, LakeFiles, Warehouses int // how many of each were checked
	Problems                         []Problem
	// Notes are what is not damage but worth knowing: records from before digests were
	// kept, originals stored but not yet recorded (a batch stopped after storing them:
	// the next batch reads them).
	Notes []string
}

// Sound reports whether nothing was found wrong.
func (r Report) Sound() bool { return len(r.Problems) == 0 }

// Check checks the workspace. The caller holds the workspace lock, so that no batch
// writes while it looks.
func Check(ctx context.Context, ws workspace.Workspace) (Report, error) {
	var r Report
	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	files, err := led.Files()
	if err != nil {
		return r, err
	}
	if err := checkOriginals(ctx, ws, files, &r); err != nil {
		return r, err
	}
	if err := checkLake(ctx, ws, files, &r); err != nil {
		return r, err
	}
	if err := checkWarehouses(ws, &r); err != nil {
		return r, err
	}
	if _, err := os.Stat(rebuildMark(ws)); err == nil {
		r.Problems = append(r.Problems, Problem{Kind: WarehouseStale, Path: rel(ws, ws.WarehouseFile()),
			Detail: "a repair changed the lake and stopped before the warehouse was built again: it may still hold what was repaired"})
	}
	sort.SliceStable(r.Problems, func(i, j int) bool { return r.Problems[i].Path < r.Problems[j].Path })
	return r, nil
}

func rel(ws workspace.Workspace, p string) string {
	r, err := filepath.Rel(ws.Root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

func checkOriginals(ctx context.Context, ws workspace.Workspace, files []ledger.File, r *Report) error {
	recorded := map[string]ledger.File{}
	for _, f := range files {
		recorded[f.SHA256] = f
	}
	stored := map[string]bool{}
	err := filepath.WalkDir(ws.Store(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if _, err := hex.DecodeString(name); err != nil || len(name) != 64 {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: not an original (its name is no SHA-256): left alone", rel(ws, p)))
			return nil
		}
		r.Originals++
		stored[name] = true
		got, _, err := fsutil.SHA256File(p)
		if err != nil {
			return err
		}
		if got != name {
			r.Problems = append(r.Problems, Problem{Kind: OriginalDamaged, Path: rel(ws, p), SHA256: name,
				Detail: fmt.Sprintf("its bytes hash to %s: they changed since they were stored", got)})
		}
		if _, ok := recorded[name]; !ok {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: stored but not recorded (a batch stopped after storing it; the next batch reads it if it is still in the inbox)", rel(ws, p)))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("verify: store: %w", err)
	}
	for _, f := range files {
		if !stored[f.SHA256] && f.Damage == "" {
			r.Problems = append(r.Problems, Problem{Kind: OriginalMissing, Path: rel(ws, ws.StorePath(f.SHA256)), SHA256: f.SHA256,
				Detail: fmt.Sprintf("the original of %s is not stored: its lake rows stand, but it can never be read again", f.SourcePath)})
		}
	}
	return nil
}

// lakeAreas are the lake's folders that hold no files of the ledger's records.
var lakeAreas = map[string]bool{"_ledger": true, "_staging": true, "_history": true}

func checkLake(ctx context.Context, ws workspace.Workspace, files []ledger.File, r *Report) error {
	counted := map[string]bool{}
	for _, f := range files {
		for _, p := range f.LakePaths() {
			counted[p] = true
			if err := ctx.Err(); err != nil {
				return err
			}
			r.LakeFiles++
			full := filepath.Join(ws.Lake(), filepath.FromSlash(p))
			want, recordedDigest := f.LakeFiles[p]
			got, err := ingest.DescribeFile(full)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				r.Problems = append(r.Problems, Problem{Kind: LakeMissing, Path: "lake/" + p, SHA256: f.SHA256,
					Detail: fmt.Sprintf("the ledger counts it for %s, but it is gone", f.SourcePath)})
			case err != nil && recordedDigest:
				r.Problems = append(r.Problems, Problem{Kind: LakeDamaged, Path: "lake/" + p, SHA256: f.SHA256, Detail: err.Error()})
			case err != nil:
				r.Problems = append(r.Problems, Problem{Kind: LakeDamaged, Path: "lake/" + p, SHA256: f.SHA256, Detail: err.Error()})
			case !recordedDigest:
				r.Notes = append(r.Notes, fmt.Sprintf("lake/%s: no digest recorded (written before sofpipe kept them); it reads as Parquet with %d rows", p, got.Rows))
			case got.SHA256 != want.SHA256 || got.Rows != want.Rows:
				r.Problems = append(r.Problems, Problem{Kind: LakeDamaged, Path: "lake/" + p, SHA256: f.SHA256,
					Detail: fmt.Sprintf("SHA-256 %s and %d rows, recorded %s and %d rows when written", got.SHA256, got.Rows, want.SHA256, want.Rows)})
			}
		}
	}
	err := filepath.WalkDir(ws.Lake(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		inLake := strings.TrimPrefix(rel(ws, p), "lake/")
		if d.IsDir() {
			if lakeAreas[inLake] {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".parquet") && !counted[inLake] {
			r.Problems = append(r.Problems, Problem{Kind: LakeOrphan, Path: "lake/" + inLake,
				Detail: "no ledger record counts it, so no build reads it (left by a reading since replaced, or put there by hand)"})
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("verify: lake: %w", err)
	}
	return nil
}

func checkWarehouses(ws workspace.Workspace, r *Report) error {
	digests, err := warehouse.Digests(ws.WarehouseDigests())
	if err != nil {
		return err
	}
	check := func(path, batch string) error {
		r.Warehouses++
		want, ok := digests[batch]
		if !ok {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: no digest recorded at publish (published before sofpipe kept them)", rel(ws, path)))
			return nil
		}
		got, _, err := fsutil.SHA256File(path)
		if err != nil {
			return err
		}
		if got != want {
			r.Problems = append(r.Problems, Problem{Kind: WarehouseDamaged, Path: rel(ws, path),
				Detail: fmt.Sprintf("SHA-256 %s, published as %s: it changed after it was published", got, want)})
		}
		return nil
	}
	if _, err := os.Stat(ws.WarehouseFile()); err == nil {
		// The live file's batch is in its own _build, but a damaged file may not open:
		// its bytes are matched against every digest first.
		r.Warehouses++
		got, _, err := fsutil.SHA256File(ws.WarehouseFile())
		if err != nil {
			return err
		}
		known := false
		for _, d := range digests {
			known = known || d == got
		}
		if !known {
			batch, err := warehouse.BatchOf(context.Background(), ws.WarehouseFile())
			_, recorded := digests[batch]
			switch {
			case err != nil:
				r.Problems = append(r.Problems, Problem{Kind: WarehouseDamaged, Path: rel(ws, ws.WarehouseFile()), Detail: fmt.Sprintf("SHA-256 %s matches no published warehouse, and it does not open: %v", got, err)})
			case recorded:
				r.Problems = append(r.Problems, Problem{Kind: WarehouseDamaged, Path: rel(ws, ws.WarehouseFile()),
					Detail: fmt.Sprintf("SHA-256 %s, published as %s: it changed after it was published", got, digests[batch])})
			default:
				r.Notes = append(r.Notes, fmt.Sprintf("%s: no digest recorded at publish (published before sofpipe kept them)", rel(ws, ws.WarehouseFile())))
			}
		}
	}
	kept, err := warehouse.History(ws.WarehouseHistory())
	if err != nil {
		return err
	}
	for _, p := range kept {
		batch, _ := warehouse.HistoryBatch(p)
		if err := check(p, batch); err != nil {
			return err
		}
	}
	return nil
}
