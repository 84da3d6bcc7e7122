package warehouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/history"
	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

// loadHistory makes raw_scorecard_history from the scorecards the lake keeps of earlier
// published batches (pipeline/history), numbered batch_seq in the order they were made and
// flagged withdrawn as history says; the model scorecard_history adds this build's own.
// A file of the batch being built (a rerun of it) is left out: its scorecard is the one
// being built.
//
// A full build makes the table afresh from the lake. An incremental build keeps its base's
// table and adds the scorecards published since, when the table holds the lake's history
// up to them as it stands (the same batches, numbers and flags; a rollback, which flags
// batches withdrawn, is followed by a full build anyway): the lake gains a file a night,
// and reading every one of them again took half a second a night after a year (365
// files).
func loadHistory(ctx context.Context, db querier, lakeDir, building string, incremental bool) error {
	entries, err := history.List(lakeDir)
	if err != nil {
		return fmt.Errorf("warehouse: raw_scorecard_history: %w", err)
	}
	var kept []history.Entry
	for _, e := range entries {
		if e.BatchID != building {
			kept = append(kept, e)
		}
	}
	held := 0
	if incremental {
		held = historyHeld(ctx, db, kept)
	}
	if held == 0 {
		cols := []string{"batch_seq INTEGER", "withdrawn BOOLEAN"}
		for _, c := range history.Columns {
			cols = append(cols, fmt.Sprintf("%s %s", ident(c), history.ColumnTypes[c]))
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE raw_scorecard_history (%s)", strings.Join(cols, ", "))); err != nil {
			return fmt.Errorf("warehouse: raw_scorecard_history: %w", err)
		}
	}
	var paths, files []string
	for i, e := range kept[held:] {
		paths = append(paths, quote(e.Path))
		files = append(files, fmt.Sprintf("(%s, %d, %t)", quote(e.Path), held+i+1, e.Withdrawn))
	}
	if len(paths) == 0 {
		return nil
	}
	// union_by_name: a file written before a column existed gives NULL for it.
	q := fmt.Sprintf(`INSERT INTO raw_scorecard_history BY NAME
		SELECT f.batch_seq, f.withdrawn, h.* EXCLUDE (filename)
		FROM read_parquet([%s], union_by_name = true, filename = true) AS h
		JOIN (VALUES %s) AS f(path, batch_seq, withdrawn) ON f.path = h.filename`,
		strings.Join(paths, ", "), strings.Join(files, ", "))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("warehouse: raw_scorecard_history: %w", err)
	}
	return nil
}

// historyHeld returns how many of the scorecards kept (oldest first) the base's
// raw_scorecard_history holds already, each as loadHistory would load it (batch_seq the
// scorecard's place among kept, withdrawn as kept says): 0 when the table holds anything
// else, or cannot be read. A scorecard with no rows (a batch before any project was
// registered) leaves no row to hold it: one the table lacks before its last must have
// none. A scorecard held is not read again: the lake's are written once (history.Record
// never replaces one, and a repair of the lake makes the next build a full one).
func historyHeld(ctx context.Context, db querier, kept []history.Entry) int {
	rows, err := db.QueryContext(ctx, "SELECT batch_id, batch_seq, withdrawn FROM raw_scorecard_history GROUP BY ALL ORDER BY batch_seq, batch_id")
	if err != nil {
		return 0
	}
	defer rows.Close()
	held := 0
	var lacking []string
	for rows.Next() {
		var batch string
		var seq int
		var withdrawn bool
		if err := rows.Scan(&batch, &seq, &withdrawn); err != nil {
			return 0
		}
		if seq <= held || seq > len(kept) || kept[seq-1].BatchID != batch || kept[seq-1].Withdrawn != withdrawn {
			return 0
		}
		for _, e := range kept[held : seq-1] {
			lacking = append(lacking, quote(e.Path))
		}
		held = seq
	}
	if rows.Err() != nil {
		return 0
	}
	if len(lacking) > 0 {
		var n int64
		q := fmt.Sprintf("SELECT count(*) FROM read_parquet([%s])", strings.Join(lacking, ", "))
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil || n > 0 {
			return 0
		}
	}
	return held
}

// buildSteps is how many steps a build reports to Input.Progress: _params, the ledger's
// tables, one raw table per dataset, _rejects, raw_scorecard_history, each model, the data
// tests and the checkpoint.
func buildSteps() int {
	models, _ := sqlmodels.Models()
	return 2 + len(contract.All()) + 2 + len(models) + 2
}

// progress tells Input.Progress, when set, that step n of steps is starting.
func (in Input) progress(n, steps int, name string) {
	if in.Progress != nil {
		in.Progress(min(n, steps), steps, name)
	}
}
