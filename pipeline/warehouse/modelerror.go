package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
)

// ModelError is a model that failed to build. It names the model and, when the failure is
// about a number too large for its type, the lines of the lake with the largest amounts:
// such a failure comes from data, almost always one department's line, and the operator
// needs the file to ask for, not only the SQL that tripped on it.
type ModelError struct {
	Model string
	// Largest describes the lines with the largest amounts ("spend/dfe.csv line 7
	// actual_gbp 6000000000000000.00"), largest first; empty when the failure is not about
	// size or the lines could not be read.
	Largest []string
	Err     error
}

func (e *ModelError) Error() string {
	msg := fmt.Sprintf("warehouse: model %s: %v", e.Model, e.Err)
	if len(e.Largest) > 0 {
		msg += "; largest amounts in the lake: " + strings.Join(e.Largest, "; ")
	}
	return msg
}

func (e *ModelError) Unwrap() error { return e.Err }

// largestShown is how many lines a ModelError lists.
const largestShown = 3

// modelError wraps the error of model name. The follow-up query runs only for overflow and
// conversion errors, and is best effort: when it fails as well, the model's own error is
// reported alone rather than replaced.
func modelError(ctx context.Context, db querier, name string, err error) error {
	me := &ModelError{Model: name, Err: err}
	var de *duckdb.Error
	if errors.As(err, &de) && ctx.Err() == nil {
		switch de.Type {
		case duckdb.ErrorTypeOutOfRange, duckdb.ErrorTypeConversion, duckdb.ErrorTypeDecimal:
			me.Largest, _ = largestAmounts(ctx, db, largestShown)
		}
	}
	return me
}

// largestAmounts lists the n lines of the raw tables whose money value is largest either
// side of zero, with the file each came from and its line.
func largestAmounts(ctx context.Context, db querier, n int) ([]string, error) {
	var parts []string
	for _, ds := range contract.All() {
		for _, c := range ds.Columns {
			if c.Type != contract.Money {
				continue
			}
			parts = append(parts, fmt.Sprintf(
				"SELECT %s AS col, %s AS amount, _file_sha256, _source_line FROM %s WHERE %s IS NOT NULL",
				quote(c.Name), ident(c.Name), ident("raw_"+ds.Name), ident(c.Name)))
		}
	}
	q := fmt.Sprintf(`SELECT coalesce(f.source_path, a._file_sha256), a._source_line, a.col, CAST(a.amount AS VARCHAR)
		FROM (%s) AS a
		LEFT JOIN _files AS f ON f.file_sha256 = a._file_sha256
		ORDER BY abs(a.amount) DESC, f.source_path, a._source_line
		LIMIT %d`, strings.Join(parts, " UNION ALL "), n)
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var file, col, amount string
		var line int64
		if err := rows.Scan(&file, &line, &col, &amount); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("%s line %d %s %s", file, line, col, amount))
	}
	return out, rows.Err()
}
