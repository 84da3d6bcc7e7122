package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/fsutil"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ingest"
	"github.com/evaluation-taskforce/sofpipe/pipeline/ledger"
	"github.com/evaluation-taskforce/sofpipe/pipeline/workspace"
)

// Repaired says what Repair did.
type Repaired struct {
	Fixed []string  // one line per repair
	Left  []Problem // what could not be repaired, with why in Detail
	// Rebuild says the warehouse must be built again: lake files it reads were
	// rewritten, or the live warehouse was damaged (and moved aside).
	Rebuild bool
}

// Repair mends what Check found, from what is sound. The caller holds the workspace lock.
//
//   - A missing or damaged lake file is written again from its stored original, read as it
//     was the first time (the settings and profile its ledger record keeps, the batch id it
//     had), and taken only if the reading gives the counts the ledger recorded; all of that
//     file's lake files are replaced together, and their new digests recorded.
//   - A damaged original is moved to store/damaged/ and the damage recorded in its ledger
//     record; its lake rows are kept. When its lake files are damaged too, nothing of the
//     file can be used: its record is quarantined (reason damaged), its lake files removed,
//     and the message says to ask for the file again.
//   - A lake file no record counts is removed (no build reads it).
//   - A damaged kept warehouse is moved to warehouse/damaged/; a damaged live one too, and
//     Rebuild is set.
func Repair(ctx context.Context, ws workspace.Workspace, cfg config.Config, rep Report, log *slog.Logger) (Repaired, error) {
	var out Repaired
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Until the warehouse is built again, it may hold what the repair changes: a repair
	// stopped part way leaves this mark, and Check reports the warehouse stale until a
	// build clears it (RebuildDone).
	if err := fsutil.WriteFileAtomic(rebuildMark(ws), []byte("sofpipe verify --repair changed the lake; the warehouse must be built again\n"), 0o644); err != nil {
		return out, err
	}
	led := ledger.Open(ws.LedgerFiles(), ws.LedgerRuns())
	files, err := led.Files()
	if err != nil {
		return out, err
	}
	bySHA := map[string]ledger.File{}
	for _, f := range files {
		bySHA[f.SHA256] = f
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")

	damagedOriginal := map[string]bool{}
	for _, p := range rep.Problems {
		if p.Kind != OriginalDamaged {
			continue
		}
		damagedOriginal[p.SHA256] = true
		aside := filepath.Join(filepath.Dir(ws.Store()), "damaged", p.SHA256+"-"+stamp)
		if err := os.MkdirAll(filepath.Dir(aside), 0o755); err != nil {
			return out, err
		}
		if err := fsutil.RenameDurable(filepath.Join(ws.Root, filepath.FromSlash(p.Path)), aside); err != nil {
			return out, fmt.Errorf("verify: move damaged original aside: %w", err)
		}
		if f, ok := bySHA[p.SHA256]; ok {
			f.Damage = fmt.Sprintf("found by sofpipe verify on %s: %s; the damaged bytes were moved to %s; the lake's rows of this file are kept", stamp, p.Detail, rel(ws, aside))
			if err := led.Commit(f); err != nil {
				return out, err
			}
			bySHA[p.SHA256] = f
		}
		out.Fixed = append(out.Fixed, fmt.Sprintf("%s: damaged original moved to %s and recorded in the ledger; its lake rows are kept", p.Path, rel(ws, aside)))
	}

	// Lake files to read again, by original. A file whose original is damaged too cannot
	// be: its record is quarantined, so that builds go on without its rows instead of
	// stopping at its damaged lake file every night, and says to ask for it again.
	var reread, lost []string
	for _, p := range rep.Problems {
		if p.Kind != LakeMissing && p.Kind != LakeDamaged {
			continue
		}
		f, ok := bySHA[p.SHA256]
		_, statErr := os.Stat(ws.StorePath(p.SHA256))
		switch {
		case !ok:
		case damagedOriginal[p.SHA256] || f.Damage != "" || errors.Is(statErr, fs.ErrNotExist):
			if !slices.Contains(lost, p.SHA256) {
				lost = append(lost, p.SHA256)
			}
		case !slices.Contains(reread, p.SHA256):
			reread = append(reread, p.SHA256)
		}
	}
	for _, sha := range lost {
		f := bySHA[sha]
		for _, p := range f.LakePaths() {
			os.Remove(filepath.Join(ws.Lake(), filepath.FromSlash(p)))
		}
		f.Outputs, f.RejectsFile, f.LakeFiles = nil, "", nil
		f.Status, f.Reason = ledger.StatusQuarantined, "damaged"
		f.Message = fmt.Sprintf("its lake files were damaged and its stored original is damaged or missing (found by sofpipe verify on %s), so none of its rows can be used: ask for the file again; delivered again, it is read afresh", stamp)
		if err := led.Commit(f); err != nil {
			return out, err
		}
		out.Rebuild = true
		out.Fixed = append(out.Fixed, fmt.Sprintf("%s: its lake files are damaged and its original damaged or missing: quarantined, its rows left out of the warehouse; ask for the file again", f.SourcePath))
	}
	for i, sha := range reread {
		f, ok := bySHA[sha]
		if !ok {
			continue
		}
		stage := filepath.Join(ws.Staging(), "repair-"+stamp+"-"+strconv.Itoa(i))
		fixed, err := readAgain(ctx, ws, cfg, f, stage, log)
		os.RemoveAll(stage)
		if err != nil {
			out.Left = append(out.Left, Problem{Kind: LakeDamaged, Path: rel(ws, ws.StorePath(sha)), SHA256: sha, Detail: err.Error()})
			continue
		}
		if err := led.Commit(fixed); err != nil {
			return out, err
		}
		out.Rebuild = true
		out.Fixed = append(out.Fixed, fmt.Sprintf("lake files of %s read again from its original: %d rows in %d file(s), as recorded", f.SourcePath, fixed.RowsAccepted, len(fixed.LakePaths())))
	}

	for _, p := range rep.Problems {
		switch p.Kind {
		case LakeOrphan:
			if err := os.Remove(filepath.Join(ws.Root, filepath.FromSlash(p.Path))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return out, err
			}
			out.Fixed = append(out.Fixed, p.Path+": removed (no ledger record counts it)")
		case WarehouseDamaged:
			aside := filepath.Join(ws.Warehouse(), "damaged", stamp+"-"+filepath.Base(p.Path))
			if err := os.MkdirAll(filepath.Dir(aside), 0o755); err != nil {
				return out, err
			}
			if err := fsutil.RenameDurable(filepath.Join(ws.Root, filepath.FromSlash(p.Path)), aside); err != nil {
				return out, err
			}
			out.Fixed = append(out.Fixed, fmt.Sprintf("%s: damaged warehouse moved to %s", p.Path, rel(ws, aside)))
			if filepath.Join(ws.Root, filepath.FromSlash(p.Path)) == ws.WarehouseFile() {
				out.Rebuild = true
			}
		case OriginalMissing:
			out.Left = append(out.Left, p)
		case WarehouseStale:
			out.Rebuild = true
		}
	}
	for _, fx := range out.Fixed {
		log.Info("repaired", "what", fx)
	}
	if !out.Rebuild {
		return out, RebuildDone(ws)
	}
	return out, nil
}

func rebuildMark(ws workspace.Workspace) string { return ws.RebuildNeeded() }

// RebuildDone records that the warehouse was built again after a repair.
func RebuildDone(ws workspace.Workspace) error {
	if err := os.Remove(rebuildMark(ws)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// readAgain reads f's stored original into the lake again as it was read the first time,
// and returns f with its new lake files. The reading is refused (and nothing reaches the
// lake) unless it gives the counts the ledger recorded.
func readAgain(ctx context.Context, ws workspace.Workspace, cfg config.Config, f ledger.File, stage string, log *slog.Logger) (ledger.File, error) {
	ds, ok := contract.Lookup(f.Dataset)
	if !ok {
		return f, fmt.Errorf("the ledger records dataset %q, which this program does not know", f.Dataset)
	}
	settings := ingest.ReadSettings{Ingest: cfg.Ingest}
	if len(f.ReadWith) > 0 {
		if err := json.Unmarshal(f.ReadWith, &settings); err != nil {
			return f, fmt.Errorf("its ledger record's read_with: %w", err)
		}
	} else if f.Profile != "" {
		// Recorded before the settings were kept: today's profile of the same name.
		for i := range cfg.Profiles {
			if cfg.Profiles[i].Name == f.Profile {
				settings.Profile = &cfg.Profiles[i]
			}
		}
		if settings.Profile == nil {
			return f, fmt.Errorf("it was read with profile %q, which the config no longer has", f.Profile)
		}
	}
	opt := ingest.OptionsFrom(settings.Ingest)
	opt.BatchID, opt.StageDir, opt.Logger = f.BatchID, stage, log
	in := ingest.Input{Path: ws.StorePath(f.SHA256), Source: f.SourcePath, SHA256: f.SHA256, Dataset: ds, Profile: settings.Profile}
	same := func(res ingest.Result) error {
		if res.RowsRead != f.RowsRead || res.RowsAccepted != f.RowsAccepted || res.RowsRejected != f.RowsRejected || string(res.Status) != f.Status {
			return fmt.Errorf("reading its original again gives %s with %d rows read, %d accepted, %d rejected; the ledger recorded %s with %d, %d, %d: not repaired (sofpipe reread reads it with today's settings)",
				res.Status, res.RowsRead, res.RowsAccepted, res.RowsRejected, f.Status, f.RowsRead, f.RowsAccepted, f.RowsRejected)
		}
		return nil
	}
	res, described, err := ingest.IntoLake(ctx, in, opt, ws.Lake(), same)
	if err != nil {
		return f, err
	}
	old := f.LakePaths()
	f.Outputs, f.RejectsFile, f.LakeFiles = res.Outputs, res.RejectsFile, described
	// Lake files of the old reading that the new one did not write again.
	for _, p := range old {
		if !slices.Contains(f.LakePaths(), p) {
			os.Remove(filepath.Join(ws.Lake(), filepath.FromSlash(p)))
		}
	}
	return f, nil
}
