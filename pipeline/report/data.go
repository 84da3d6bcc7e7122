// Package report renders the evidence report of one published warehouse: a single
// self-contained HTML page (inline CSS and SVG, no script, no font or image from anywhere
// else) for evaluation leads and departments, and publishes it under reports/.
//
// Its boundary: it turns a Data value into page bytes and writes pages to a folder. It
// never opens a database; pipeline/reportdata fills Data from a warehouse. The page is a
// pure function of Data: no clock, no map order, no locale, so the same warehouse gives the
// same bytes.
//
// Charts are plain SVG written by html/template, not a plotting library: the charts are
// bars and one scatter, every figure must carry patterns and labels for greyscale and
// colour-blind readers, a title, axis labels and a table, and must print on A4 from a file
// opened with no network. html/template escapes every project name and message in both the
// HTML and the SVG, adds nothing to go.mod, and keeps the output small and stable.
package report

import "time"

// Data is everything the page shows, section by section, in the order the page has them.
type Data struct {
	Batch      Batch
	Changes    []Change
	Files      []File
	Candidates []Candidate
	Evidence   []EvidenceLevel
	VFM        []VFMPoint
	Spend      []SpendRow
	Chase      []ChaseDepartment
	Owed       []Owed
	Rejects    []RejectGroup
	Lessons    []Lesson
	Patterns   []Pattern
	Checks     []Check
}

// Batch is the batch in a sentence and the footer.
type Batch struct {
	ID, Kind, Fingerprint, Version string
	Date                           time.Time // the batch's start, in UK time (its own clock)
	FilesNew, FilesDuplicate       int64
	FilesRejected, FilesQuarantine int64
	RowsRead, RowsAccepted         int64
	RowsRejected                   int64
	AsOfFinancialYear              string
	AsOfPeriod                     int64 // 0 when the warehouse has no spend
	Projects                       int64
	ChecksPassed, ChecksWarned     int64
	ChecksFailed                   int64
	BaseYear                       string
	ReturnsDueDay                  int64
	BandScaleUpMin, BandExtendMin  float64
}

// Change is a row of band_changes.
type Change struct {
	ProjectID, ProjectName string
	PreviousBatch, Batch   string
	PreviousBand, Band     string
	PreviousScore, Score   *float64
	Kind                   string // band, score, new, removed
}

// File is a file this batch took in.
type File struct {
	Path, Dataset, Status string
	Accepted, Rejected    int64
	Reason                string
	Corrects              bool
}

// Components are the six weighted components of a score, in the order of DESIGN.md.
type Components [6]float64

// ComponentNames name Components' entries.
var ComponentNames = [6]string{"Evidence", "Value for money", "Attainment", "Consistency", "Delivery", "Join-up"}

// Candidate is a row of scale_up_candidates.
type Candidate struct {
	Rank            int64
	ProjectID, Name string
	Band            string
	Score           float64
	Weighted        Components
	GateEvidence    bool
	GateValue       bool
	GateDataQuality bool
	EvidenceSMS     *int64
	BCR             *float64
	ReturnsShare    float64
	Reasons         string
}

// EvidenceLevel counts the projects whose best qualifying result is at Level (0: none).
type EvidenceLevel struct {
	Level, Projects int64
}

// VFMPoint is one project's bcr and score.
type VFMPoint struct {
	ProjectID, Band string
	Score           float64
	BCR             *float64
}

// SpendRow is a department's planned and actual spend in one financial year, in real
// terms (nil: the year has no deflator).
type SpendRow struct {
	Department, FinancialYear string
	Planned, Actual           *float64
}

// ChaseDepartment is a department's line of the chase list.
type ChaseDepartment struct {
	Department            string
	Projects, Expected    int64
	Missing, Late, OnTime int64
	MaxDaysLate           int64
	OldestMissingDue      *time.Time
}

// Owed is what a department owes (or sent late) for one project.
type Owed struct {
	Department, ProjectID     string
	Missing                   int64
	FirstMissing, LastMissing *time.Time
	OldestDue                 *time.Time
	Late, MaxDaysLate         int64
}

// RejectGroup is the rejected rows of one department for one reason.
type RejectGroup struct {
	Department, Reason string
	Rows, Files        int64
	Message, Example   string
}

// Lesson is a row of lessons_learned, part 'reported'.
type Lesson struct {
	Theme, Polarity         string
	Projects, Lessons       int64
	Share                   float64
	PolicyAreas             string
	Example, ExampleProject string
}

// Pattern is a row of lessons_learned, part 'pattern'.
type Pattern struct {
	Dimension, Value    string
	Projects            int64
	MedianAttainment    *float64
	ShareEvidenceSMS3   *float64
	MedianSpendVariance *float64
	ShareScaleUp        *float64
	MeanReturnsShare    *float64
}

// Check is a data test's result.
type Check struct {
	Name, Severity, Status string
	Rows                   int64
}
