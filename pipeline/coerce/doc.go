// Package coerce turns one field's bytes into a typed value: pence as int64, dates as days
// since 1970-01-01 (Arrow's Date32), whole numbers, decimals and normalised financial years.
//
// Its boundary: one value in, one value (or null, or an *Error) out. It knows nothing of
// CSV, columns, contracts or Arrow builders; the ingest decides which parser a column gets
// and what a null means for it. Parsers take []byte so a field can go straight from the
// chunk buffer to a value without becoming a string, and they do not allocate unless they
// fail.
//
// The forms accepted are the ones UK departments actually send: £ signs, thousands commas,
// accountants' parentheses for negatives, and dates always in UK day/month order, never US.
// Money never passes through float64, so £0.10 + £0.20 is exactly 30 pence.
//
// Every failure is an *Error with a stable Code (see errors.go) and a message a department
// can act on without reading code.
package coerce
