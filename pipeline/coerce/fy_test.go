package coerce

import (
	"errors"
	"testing"
)

func TestFinancialYear(t *testing.T) {
	for in, want := range map[string]string{
		"2023-24": "2023-24", "2023/24": "2023-24", "2023-2024": "2023-24", "2023/2024": "2023-24",
		"FY2023-24": "2023-24", "fy 2023-24": "2023-24", "FY14/15": "2014-15", "23-24": "2023-24",
		"2023 to 2024": "2023-24", "2023 TO 24": "2023-24", " 2023 - 24 ": "2023-24", "2023–24": "2023-24",
		"1999-00": "1999-00", "1999-2000": "1999-00", "2099-00": "2099-00", "2250-51": "2250-51",
	} {
		got, err := FinancialYear([]byte(in))
		if err != nil || got != want {
			t.Errorf("FinancialYear(%q) = %q, %v; want %q", in, got, err, want)
		}
		start, err := FinancialYearStart(in)
		if err != nil || fyName(start) != want {
			t.Errorf("FinancialYearStart(%q) = %d, %v", in, start, err)
		}
	}
	for in, msg := range map[string]string{
		"2023-25":    `financial year "2023-25" is not valid: a financial year runs from April to the following March, so the second year must follow the first (as in 2023-24)`,
		"2023-2023":  "",
		"2024-23":    "",
		"2023":       `financial year "2023" is not in the form 2023-24`,
		"":           "",
		"2023-":      "",
		"2023-4":     "",
		"2023-024":   "",
		"FY":         "",
		"202-23":     "",
		"2023_24":    "",
		"2023-24x":   "",
		"P1 2023-24": "",
	} {
		_, err := FinancialYear([]byte(in))
		var ce *Error
		if !errors.As(err, &ce) || ce.Code != CodeBadFinancialYear {
			t.Errorf("FinancialYear(%q) err = %v; want bad_financial_year", in, err)
		} else if msg != "" && ce.Msg != msg {
			t.Errorf("FinancialYear(%q) message\n got %s\nwant %s", in, ce.Msg, msg)
		}
	}
}

func TestFinancialYearOf(t *testing.T) {
	cases := []struct {
		days   int32
		fy     string
		period int
	}{
		{day(2023, 4, 1), "2023-24", 1},
		{day(2023, 4, 30), "2023-24", 1},
		{day(2023, 5, 1), "2023-24", 2},
		{day(2023, 12, 31), "2023-24", 9},
		{day(2024, 1, 1), "2023-24", 10},
		{day(2024, 2, 29), "2023-24", 11},
		{day(2024, 3, 31), "2023-24", 12},
		{day(2024, 4, 1), "2024-25", 1},
		{day(1999, 6, 1), "1999-00", 3},
		{day(1970, 1, 1), "1969-70", 10},
	}
	for _, tc := range cases {
		fy, p := FinancialYearOf(tc.days)
		if fy != tc.fy || p != tc.period {
			t.Errorf("FinancialYearOf(%s) = %s P%d, want %s P%d", DateString(tc.days), fy, p, tc.fy, tc.period)
		}
	}
}

// TestFinancialYearOfTable checks the table FinancialYearOf looks days up in against the
// calendar, for every day it holds and a few either side.
func TestFinancialYearOfTable(t *testing.T) {
	first := int32(fyTableFirstDay)
	last := first + int32(len(fyTable())) - 1
	for d := first - 400; d <= last+400; d++ {
		fy, p := FinancialYearOf(d)
		wantFY, wantP := financialYearOfCivil(d)
		if fy != wantFY || p != wantP {
			t.Fatalf("day %d (%s): %s P%d, want %s P%d", d, DateString(d), fy, p, wantFY, wantP)
		}
	}
	if fy, p := FinancialYearOf(first); fy != "1900-01" || p != 1 {
		t.Errorf("first day of the table: %s P%d, want 1900-01 P1", fy, p)
	}
	if fy, p := FinancialYearOf(last); fy != "2199-00" || p != 12 {
		t.Errorf("last day of the table: %s P%d, want 2199-00 P12", fy, p)
	}
}
