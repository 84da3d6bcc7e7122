package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evaluation-taskforce/sofpipe/pipeline/coerce"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
)

// cell is one typed value of a row, ready to append to an Arrow builder.
type cell struct {
	null bool
	i    int64   // Int, Money (pence), Date (days since 1970-01-01), Enum (index of the allowed value)
	f    float64 // Float
	s    []byte  // String, Enum, FinancialYear; aliases the CSV buffer or a canonical spelling
}

// rowError is why one row was rejected.
type rowError struct {
	Reason  Reason
	Column  string
	Message string
}

// rowParser turns a record's fields into typed cells per the contract. One per worker: it
// reuses its buffers, so nothing is allocated for a good row.
type rowParser struct {
	l     *layout
	cells []cell
	// fy holds derived financial years ("2023-24") so cells can point at them.
	fyBuf []byte
	// canonical spellings of each Enum column's allowed values.
	allowed [][][]byte
	// column indexes used by the row rules.
	idx struct{ fy, period, payment, start, end int }
	// plans says, per column, where its raw value comes from and how to coerce it, read
	// once from the layout and the contract so the per-cell loop looks in one place.
	plans []colPlan
	// rounded counts the row's amounts rounded to the penny (round_money_to_pence).
	rounded int
}

// colPlan is one column's part of the layout and the contract, as parseFields needs it.
type colPlan struct {
	src      colSource
	field    int  // the CSV field, for srcField
	fallback bool // an empty field falls back to the layout's fallback value
	typ      contract.Type
	required bool // Required and not Derived: an empty value rejects the row
}

// colSource is where a column's raw value comes from.
type colSource uint8

const (
	srcNone     colSource = iota // nowhere: empty
	srcConstant                  // the profile's constant
	srcField                     // a CSV field (or its fallback when empty)
	srcFallback                  // the profile's fallback, the file lacking the column
)

func newRowParser(l *layout) *rowParser {
	ds := l.dataset
	p := &rowParser{l: l, cells: make([]cell, len(ds.Columns)), allowed: make([][][]byte, len(ds.Columns))}
	for c, col := range ds.Columns {
		for _, a := range col.Allowed {
			p.allowed[c] = append(p.allowed[c], []byte(a))
		}
	}
	p.plans = make([]colPlan, len(ds.Columns))
	for c := range ds.Columns {
		col, pl := &ds.Columns[c], &p.plans[c]
		switch {
		case l.hasConstant[c]:
			pl.src = srcConstant
		case l.fieldOf[c] >= 0:
			pl.src, pl.field, pl.fallback = srcField, l.fieldOf[c], l.hasFallback[c]
		case l.hasFallback[c]:
			pl.src = srcFallback
		}
		pl.typ, pl.required = col.Type, col.Required && !col.Derived
	}
	p.idx.fy, p.idx.period, p.idx.payment = ds.Column("financial_year"), ds.Column("period"), ds.Column("payment_date")
	p.idx.start, p.idx.end = ds.Column("start_date"), ds.Column("end_date")
	return p
}

// parse fills p.cells from fields, or says why the row is rejected.
func (p *rowParser) parse(fields [][]byte) *rowError {
	err := p.parseFields(fields)
	if err == nil {
		return nil
	}
	// Only a row that failed is looked at again, so what follows costs a good row nothing.
	switch {
	case blankRow(fields):
		// Spreadsheets save emptied rows as a line of delimiters. It is counted like any
		// other row, so it is rejected under its own code rather than as a missing value.
		return &rowError{ReasonBlankRow, "", fmt.Sprintf("the row has %d fields and every one is empty (a line of delimiters only): there is nothing to take in; delete the row", len(fields))}
	case nilReturnRow(fields):
		return &rowError{ReasonNilReturn, "", "the row says the return is a nil return (nothing to report for the period): it holds no line to take in"}
	}
	if col, ok := p.summaryRow(fields); ok {
		return &rowError{ReasonSummaryRow, col, fmt.Sprintf("the row holds only a sum (%s) and labels or other numbers: a total or subtotal line, not a payment; it is left out so that nothing is counted twice (the cause was: %s)", clip(coerce.Trim(fields[p.plans[p.l.dataset.Column(col)].field])), err.Message)}
	}
	return err
}

