package coerce

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// day returns the Date32 value of a date, computed by the time package as a reference.
func day(y int, m time.Month, d int) int32 {
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func TestDate(t *testing.T) {
	ok := []struct {
		in, layout string
		want       int32
	}{
		{"31/03/2024", "", day(2024, 3, 31)},
		{"1/3/2024", "", day(2024, 3, 1)},
		{"31/03/24", "", day(2024, 3, 31)},
		{"01/02/12", "", day(2012, 2, 1)}, // UK order: 1 February, never 2 January
		{"15/04/2013", "", day(2013, 4, 15)},
		{"31-03-2024", "", day(2024, 3, 31)},
		{"31.03.2024", "", day(2024, 3, 31)},
		{"2024-03-31", "", day(2024, 3, 31)},
		{"2024/3/1", "", day(2024, 3, 1)},
		{"02-Nov-10", "", day(2010, 11, 2)},
		{"03-Jun-2013", "", day(2013, 6, 3)},
		{"3-jun-2013", "", day(2013, 6, 3)},
		{"31 Mar 2024", "", day(2024, 3, 31)},
		{"31-March-2024", "", day(2024, 3, 31)},
		{"31 MARCH 2024", "", day(2024, 3, 31)},
		{"30/Sept/2023", "", day(2023, 9, 30)},
		{"1 september 23", "", day(2023, 9, 1)},
		{" 29/02/2024 ", "", day(2024, 2, 29)},
		{"29/02/2000", "", day(2000, 2, 29)},
		{"01/01/70", "", day(1970, 1, 1)},
		{"31/12/69", "", day(2069, 12, 31)},
		{"01/01/99", "", day(1999, 1, 1)},
		{"01/01/00", "", day(2000, 1, 1)},
		{"15/04/2013 00:00", "", day(2013, 4, 15)},
		{"2024-03-31 00:00:00", "", day(2024, 3, 31)},
		{"2024-03-31T09:30:00.123Z", "", day(2024, 3, 31)},
		{"31/03/2024 23:59", "", day(2024, 3, 31)},
		{"1900-03-01", "", day(1900, 3, 1)},
		{"0001-01-01", "", day(1, 1, 1)},
		{"9999-12-31", "", day(9999, 12, 31)},
		{"02/01/2006", "02/01/2006", day(2006, 1, 2)},
		{"2024-03-31", "2006-01-02", day(2024, 3, 31)},
		{"31 Mar 24", "02 Jan 06", day(2024, 3, 31)},
		{"03/31/2024", "01/02/2006", day(2024, 3, 31)}, // a layout may ask for US order explicitly
	}
	for _, tc := range ok {
		got, null, err := Date([]byte(tc.in), tc.layout)
		if err != nil || null || got != tc.want {
			t.Errorf("Date(%q, %q) = %d (%s), %v, %v; want %d (%s)", tc.in, tc.layout, got, DateString(got), null, err, tc.want, DateString(tc.want))
		}
	}

	for _, s := range []string{"", " ", "N/A", "-", "null"} {
		if _, null, err := Date([]byte(s), ""); !null || err != nil {
			t.Errorf("Date(%q): null %v, err %v; want null", s, null, err)
		}
		if _, null, err := Date([]byte(s), "02/01/2006"); !null || err != nil {
			t.Errorf("Date(%q) with a layout: null %v, err %v; want null", s, null, err)
		}
	}

	bad := []struct{ in, layout, msg string }{
		{"02/30/2024", "", `date "02/30/2024" is not a valid day/month/year (UK order); it looks like month/day/year, the US order, which sofpipe never assumes`},
		{"31/02/2024", "", `date "31/02/2024" is not a valid day/month/year (UK order): February 2024 has 29 days`},
		{"29/02/2023", "", `date "29/02/2023" is not a valid day/month/year (UK order): February 2023 has 28 days`},
		{"29/02/1900", "", ""},
		{"31/04/2024", "", ""},
		{"00/01/2024", "", `date "00/01/2024" is not a valid day/month/year (UK order)`},
		{"01/13/2024", "", ""},
		{"01/00/2024", "", ""},
		{"0000-01-01", "", ""},
		{"32/01/2024", "", ""},
		{"2024-13-01", "", ""},
		{"31-Foo-2024", "", ""},
		{"31-Ma-2024", "", ""},
		{"31-Marc-2024", "", ""},
		{"Mar 31, 2024", "", `date "Mar 31, 2024" is not in a form sofpipe reads: write day/month/year such as 31/03/2024, or 2024-03-31, or 31-Mar-2024`},
		{"31/03/202", "", ""},
		{"31/03/20245", "", ""},
		{"31/03-2024", "", ""},
		{"31 03 2024", "", ""},
		{"31.Mar.2024", "", ""},
		{"20240331", "", ""},
		{"2024-03", "", ""},
		{"2024-03-31-", "", ""},
		{"31/03/2024 25:00", "", ""},
		{"31/03/2024 10:6", "", ""},
		{"31/03/2024 noon", "", ""},
		{"31/03/2024T", "", ""},
		{"45383", "", ""}, // an Excel serial number: not guessed at
		{"yesterday", "", ""},
		{"1/3/2024", "02/01/2006", `date "1/3/2024" does not match the date format "02/01/2006"`},
		{"31/02/2024", "02/01/2006", ""},
	}
	for _, tc := range bad {
		_, null, err := Date([]byte(tc.in), tc.layout)
		var ce *Error
		if null || !errors.As(err, &ce) || ce.Code != CodeBadDate {
			t.Errorf("Date(%q, %q) = null %v, err %v; want bad_date", tc.in, tc.layout, null, err)
			continue
		}
		if tc.msg != "" && ce.Error() != tc.msg {
			t.Errorf("Date(%q) message\n got %s\nwant %s", tc.in, ce.Error(), tc.msg)
		}
	}
}

// TestCivilDays checks the day arithmetic against the time package over 800 years.
func TestCivilDays(t *testing.T) {
	start := time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := 0; d < 800*366; d++ {
		tm := start.AddDate(0, 0, d)
		want := tm.Unix() / 86400
		if got := daysFromCivil(tm.Year(), int(tm.Month()), tm.Day()); got != want {
			t.Fatalf("daysFromCivil(%s) = %d, want %d", tm.Format("2006-01-02"), got, want)
		}
		y, m, dd := civilFromDays(want)
		if y != tm.Year() || m != int(tm.Month()) || dd != tm.Day() {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %s", want, y, m, dd, tm.Format("2006-01-02"))
		}
	}
}

func TestDateString(t *testing.T) {
	for days, want := range map[int32]string{
		0:                     "1970-01-01",
		-1:                    "1969-12-31",
		day(2024, 2, 29):      "2024-02-29",
		day(1, 1, 1):          "0001-01-01",
		day(9999, 12, 31):     "9999-12-31",
		day(9999, 12, 31) + 1: "10000-01-01",
	} {
		if got := DateString(days); got != want {
			t.Errorf("DateString(%d) = %s, want %s", days, got, want)
		}
	}
}

// TestFastPathsAgree checks Date's and FinancialYear's fast paths against their general
// paths on every value of the fast paths' shapes near the edges: each digit position
// varied through all ten digits and a few non-digits.
func TestFastPathsAgree(t *testing.T) {
	variants := func(base string) []string {
		out := []string{base}
		for i := range base {
			for _, c := range "0123456789/ -a\xc2" {
				b := []byte(base)
				b[i] = byte(c)
				out = append(out, string(b))
			}
		}
		return out
	}
	var dates []string
	for _, base := range []string{"2024-02-29", "2023-02-28", "1900-02-29", "2000-12-31", "0001-01-01", "9999-12-31", "2024-04-30"} {
		dates = append(dates, variants(base)...)
	}
	// Every month and day from 00 to 99 in years that test the calendar's edges.
	for _, y := range []string{"0000", "0001", "1900", "1999", "2000", "2023", "2024", "2100", "9999"} {
		for md := range 10000 {
			dates = append(dates, fmt.Sprintf("%s-%02d-%02d", y, md/100, md%100))
		}
	}
	fastDays := 0
	for _, s := range dates {
		days, fast := isoDay([]byte(s))
		y, m, d, _, ok := parseDate([]byte(s))
		valid := ok && y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
		switch {
		case fast && (!valid || int32(daysFromCivil(y, m, d)) != days):
			t.Errorf("isoDay(%q) = %d; the general path gives %d-%d-%d, valid %v", s, days, y, m, d, valid)
		case !fast && valid && isoForm(s):
			t.Errorf("isoDay(%q) left a valid day of its form to the general path", s)
		}
		if fast {
			fastDays++
		}
	}
	if fastDays < 8*366 {
		t.Errorf("only %d days went by the fast path", fastDays)
	}
	var fys []string
	for _, base := range []string{"2023-24", "1999-00", "2099-00", "0000-01"} {
		fys = append(fys, variants(base)...)
	}
	for _, s := range fys {
		got, gotErr := parseFY([]byte(s))
		want, wantErr := parseFYForms(Trim([]byte(s)))
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("parseFY(%q) = %d, %v; the general path gives %d, %v", s, got, gotErr, want, wantErr)
		}
	}
}

// isoForm reports whether s is dddd-dd-dd.
func isoForm(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range []byte(s) {
		if i != 4 && i != 7 && !isDigit(c) {
			return false
		}
	}
	return true
}
