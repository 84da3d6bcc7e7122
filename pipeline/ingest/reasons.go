package ingest

import "github.com/evaluation-taskforce/sofpipe/pipeline/coerce"

// Reason is a stable code saying why a row or a whole file was rejected. Codes never change
// meaning once published: departments and dashboards match on them.
type Reason string

// Row-level reasons.
const (
	// ReasonMissingRequired: a required column is empty or null.
	ReasonMissingRequired Reason = "missing_required"
	// ReasonNotAllowed: an enumerated column holds a value outside its list.
	ReasonNotAllowed Reason = "not_allowed"
	// ReasonOutOfRange: a whole number outside the column's bounds (period 13, SMS 6).
	ReasonOutOfRange Reason = "out_of_range"
	// ReasonRaggedRow: the row has more or fewer fields than the header.
	ReasonRaggedRow Reason = "ragged_row"
	// ReasonBlankRow: every field of the row is empty (a line of delimiters only).
	ReasonBlankRow Reason = "blank_row"
	// ReasonMalformedCSV: broken quoting, such as a quote that is never closed.
	ReasonMalformedCSV Reason = "malformed_csv"
	// ReasonEndBeforeStart: a project's end_date is before its start_date.
	ReasonEndBeforeStart Reason = "end_before_start"
	// ReasonPeriodMismatch: a spend row's payment_date falls outside the financial_year
	// and period it also gives.
	ReasonPeriodMismatch Reason = "period_mismatch"
	// ReasonSummaryRow: a total or subtotal line (an amount beside labels such as
	// "Total"), not a payment.
	ReasonSummaryRow Reason = "summary_row"
	// ReasonNilReturn: the row says the return is a nil return. As a file-level code: no
	// header was found and the file says it is a nil return.
	ReasonNilReturn Reason = "nil_return"
	// ReasonFileQuarantined: the row was readable but its file was quarantined because
	// too many of its rows were rejected.
	ReasonFileQuarantined Reason = "file_quarantined"

	// Value codes from package coerce, repeated here so the list is complete in one place.
	ReasonBadMoney         Reason = Reason(coerce.CodeBadMoney)
	ReasonMoneyPrecision   Reason = Reason(coerce.CodeMoneyPrecision)
	ReasonMoneyOverflow    Reason = Reason(coerce.CodeMoneyOverflow)
	ReasonForeignCurrency  Reason = Reason(coerce.CodeForeignCurrency)
	ReasonBadDate          Reason = Reason(coerce.CodeBadDate)
	ReasonBadInt           Reason = Reason(coerce.CodeBadInt)
	ReasonBadNumber        Reason = Reason(coerce.CodeBadNumber)
	ReasonBadFinancialYear Reason = Reason(coerce.CodeBadFinancialYear)
)

// File-level reasons: the file could not be read as its dataset at all.
const (
	// ReasonEmptyFile: no header row.
	ReasonEmptyFile Reason = "empty_file"
	// ReasonBinaryFile: the bytes are not text.
	ReasonBinaryFile Reason = "binary_file"
	// ReasonMissingColumns: the header lacks a required column (after aliases).
	ReasonMissingColumns Reason = "missing_columns"
	// ReasonDuplicateColumn: two header cells map to the same canonical column.
	ReasonDuplicateColumn Reason = "duplicate_column"
	// ReasonUnknownDataset: the file's folder or profile names no dataset.
	ReasonUnknownDataset Reason = "unknown_dataset"
	// ReasonUnreadable: an I/O or decoding error stopped the read.
	ReasonUnreadable Reason = "unreadable"
	// ReasonRejectRate: more of the file's rows were rejected than the configured limit.
	ReasonRejectRate Reason = "reject_rate"
)

// Reasons returns every code, row-level first, in the order docs/reasons.md lists them. A
// test holds the documentation to it, so a new code cannot ship undocumented.
func Reasons() []Reason {
	return []Reason{
		ReasonMissingRequired, ReasonNotAllowed, ReasonOutOfRange, ReasonRaggedRow, ReasonBlankRow,
		ReasonSummaryRow, ReasonNilReturn,
		ReasonMalformedCSV, ReasonEndBeforeStart, ReasonPeriodMismatch, ReasonFileQuarantined,
		ReasonBadMoney, ReasonMoneyPrecision, ReasonForeignCurrency, ReasonMoneyOverflow, ReasonBadDate, ReasonBadInt,
		ReasonBadNumber, ReasonBadFinancialYear,
		ReasonEmptyFile, ReasonBinaryFile, ReasonMissingColumns, ReasonDuplicateColumn,
		ReasonUnknownDataset, ReasonUnreadable, ReasonRejectRate,
	}
}