// summaryRow reports whether a row that failed is a total line a spreadsheet left under
// the data: an amount in a money column, and nothing else but other numbers and labels
// such as "Total" or "Grand total". It returns the money column.
func (p *rowParser) summaryRow(fields [][]byte) (string, bool) {
	col := ""
	for c := range p.plans {
		pl := &p.plans[c]
		if pl.typ != contract.Money || pl.src != srcField || pl.field >= len(fields) {
			continue
		}
		if _, _, null, err := coerce.MoneyRounded(fields[pl.field]); err == nil && !null {
			col = p.l.dataset.Columns[c].Name
			break
		}
	}
	if col == "" {
		return "", false
	}
	for _, f := range fields {
		v := coerce.Trim(f)
		if coerce.IsNullTrimmed(v) {
			continue
		}
		if _, _, null, err := coerce.MoneyRounded(v); err == nil && !null {
			continue
		}
		if !summaryLabel(v) {
			return "", false
		}
	}
	return col, true
}

// summaryLabel reports whether a cell labels a total: Total, TOTAL SPEND, Grand Total,
// Sub-total, Total for May 2012, Sum.
func summaryLabel(v []byte) bool {
	k := contract.NormalizeHeader(string(v))
	for _, prefix := range []string{"total", "grand_total", "sub_total", "subtotal", "sum", "overall_total", "running_total"} {
		if k == prefix || strings.HasPrefix(k, prefix+"_") || (prefix == "total" && k == "totals") {
			return true
		}
	}
	return false
}

// nilReturnRow reports whether a row says the return is a nil return ("NIL RETURN",
// "Nil return for May"), as departments send when no payment passed the threshold.
func nilReturnRow(fields [][]byte) bool {
	for _, f := range fields {
		if nilReturnText(f) {
			return true
		}
	}
	return false
}

func nilReturnText(f []byte) bool {
	if len(f) < 3 || len(f) > 80 {
		return false
	}
	k := contract.NormalizeHeader(string(f))
	return k == "nil" || k == "nil_return" || strings.HasPrefix(k, "nil_return_") || k == "this_is_a_nil_return"
}

func (p *rowParser) parseFields(fields [][]byte) *rowError {
	l := p.l
	p.fyBuf = p.fyBuf[:0]
	p.rounded = 0
	if len(fields) < l.headerFields && !l.padShort {
		return &rowError{ReasonRaggedRow, "", fmt.Sprintf("row has %d fields, the header has %d: a field is missing or a delimiter was lost; give every row one field per header column", len(fields), l.headerFields)}
	}
	for i := l.headerFields; i < len(fields); i++ {
		if len(coerce.Trim(fields[i])) != 0 {
			return &rowError{ReasonRaggedRow, "", fmt.Sprintf("row has %d fields, the header has %d (field %d holds %q): an unquoted delimiter inside a value splits it; put such values in double quotes", len(fields), l.headerFields, i+1, clip(fields[i]))}
		}
	}
	plans, cells := p.plans, p.cells
	cells = cells[:len(plans)]
	for c := range plans {
		pl := &plans[c]
		var raw []byte
		switch pl.src {
		case srcField:
			if f := pl.field; f < len(fields) {
				raw = fields[f] // else a short row padded with empty fields (padShort)
			}
			if pl.fallback && coerce.IsNull(raw) {
				raw = l.fallback[c]
			}
		case srcConstant:
			raw = l.constant[c]
		case srcFallback:
			raw = l.fallback[c]
		}
		v := raw
		if coerce.NeedsTrim(v) {
			v = coerce.Trim(v)
		}
		out := &cells[c]
		// Each path below sets what the column's type reads of the cell (appendRow and
		// rules read s of text columns, i of the others), so the cell is not cleared.
		out.null = false
		// v is trimmed, and no null spelling is longer than four bytes ("null"), so a
		// longer value needs no look.
		if len(v) == 0 || (len(v) <= 4 && coerce.IsNullTrimmed(v)) {
			out.null, out.i, out.f, out.s = true, 0, 0, nil
			if pl.required {
				col := &l.dataset.Columns[c]
				return &rowError{ReasonMissingRequired, col.Name, fmt.Sprintf("%s is required but is empty", col.Name)}
			}
			continue
		}
		if pl.typ == contract.String {
			out.s = v
			continue
		}
		if err := p.coerce(c, v, out); err != nil {
			return err
		}
	}
	return p.rules()
}

