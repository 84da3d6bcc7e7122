package coerce

import (
	"fmt"
	"sync"
)

// The financial years whose names are made once, so that FinancialYear and
// FinancialYearOf return them without allocating; any other year is formatted on demand.
const (
	firstCachedFY = 1900
	lastCachedFY  = 2199
)

var fyNames = func() (names [lastCachedFY - firstCachedFY + 1]string) {
	for i := range names {
		names[i] = formatFY(firstCachedFY + i)
	}
	return names
}()

func formatFY(start int) string { return fmt.Sprintf("%04d-%02d", start, (start+1)%100) }

// fyName returns the canonical name ("2023-24") of the financial year starting in April of
// start.
func fyName(start int) string {
	if start >= firstCachedFY && start <= lastCachedFY {
		return fyNames[start-firstCachedFY]
	}
	return formatFY(start)
}

// FinancialYear normalises a UK financial year to its canonical form, 2023-24. It accepts
// 2023-24, 2023/24, 2023-2024, 2023–24 (en dash), FY2023-24, FY 23/24, 2023 to 2024, in any
// case and with spaces around the separator. The second year must be the one after the
// first.
func FinancialYear(b []byte) (string, error) {
	start, err := parseFY(b)
	if err != nil {
		return "", err
	}
	return fyName(start), nil
}

// FinancialYearStart returns the calendar year in which a financial year begins (2023 for
// 2023-24), accepting the forms FinancialYear does.
func FinancialYearStart(fy string) (int, error) {
	return parseFY([]byte(fy))
}

// FinancialYearOf returns the UK financial year (1 April to 31 March) of a day and its
// period: 1 for April through 12 for March.
func FinancialYearOf(days int32) (fy string, period int) {
	if t, i := fyTable(), int64(days)-fyTableFirstDay; i >= 0 && i < int64(len(t)) {
		e := t[i] // start year - firstCachedFY, then the period in the low 4 bits
		return fyNames[e>>4], int(e & 15)
	}
	return financialYearOfCivil(days)
}

// financialYearOfCivil is FinancialYearOf by the calendar, for days outside fyTable.
func financialYearOfCivil(days int32) (fy string, period int) {
	y, m, _ := civilFromDays(int64(days))
	if m >= 4 {
		return fyName(y), m - 3
	}
	return fyName(y - 1), m + 9
}

// fyTable gives, for each day of the cached financial years, its year and period, so that
// FinancialYearOf, asked once per spend line, looks them up instead of working out the
// calendar date. It is made on first use (110,000 days, 220 KB).
var fyTable = sync.OnceValue(func() []uint16 {
	last := daysFromCivil(lastCachedFY+1, 3, 31)
	t := make([]uint16, last-fyTableFirstDay+1)
	for i := range t {
		y, m, _ := civilFromDays(fyTableFirstDay + int64(i))
		start, period := y, m-3
		if m < 4 {
			start, period = y-1, m+9
		}
		t[i] = uint16(start-firstCachedFY)<<4 | uint16(period)
	}
	return t
})

// fyTableFirstDay is the first day fyTable covers: 1 April of firstCachedFY.
var fyTableFirstDay = daysFromCivil(firstCachedFY, 4, 1)

func parseFY(b []byte) (int, error) {
	orig := Trim(b)
	v := orig
	// The canonical form, 2023-24, which nearly every row has, read in one go; anything
	// else, or a second year that does not follow the first, takes the general path.
	if len(v) == 7 && v[4] == '-' && isDigit(v[0]) && isDigit(v[1]) && isDigit(v[2]) && isDigit(v[3]) && isDigit(v[5]) && isDigit(v[6]) {
		y1 := int(v[0]-'0')*1000 + int(v[1]-'0')*100 + int(v[2]-'0')*10 + int(v[3]-'0')
		if y2 := int(v[5]-'0')*10 + int(v[6]-'0'); y2 == (y1+1)%100 {
			return y1, nil
		}
	}
	return parseFYForms(orig)
}

// parseFYForms is parseFY's general path, for a trimmed value.
func parseFYForms(orig []byte) (int, error) {
	v := orig
	bad := func() (int, error) {
		return 0, newError(CodeBadFinancialYear, orig, "financial year %q is not in the form 2023-24")
	}
	if len(v) >= 2 && v[0]|0x20 == 'f' && v[1]|0x20 == 'y' {
		v = Trim(v[2:])
	}
	y1, l1 := readNumber(v, 0)
	switch l1 {
	case 2:
		y1 = pivotYear(y1)
	case 4:
	default:
		return bad()
	}
	rest := Trim(v[l1:])
	switch {
	case len(rest) > 0 && (rest[0] == '-' || rest[0] == '/'):
		rest = rest[1:]
	case len(rest) >= 3 && rest[0] == 0xE2 && rest[1] == 0x80 && rest[2] == 0x93: // en dash
		rest = rest[3:]
	case len(rest) >= 2 && rest[0]|0x20 == 't' && rest[1]|0x20 == 'o':
		rest = rest[2:]
	default:
		return bad()
	}
	rest = Trim(rest)
	y2, l2 := readNumber(rest, 0)
	if l2 != len(rest) || (l2 != 2 && l2 != 4) {
		return bad()
	}
	if (l2 == 2 && y2 != (y1+1)%100) || (l2 == 4 && y2 != y1+1) {
		return 0, newError(CodeBadFinancialYear, orig,
			"financial year %q is not valid: a financial year runs from April to the following March, so the second year must follow the first (as in %s)", fyName(y1))
	}
	return y1, nil
}
