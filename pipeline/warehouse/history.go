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
// being built. Every build, full or incremental, makes the table afresh from the lake.
func loadHistory(ctx context.Context, db querier, lakeDir, building string) error {
	entries, err := history.List(lakeDir)
	if err != nil {
		return fmt.Errorf("warehouse: raw_scorecard_history: %w", err)
	}
	cols := []string{"batch_seq INTEGER", "withdrawn BOOLEAN"}
	for _, c := range history.Columns {
		cols = append(cols, fmt.Sprintf("%s %s", ident(c), history.ColumnTypes[c]))
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE raw_scorecard_history (%s)", strings.Join(cols, ", "))); err != nil {
		return fmt.Errorf("warehouse: raw_scorecard_history: %w", err)
	}
	var paths, files []string
	seq := 0
	for _, e := range entries {
		if e.BatchID == building {
			continue
		}
		seq++
		paths = append(paths, quote(e.Path))
		files = append(files, fmt.Sprintf("(%s, %d, %t)", quote(e.Path), seq, e.Withdrawn))
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