// coerce fills out, column c's cell, from v, the column's trimmed value, which is not
// null.
func (p *rowParser) coerce(c int, v []byte, out *cell) *rowError {
	col := &p.l.dataset.Columns[c]
	var err error
	switch col.Type { // String columns are filled by parseFields and never come here
	case contract.Enum:
		for k, a := range p.allowed[c] {
			if bytes.EqualFold(v, a) {
				out.s, out.i = a, int64(k) // k is the value's dictionary id (dictScratch.seed)
				return nil
			}
		}
		return &rowError{ReasonNotAllowed, col.Name, fmt.Sprintf("%s %q is not one of %s", col.Name, clip(v), strings.Join(col.Allowed, ", "))}
	case contract.Int:
		var null bool
		out.i, null, err = coerce.Int(v)
		out.null = null
		if err == nil && !null && (out.i < col.Min || out.i > col.Max) {
			return &rowError{ReasonOutOfRange, col.Name, fmt.Sprintf("%s %d is outside %d-%d", col.Name, out.i, col.Min, col.Max)}
		}
	case contract.Float:
		out.f, out.null, err = coerce.Float(v)
	case contract.Money:
		if p.l.roundPence {
			var rounded bool
			out.i, rounded, out.null, err = coerce.MoneyRounded(v)
			if rounded {
				p.rounded++
			}
		} else {
			out.i, out.null, err = coerce.Money(v)
		}
		// One compare of the pence per value: a value that fits the lake's DECIMAL(18,2)
		// but not what a SOF line can be (a card number pasted into an amount) stops here,
		// with the department's line, instead of in a sum of the marts.
		if err == nil && !out.null && (out.i > p.l.maxPence || out.i < -p.l.maxPence) {
			return &rowError{ReasonOutOfRange, col.Name, fmt.Sprintf("%s %s is outside %s to %s, what one line may hold (config ingest.max_amount_gbp): check the amount; a card or reference number pasted into an amount column looks like this",
				col.Name, poundsText(out.i), poundsText(-p.l.maxPence), poundsText(p.l.maxPence))}
		}
	case contract.Date:
		var d int32
		d, out.null, err = coerce.Date(v, p.l.dateLayout)
		if err != nil {
			// Only a value that is not a date comes here: is it an Excel day number?
			sd, ok, rerr := p.excelDate(col.Name, v)
			if rerr != nil {
				return rerr
			}
			if ok {
				d, err = sd, nil
			}
		}
		out.i = int64(d)
		if err == nil && !out.null && (d < earliestDay || d > latestDay) {
			return &rowError{ReasonOutOfRange, col.Name, fmt.Sprintf("%s %s is outside %d-%d: is the year mistyped?", col.Name, coerce.DateString(d), earliestYear, latestYear)}
		}
	case contract.FinancialYear:
		var fy string
		fy, err = coerce.FinancialYear(v)
		if err == nil {
			// fy is canonical ("2023-24"): its first four bytes are the start year.
			if start := int(fy[0]-'0')*1000 + int(fy[1]-'0')*100 + int(fy[2]-'0')*10 + int(fy[3]-'0'); start < earliestYear || start >= latestYear {
				return &rowError{ReasonOutOfRange, col.Name, fmt.Sprintf("%s %s is outside %d-%d: is the year mistyped?", col.Name, fy, earliestYear, latestYear)}
			}
			out.s = p.keepFY(fy)
		}
	}
	if err != nil {
		var ce *coerce.Error
		if errors.As(err, &ce) {
			return &rowError{Reason(ce.Code), col.Name, col.Name + ": " + ce.Error()}
		}
		return &rowError{ReasonBadNumber, col.Name, col.Name + ": " + err.Error()}
	}
	return nil
}

