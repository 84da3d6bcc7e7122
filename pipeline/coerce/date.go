package coerce

import (
	"fmt"
	"time"
)

// Date parses a calendar date into days since 1970-01-01, the representation of Arrow's
// Date32 and DuckDB's DATE.
//
// With layout "" it reads the forms UK returns use, always in day/month order (01/02/12 is
// the 1st of February 2012, never January the 2nd):
//
//	31/03/2024  1/3/2024  31/03/24  31-03-2024  31.03.2024
//	2024-03-31  2024/03/31
//	02-Nov-10  03-Jun-2013  31 Mar 2024  31-March-2024  (month names in any case, 3 letters or full, and Sept)
//
// Any of these may be followed by a time of day (" 00:00", " 00:00:00", "T09:30:00Z"),
// as spreadsheets and databases append one; it is checked and dropped. Two-digit years
// 00-69 are 2000-2069 and 70-99 are 1970-1999. The calendar is checked: 31/02/2024 is
// rejected, 29/02/2024 accepted.
//
// A non-empty layout is a Go time layout ("02/01/2006") that the value must match exactly;
// it follows the time package, whose two-digit year 69 is 1969.
func Date(b []byte, layout string) (days int32, null bool, err error) {
	v := b
	if NeedsTrim(v) {
		v = Trim(v)
	}
	if isNullTrimmed(v) {
		return 0, true, nil
	}
	if layout != "" {
		// The conversion does not allocate for short values: time.Parse copies the value
		// into any error it returns, so the string does not escape.
		t, err := time.Parse(layout, string(v))
		if err != nil {
			return 0, false, newError(CodeBadDate, v, "date %q does not match the date format %q", layout)
		}
		if t.Year() < 1 || t.Year() > 9999 { // the range the automatic forms allow
			return 0, false, newError(CodeBadDate, v, "date %q is not a valid day/month/year: the year must be from 0001 to 9999")
		}
		return int32(daysFromCivil(t.Year(), int(t.Month()), t.Day())), false, nil
	}
	if days, ok := isoDay(v); ok {
		return days, false, nil
	}
	y, m, d, numeric, ok := parseDate(v)
	if !ok {
		return 0, false, newError(CodeBadDate, v,
			"date %q is not in a form sofpipe reads: write day/month/year such as 31/03/2024, or 2024-03-31, or 31-Mar-2024")
	}
	if y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false, calendarError(v, y, m, d, numeric)
	}
	return int32(daysFromCivil(y, m, d)), false, nil
}

// isoDay is Date's fast path for the form most returns use, 2024-03-31 exactly: it reads
// a valid day of that form straight from its ten bytes, and reports false for anything else
// (other forms, and days that are not real), which the general path then reads or explains.
func isoDay(v []byte) (int32, bool) {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return 0, false
	}
	y0, y1, y2, y3 := v[0]-'0', v[1]-'0', v[2]-'0', v[3]-'0'
	m0, m1, d0, d1 := v[5]-'0', v[6]-'0', v[8]-'0', v[9]-'0'
	if y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 || m1 > 9 || d0 > 9 || d1 > 9 {
		return 0, false
	}
	y := int(y0)*1000 + int(y1)*100 + int(y2)*10 + int(y3)
	m, d := int(m0)*10+int(m1), int(d0)*10+int(d1)
	if y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return int32(daysFromCivil(y, m, d)), true
}

// calendarError explains a date that parsed but is not a real day. The two usual causes
// get a hint: US month/day order, and a day past the end of the month.
func calendarError(v []byte, y, m, d int, dayFirstNumeric bool) *Error {
	const base = "date %q is not a valid day/month/year (UK order)"
	switch {
	case dayFirstNumeric && m > 12 && m <= 31 && d >= 1 && d <= 12:
		return newError(CodeBadDate, v, base+"; it looks like month/day/year, the US order, which sofpipe never assumes")
	case y >= 1 && m >= 1 && m <= 12 && d > daysIn(y, m):
		return newError(CodeBadDate, v, base+": %s %d has %d days", time.Month(m), y, daysIn(y, m))
	}
	return newError(CodeBadDate, v, base)
}

// parseDate reads the syntax of the automatic forms. It does not check the calendar.
// dayFirstNumeric reports the d/m/y all-digits form, where US order is the likely mistake.
func parseDate(v []byte) (y, m, d int, dayFirstNumeric, ok bool) {
	n1, l1 := readNumber(v, 0)
	switch {
	case l1 == 4: // 2024-03-31
		if len(v) < 6 || (v[4] != '-' && v[4] != '/' && v[4] != '.') {
			return
		}
		sep := v[4]
		var lm, ld int
		m, lm = readNumber(v, 5)
		if lm < 1 || lm > 2 || 5+lm >= len(v) || v[5+lm] != sep {
			return
		}
		d, ld = readNumber(v, 6+lm)
		if ld < 1 || ld > 2 || !timeOfDay(v[6+lm+ld:]) {
			return
		}
		return n1, m, d, false, true

	case l1 == 1 || l1 == 2: // 31/03/2024, 31-Mar-2024, 31 March 2024
		if len(v) <= l1 {
			return
		}
		sep := v[l1]
		i := l1 + 1
		if isLetter(v, i) {
			if sep != '-' && sep != ' ' && sep != '/' {
				return
			}
			j := i
			for j < len(v) && v[j]|0x20 >= 'a' && v[j]|0x20 <= 'z' {
				j++
			}
			m = monthByName(v[i:j])
			i = j
		} else {
			if sep != '/' && sep != '-' && sep != '.' {
				return
			}
			var lm int
			m, lm = readNumber(v, i)
			if lm < 1 || lm > 2 {
				return
			}
			i += lm
			dayFirstNumeric = true
		}
		if m == 0 || i >= len(v) || v[i] != sep {
			return
		}
		var ly int
		y, ly = readNumber(v, i+1)
		switch ly {
		case 2:
			y = pivotYear(y)
		case 4:
		default:
			return
		}
		if !timeOfDay(v[i+1+ly:]) {
			return
		}
		return y, m, n1, dayFirstNumeric, true
	}
	return
}

