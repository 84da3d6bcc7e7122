// Package reportdata reads what the evidence report shows out of a warehouse file, with the
// queries in sql/report/, and hands it to pipeline/report as a report.Data. It opens the
// file read-only (Load), or reads a warehouse already open (LoadFrom: a batch's build,
// once finished), and changes nothing; it knows nothing of HTML, and pipeline/report
// nothing of SQL.
package reportdata

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/evaluation-taskforce/sofpipe/pipeline/report"
	"github.com/evaluation-taskforce/sofpipe/pipeline/warehouse"
	sqlmodels "github.com/evaluation-taskforce/sofpipe/sql"
)

// Load reads the report's data from the warehouse file at path.
func Load(ctx context.Context, path string) (report.Data, error) {
	db, err := warehouse.Open(path, true)
	if err != nil {
		return report.Data{}, err
	}
	defer db.Close()
	d, err := LoadFrom(ctx, db)
	if err != nil {
		return d, fmt.Errorf("reportdata: %s: %w", path, err)
	}
	return d, nil
}

// LoadFrom is Load for a warehouse already open. It reads through one connection of db's
// (the temporary view below is the connection's), so db may serve others meanwhile.
func LoadFrom(ctx context.Context, db *sql.DB) (report.Data, error) {
	var d report.Data
	conn, err := db.Conn(ctx)
	if err != nil {
		return d, err
	}
	defer conn.Close()
	// since_last is read by more than one query: made once, as a temporary view (a
	// read-only warehouse allows it, and a kept warehouse built before the view existed
	// reports all the same).
	view, err := sqlmodels.Report("since_last")
	if err != nil {
		return d, err
	}
	if _, err := conn.ExecContext(ctx, view); err != nil {
		return d, fmt.Errorf("since_last: %w", err)
	}
	steps := []struct {
		query string
		read  func(*sql.Rows) error
	}{
		{"batch", func(r *sql.Rows) error {
			b := &d.Batch
			var fy sql.NullString
			var period sql.NullInt64
			err := r.Scan(&b.ID, &b.Kind, &b.Fingerprint, &b.Version, &b.Date, &b.FilesNew, &b.FilesDuplicate,
				&b.FilesRejected, &b.FilesQuarantine, &b.RowsRead, &b.RowsAccepted, &b.RowsRejected,
				&fy, &period, &b.Projects, &b.ChecksPassed, &b.ChecksWarned, &b.ChecksFailed,
				&b.BaseYear, &b.ReturnsDueDay, &b.BandScaleUpMin, &b.BandExtendMin)
			b.AsOfFinancialYear, b.AsOfPeriod = fy.String, period.Int64
			return err
		}},
		{"changes", func(r *sql.Rows) error {
			var c report.Change
			err := r.Scan(&c.ProjectID, &c.ProjectName, &c.PreviousBatch, &c.Batch, &c.PreviousBand, &c.Band, &c.PreviousScore, &c.Score, &c.Kind)
			d.Changes = append(d.Changes, c)
			return err
		}},
		{"files", func(r *sql.Rows) error {
			var f report.File
			err := r.Scan(&f.Path, &f.Dataset, &f.Status, &f.Accepted, &f.Rejected, &f.Reason, &f.Corrects)
			d.Files = append(d.Files, f)
			return err
		}},
		{"candidates", func(r *sql.Rows) error {
			var c report.Candidate
			w := &c.Weighted
			err := r.Scan(&c.Rank, &c.ProjectID, &c.Name, &c.Band, &c.Score, &w[0], &w[1], &w[2], &w[3], &w[4], &w[5],
				&c.GateEvidence, &c.GateValue, &c.GateDataQuality, &c.EvidenceSMS, &c.BCR, &c.ReturnsShare, &c.Reasons)
			d.Candidates = append(d.Candidates, c)
			return err
		}},
		{"evidence", func(r *sql.Rows) error {
			var e report.EvidenceLevel
			err := r.Scan(&e.Level, &e.Projects)
			d.Evidence = append(d.Evidence, e)
			return err
		}},
		{"vfm", func(r *sql.Rows) error {
			var p report.VFMPoint
			err := r.Scan(&p.ProjectID, &p.Band, &p.Score, &p.BCR)
			d.VFM = append(d.VFM, p)
			return err
		}},
		{"spend", func(r *sql.Rows) error {
			var s report.SpendRow
			err := r.Scan(&s.Department, &s.FinancialYear, &s.Planned, &s.Actual)
			d.Spend = append(d.Spend, s)
			return err
		}},
		{"chase", func(r *sql.Rows) error {
			var c report.ChaseDepartment
			err := r.Scan(&c.Department, &c.Projects, &c.Expected, &c.Missing, &c.Late, &c.OnTime, &c.MaxDaysLate, &c.OldestMissingDue)
			d.Chase = append(d.Chase, c)
			return err
		}},
		{"owed", func(r *sql.Rows) error {
			var o report.Owed
			err := r.Scan(&o.Department, &o.ProjectID, &o.Missing, &o.FirstMissing, &o.LastMissing, &o.OldestDue, &o.Late, &o.MaxDaysLate)
			d.Owed = append(d.Owed, o)
			return err
		}},
		{"rejects", func(r *sql.Rows) error {
			var g report.RejectGroup
			err := r.Scan(&g.Department, &g.Reason, &g.Rows, &g.Files, &g.Message, &g.Example)
			d.Rejects = append(d.Rejects, g)
			return err
		}},
		{"lessons", func(r *sql.Rows) error {
			var l report.Lesson
			err := r.Scan(&l.Theme, &l.Polarity, &l.Projects, &l.Lessons, &l.Share, &l.PolicyAreas, &l.Example, &l.ExampleProject)
			d.Lessons = append(d.Lessons, l)
			return err
		}},
		{"patterns", func(r *sql.Rows) error {
			var p report.Pattern
			err := r.Scan(&p.Dimension, &p.Value, &p.Projects, &p.MedianAttainment, &p.ShareEvidenceSMS3, &p.MedianSpendVariance, &p.ShareScaleUp, &p.MeanReturnsShare)
			d.Patterns = append(d.Patterns, p)
			return err
		}},
		{"checks", func(r *sql.Rows) error {
			var c report.Check
			err := r.Scan(&c.Name, &c.Severity, &c.Status, &c.Rows)
			d.Checks = append(d.Checks, c)
			return err
		}},
	}
	for _, s := range steps {
		q, err := sqlmodels.Report(s.query)
		if err != nil {
			return d, err
		}
		if err := each(ctx, conn, q, s.read); err != nil {
			return d, fmt.Errorf("query %s: %w", s.query, err)
		}
	}
	// Dates in UTC, whatever the driver gave: the page writes them as they are.
	d.Batch.Date = time.Date(d.Batch.Date.Year(), d.Batch.Date.Month(), d.Batch.Date.Day(), 0, 0, 0, 0, time.UTC)
	return d, nil
}

func each(ctx context.Context, conn *sql.Conn, q string, read func(*sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := read(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