// excelDate reads v, a value that is not a date, as an Excel 1900-system day number when
// the profile allows it (excel_serial_dates) and the day falls in the years dates may
// have. A serial outside those years, or any serial when the option is off, is a bad_date
// whose message says what day it would be. ok false with no error leaves v to the
// caller's own error: it is no serial at all.
func (p *rowParser) excelDate(col string, v []byte) (day int32, ok bool, rerr *rowError) {
	sd, serial := coerce.ExcelSerial(v)
	if !serial {
		return 0, false, nil
	}
	switch {
	case !p.l.excelSerial:
		return 0, false, &rowError{ReasonBadDate, col, fmt.Sprintf("%s: date %q is a number, not a date; read as an Excel day number it would be %s: write the date as day/month/year, or ask for excel_serial_dates in the source profile", col, clip(v), coerce.DateString(sd))}
	case sd < earliestDay || sd > latestDay:
		return 0, false, &rowError{ReasonBadDate, col, fmt.Sprintf("%s: date %q read as an Excel day number would be %s, outside %d-%d: it is not a date of this return", col, clip(v), coerce.DateString(sd), earliestYear, latestYear)}
	}
	return sd, true, nil
}

// The years a date or financial year in a return may fall in. A row outside them is
// rejected as out_of_range: one mistyped year (2203 for 2023) would otherwise need a GDP
// deflator no one has, and the warehouse's deflator test would stop every publish.
const (
	earliestYear = 1990
	latestYear   = 2100
)

var (
	earliestDay = int32(time.Date(earliestYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	latestDay   = int32(time.Date(latestYear, 12, 31, 0, 0, 0, 0, time.UTC).Unix() / 86400)
)

// keepFY stores a financial year string in the parser's buffer so a cell can point at it
// until the next row; financial years are few, so the buffer is reset per row.
func (p *rowParser) keepFY(fy string) []byte {
	if len(p.fyBuf)+len(fy) > cap(p.fyBuf) {
		p.fyBuf = make([]byte, 0, 64)
	}
	start := len(p.fyBuf)
	p.fyBuf = append(p.fyBuf, fy...)
	return p.fyBuf[start:len(p.fyBuf):len(p.fyBuf)]
}

// rules applies the contract's cross-column rules and derivations.
func (p *rowParser) rules() *rowError {
	cells := p.cells
	switch p.l.dataset.Name {
	case contract.Spend:
		fy, period, pay := &cells[p.idx.fy], &cells[p.idx.period], &cells[p.idx.payment]
		if !pay.null {
			dfy, dp := coerce.FinancialYearOf(int32(pay.i))
			switch {
			case fy.null && period.null:
				fy.null, fy.s = false, p.keepFY(dfy)
				period.null, period.i = false, int64(dp)
			case fy.null || period.null || string(fy.s) != dfy || period.i != int64(dp):
				return &rowError{ReasonPeriodMismatch, "payment_date", fmt.Sprintf("payment_date %s falls in %s P%d, but the row gives financial_year %q period %s", coerce.DateString(int32(pay.i)), dfy, dp, fy.s, periodText(period))}
			}
		}
		if fy.null {
			return &rowError{ReasonMissingRequired, "financial_year", "financial_year is required when payment_date is empty"}
		}
		if period.null {
			return &rowError{ReasonMissingRequired, "period", "period is required when payment_date is empty"}
		}
	case contract.Projects:
		s, e := cells[p.idx.start], cells[p.idx.end]
		if !s.null && !e.null && e.i < s.i {
			return &rowError{ReasonEndBeforeStart, "end_date", fmt.Sprintf("end_date %s is before start_date %s", coerce.DateString(int32(e.i)), coerce.DateString(int32(s.i)))}
		}
	}
	return nil
}

// blankRow reports whether every field of a record is empty or white space.
func blankRow(fields [][]byte) bool {
	for _, f := range fields {
		if len(coerce.Trim(f)) != 0 {
			return false
		}
	}
	return true
}

func periodText(c *cell) string {
	if c.null {
		return "(empty)"
	}
	return fmt.Sprint(c.i)
}

// poundsText writes pence as pounds the way a return does: -£1,234,567.89.
func poundsText(pence int64) string {
	sign := ""
	u := uint64(pence)
	if pence < 0 {
		sign, u = "-", uint64(-pence) // -MinInt64 wraps to itself, which as uint64 is right
	}
	digits := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	b.WriteString(sign + "£")
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	fmt.Fprintf(&b, ".%02d", u%100)
	return b.String()
}

// clip shortens a value quoted in a message so one bad cell cannot flood a report.
func clip(b []byte) string {
	const max = 60
	if len(b) <= max {
		return string(b)
	}
	n := max
	for n > 0 && !utf8.RuneStart(b[n]) {
		n-- // never cut a character in two
	}
	return string(b[:n]) + "…"
}