// pivotYear turns a two-digit year into a full one: 00-69 are 2000s, 70-99 the 1900s.
func pivotYear(yy int) int {
	if yy < 70 {
		return 2000 + yy
	}
	return 1900 + yy
}

// readNumber reads up to 5 digits from v[i:] and returns their value and count; callers
// reject counts they do not expect, so 5 means "too many".
func readNumber(v []byte, i int) (n, count int) {
	for ; i < len(v) && isDigit(v[i]) && count < 5; i++ {
		n = n*10 + int(v[i]-'0')
		count++
	}
	return n, count
}

func isLetter(v []byte, i int) bool {
	return i < len(v) && v[i]|0x20 >= 'a' && v[i]|0x20 <= 'z'
}

// timeOfDay accepts what may follow a date: nothing, or " HH:MM", " HH:MM:SS",
// "THH:MM:SS.fff", optionally ending in Z. The time itself is dropped.
func timeOfDay(t []byte) bool {
	if len(t) == 0 {
		return true
	}
	if t[0] != ' ' && t[0] != 'T' {
		return false
	}
	t = Trim(t[1:])
	h, lh := readNumber(t, 0)
	if lh < 1 || lh > 2 || h > 23 || lh >= len(t) || t[lh] != ':' {
		return false
	}
	i := lh + 1
	if mi, lmi := readNumber(t, i); lmi != 2 || mi > 59 {
		return false
	}
	i += 2
	if i < len(t) && t[i] == ':' {
		if s, ls := readNumber(t, i+1); ls != 2 || s > 59 {
			return false
		}
		i += 3
		if i < len(t) && t[i] == '.' {
			j := i + 1
			for j < len(t) && isDigit(t[j]) {
				j++
			}
			if j == i+1 {
				return false
			}
			i = j
		}
	}
	if i < len(t) && t[i] == 'Z' {
		i++
	}
	return i == len(t)
}

var monthNames = [12]string{"january", "february", "march", "april", "may", "june",
	"july", "august", "september", "october", "november", "december"}

// monthByName returns 1-12 for a month's full name or first three letters, in any case,
// and for "Sept"; 0 otherwise.
func monthByName(b []byte) int {
	if len(b) < 3 || len(b) > len("september") {
		return 0
	}
	var buf [9]byte
	for i, c := range b {
		buf[i] = c | 0x20 // callers pass ASCII letters only
	}
	s := buf[:len(b)]
	for i, name := range monthNames {
		if string(s) == name || (len(s) == 3 && string(s) == name[:3]) {
			return i + 1
		}
	}
	if string(s) == "sept" {
		return 9
	}
	return 0
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days from 1970-01-01 to a proleptic Gregorian date, by Howard
// Hinnant's algorithm (https://howardhinnant.github.io/date_algorithms.html), which needs no
// tables and no time package.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(int64(y), 400)
	yoe := int64(y) - era*400
	mp := int64((m + 9) % 12) // March is 0, so the leap day ends the year
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(days int64) (y, m, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// DateString formats days since 1970-01-01 as an ISO date (2024-03-31), for messages.
func DateString(days int32) string {
	y, m, d := civilFromDays(int64(days))
	if y < 0 || y > 9999 {
		return fmt.Sprintf("%d-%02d-%02d", y, m, d)
	}
	b := [10]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-',
		byte('0' + d/10), byte('0' + d%10),
	}
	return string(b[:])
}

// Excel's 1900 date system numbers days from 1 = 1 January 1900 and counts a 29 February
// 1900 that never was (serial 60), so from 1 March 1900 on serial n is the day n days after
// 30 December 1899.
var excelEpoch = daysFromCivil(1899, 12, 30)

// ExcelSerial reads a whole number as an Excel 1900-system date serial (41058 is 27 May
// 2012), the form a spreadsheet saves a date cell in when the cell lost its date format.
// ok is false for anything but digits (an optional ".0…" of zeros is allowed: some
// exports write 41058.0). The day is returned whatever year it falls in; the caller
// decides which years are plausible. Serials before 1 March 1900 are refused (ok false),
// as Excel's own count is wrong there.
func ExcelSerial(b []byte) (days int32, ok bool) {
	v := Trim(b)
	if dot := indexByte(v, '.'); dot >= 0 {
		for _, c := range v[dot+1:] {
			if c != '0' {
				return 0, false
			}
		}
		v = v[:dot]
	}
	if len(v) == 0 || len(v) > 7 { // 7 digits is past the year 4000: no date at all
		return 0, false
	}
	n := int64(0)
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n <= 60 {
		return 0, false
	}
	return int32(excelEpoch + n), true
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}
