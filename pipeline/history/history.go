// Package history keeps the scorecard of every published batch in the lake, one Parquet
// file per batch under lake/_history/scorecard/, so that the warehouse's scorecard_history
// and band_changes survive full rebuilds (which read only the lake) and rollbacks (which
// replace the warehouse file). It owns that folder and nothing else: the batch calls Record
// once a warehouse is live, and Settle to say which batch is live; the warehouse build reads
// the folder through List.
//
// A batch's file is written from its own published warehouse (its scorecard_history rows
// for that batch), by rename, only once the warehouse is live: a build whose data tests
// fail, or that is never published, leaves no history. A rollback deletes nothing. The
// batches after the one put back are marked withdrawn (an empty <batch>.withdrawn file
// beside the Parquet): their rows stay in scorecard_history, flagged, and band_changes
// compares the next batch with the warehouse readers had in front of them, the one put back.
package history

import (
	"context"
	"database/sql"
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

// Columns are the scorecard columns kept per batch, in the order of the warehouse's
// scorecard_history after its batch_seq, batch_id and withdrawn: the batch and its as-of
// month, the project, its band and score, every component and gate, and the inputs the
// report names.
var Columns = []string{
	"batch_id", "as_of_financial_year", "as_of_period", "project_id", "project_name", "band",
	"score", "score_evidence", "score_value", "score_attainment", "score_consistency",
	"score_delivery", "score_joinup", "gate_evidence", "gate_value", "gate_data_quality",
	"evidence_sms", "bcr", "attainment", "spend_variance", "returns_share", "data_quality", "reasons",
}

// ColumnTypes are the DuckDB types of Columns, for a table that must exist even when the
// lake holds no history yet.
var ColumnTypes = map[string]string{
	"batch_id": "VARCHAR", "as_of_financial_year": "VARCHAR", "as_of_period": "INTEGER",
	"project_id": "VARCHAR", "project_name": "VARCHAR", "band": "VARCHAR", "score": "DOUBLE",
	"score_evidence": "DOUBLE", "score_value": "DOUBLE", "score_attainment": "DOUBLE",
	"score_consistency": "DOUBLE", "score_delivery": "DOUBLE", "score_joinup": "DOUBLE",
	"gate_evidence": "BOOLEAN", "gate_value": "BOOLEAN", "gate_data_quality": "BOOLEAN",
	"evidence_sms": "INTEGER", "bcr": "DOUBLE", "attainment": "DOUBLE", "spend_variance": "DOUBLE",
	"returns_share": "DOUBLE", "data_quality": "VARCHAR", "reasons": "VARCHAR",
}

const withdrawnSuffix = ".withdrawn"

// Dir is the scorecard history folder of the lake at lakeDir.
func Dir(lakeDir string) string { return filepath.Join(lakeDir, "_history", "scorecard") }

// Entry is one published batch's scorecard file.
type Entry struct {
	BatchID   string
	Path      string
	Withdrawn bool
}

// List returns the batches kept, oldest first (ledger.CompareBatchIDs); none when the
// folder does not exist yet.
func List(lakeDir string) ([]Entry, error) {
	dir := Dir(lakeDir)
	names, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	withdrawn := map[string]bool{}
	for _, e := range names {
		if b, ok := strings.CutSuffix(e.Name(), withdrawnSuffix); ok {
			withdrawn[b] = true
		}
	}
	var out []Entry
	for _, e := range names {
		b, ok := strings.CutSuffix(e.Name(), ".parquet")
		if !ok || strings.HasPrefix(e.Name(), ".") || e.IsDir() {
			continue
		}
		out = append(out, Entry{BatchID: b, Path: filepath.Join(dir, e.Name()), Withdrawn: withdrawn[b]})
	}
	slices.SortFunc(out, func(a, b Entry) int { return ledger.CompareBatchIDs(a.BatchID, b.BatchID) })
	return out, nil
}

// Record writes batchID's scorecard from the published warehouse open in db (its
// scorecard_history rows for that batch) to the lake, unless the lake has it already; it
// reports whether it wrote. The file appears by rename.
func Record(ctx context.Context, db *sql.DB, lakeDir, batchID string) (bool, error) {
	if _, err := os.Stat(finalPath(lakeDir, batchID)); err == nil {
		return false, nil
	}
	st, err := Stage(ctx, db, lakeDir, batchID)
	if err != nil {
		return false, err
	}
	return st.Commit()
}

// Staged is a batch's scorecard written beside the history, under a hidden name that List
// never reads, until Commit puts it in.
type Staged struct{ tmp, final string }

// Stage writes batchID's scorecard from the warehouse open in db (its scorecard_history
// rows for that batch) beside the history, so that a batch can read it from the file it
// built while it makes the rest ready, and Commit it once that file is live.
func Stage(ctx context.Context, db *sql.DB, lakeDir, batchID string) (*Staged, error) {
	dir := Dir(lakeDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	// A temporary file left by a process that stopped mid-write is never read (List skips
	// hidden names); remove it so that it does not pile up.
	if old, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(old) > 0 {
		for _, p := range old {
			os.Remove(p)
		}
	}
	st := &Staged{tmp: filepath.Join(dir, "."+batchID+".parquet.tmp"), final: finalPath(lakeDir, batchID)}
	// A warehouse with no registered project yet has an empty scorecard: its file has no
	// rows, and still records that the batch was published.
	q := fmt.Sprintf("COPY (SELECT %s FROM scorecard_history WHERE batch_id = %s ORDER BY project_id) TO %s (FORMAT parquet, COMPRESSION zstd)",
		strings.Join(Columns, ", "), quote(batchID), quote(st.tmp))
	if _, err := db.ExecContext(ctx, q); err != nil {
		os.Remove(st.tmp)
		return nil, fmt.Errorf("history: write %s: %w", st.final, err)
	}
	if err := fsutil.SyncFile(st.tmp); err != nil {
		os.Remove(st.tmp)
		return nil, fmt.Errorf("history: %w", err)
	}
	return st, nil
}

// Commit puts the staged scorecard into the history by rename, unless the history has the
// batch already, and reports whether it did.
func (st *Staged) Commit() (bool, error) {
	if _, err := os.Stat(st.final); err == nil {
		st.Discard()
		return false, nil
	}
	if err := fsutil.RenameDurable(st.tmp, st.final); err != nil {
		st.Discard()
		return false, fmt.Errorf("history: %w", err)
	}
	return true, nil
}

// Discard removes the staged scorecard.
func (st *Staged) Discard() { os.Remove(st.tmp) }

func finalPath(lakeDir, batchID string) string {
	return filepath.Join(Dir(lakeDir), batchID+".parquet")
}

// Settle records that live is the batch whose warehouse is published: every kept batch
// made after it is marked withdrawn (its warehouse was replaced by an older one), and live
// itself is not (it was put back).
func Settle(lakeDir, live string) error {
	entries, err := List(lakeDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		marker := filepath.Join(Dir(lakeDir), e.BatchID+withdrawnSuffix)
		switch {
		case e.BatchID == live && e.Withdrawn:
			if err := os.Remove(marker); err != nil {
				return fmt.Errorf("history: %w", err)
			}
		case ledger.CompareBatchIDs(e.BatchID, live) > 0 && !e.Withdrawn:
			if err := fsutil.WriteFileAtomic(marker, nil, 0o644); err != nil {
				return fmt.Errorf("history: %w", err)
			}
		}
	}
	return nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
