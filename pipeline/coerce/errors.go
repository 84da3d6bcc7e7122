package coerce

import (
	"fmt"
	"unicode/utf8"
)

// Code says why a value was rejected. The codes are stable: they are stored with every
// rejected row and departments and dashboards match on them, so a code never changes
// meaning once published. This is the one list of them.
type Code string

const (
	// CodeBadMoney: not an amount of money at all ("12a", "£", "()", "--5").
	CodeBadMoney Code = "bad_money"
	// CodeMoneyPrecision: an amount with non-zero digits after the pence ("12.345").
	CodeMoneyPrecision Code = "money_precision"
	// CodeForeignCurrency: an amount written with another currency's sign or code ("$1,432.92",
	// "€500", "100 USD"): it is not in pounds, so no conversion is guessed.
	CodeForeignCurrency Code = "foreign_currency"
	// CodeMoneyOverflow: an amount that does not fit DECIMAL(18,2): £10^16 or more.
	CodeMoneyOverflow Code = "money_overflow"
	// CodeBadDate: not a date in a recognised form, or not a real day (31/02/2024).
	CodeBadDate Code = "bad_date"
	// CodeBadInt: not a whole number, or too large for 64 bits.
	CodeBadInt Code = "bad_int"
	// CodeBadNumber: not a decimal number, or out of range for a double.
	CodeBadNumber Code = "bad_number"
	// CodeBadFinancialYear: not a UK financial year such as 2023-24.
	CodeBadFinancialYear Code = "bad_financial_year"
)

// Error is a value that could not be parsed.
type Error struct {
	Code  Code
	Value string // the value as given (trimmed, and clipped if very long)
	Msg   string // the whole message, value included, for the department that sent it
}

func (e *Error) Error() string { return e.Msg }

// maxValueBytes clips values kept in errors: a runaway field (a missing quote can make one
// thousands of bytes long) should not flood the rejects file with copies of itself.
const maxValueBytes = 80

// newError builds an *Error; format gets the clipped value as its first argument (use %q).
func newError(code Code, v []byte, format string, args ...any) *Error {
	value := clip(v)
	return &Error{Code: code, Value: value, Msg: fmt.Sprintf(format, append([]any{value}, args...)...)}
}

func clip(v []byte) string {
	if len(v) <= maxValueBytes {
		return string(v)
	}
	n := maxValueBytes
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return string(v[:n]) + "…"
}
