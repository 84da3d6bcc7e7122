package coerce

import (
	"errors"
	"strings"
	"testing"
)

func TestIsNull(t *testing.T) {
	for _, s := range []string{"", " ", "\t", "N/A", "n/a", "N/a", " NA ", "na", "-", " - ", "null", "NULL", "Null", "\u00a0", "\u00a0N/A\u00a0"} {
		if !IsNull([]byte(s)) {
			t.Errorf("IsNull(%q) = false", s)
		}
	}
	for _, s := range []string{"0", "--", "n", "N/", "nil", "none", "nulls", "-0", "NaN", "n.a", "N-A"} {
		if IsNull([]byte(s)) {
			t.Errorf("IsNull(%q) = true", s)
		}
	}
}

func TestMoney(t *testing.T) {
	ok := []struct {
		in    string
		cents int64
	}{
		{"1234.5", 123450},
		{"1234.50", 123450},
		{"1,234.50", 123450},
		{"£1,234.50", 123450},
		{"(1,234.50)", -123450},
		{"(£1,234.50)", -123450},
		{"( 12.00 )", -1200},
		{"-£46,528.00", -4652800},
		{"£-46,528.00", -4652800},
		{"- £5", -500},
		{"-1234", -123400},
		{" 12.3 ", 1230},
		{"+5", 500},
		{"£ 12.00", 1200},
		{"12.500", 1250},
		{"12.0000000", 1200},
		{".5", 50},
		{"5.", 500},
		{"0", 0},
		{"-0.00", 0},
		{"£102,000.00", 10200000},
		{"100,685.82", 10068582},
		{"1,2,3", 12300}, // loose grouping is accepted
		{"0012", 1200},
		{"150000", 15000000},
		{"\u00a01,234\u00a0", 123400},
		{"9999999999999999.99", 999999999999999999},
		{"-9,999,999,999,999,999.99", -999999999999999999},
		{"00000000000000000000001", 100},
	}
	for _, tc := range ok {
		cents, null, err := Money([]byte(tc.in))
		if err != nil || null || cents != tc.cents {
			t.Errorf("Money(%q) = %d, %v, %v; want %d", tc.in, cents, null, err, tc.cents)
		}
	}

	for _, s := range []string{"", "N/A", "-", " null "} {
		if _, null, err := Money([]byte(s)); !null || err != nil {
			t.Errorf("Money(%q): null = %v, err = %v; want null", s, null, err)
		}
	}

	bad := []struct {
		in   string
		code Code
		msg  string
	}{
		{"12.345", CodeMoneyPrecision, `amount "12.345" has more than 2 decimal places`},
		{"0.001", CodeMoneyPrecision, ""},
		{"10000000000000000", CodeMoneyOverflow, `amount "10000000000000000" is too large: amounts must be less than £10,000,000,000,000,000`},
		{"-10,000,000,000,000,000.00", CodeMoneyOverflow, ""},
		{"99999999999999999999999999", CodeMoneyOverflow, ""},
		{"12a", CodeBadMoney, `amount "12a" is not an amount of money: write pounds and pence, such as 1234.50, £1,234.50, -£1,234.50 or (1,234.50)`},
		{"abc", CodeBadMoney, ""},
		{"£", CodeBadMoney, ""},
		{"()", CodeBadMoney, ""},
		{"(£)", CodeBadMoney, ""},
		{"(12", CodeBadMoney, ""},
		{"--5", CodeBadMoney, ""},
		{"+-5", CodeBadMoney, ""},
		{"-£-5", CodeBadMoney, ""},
		{"(-5)", CodeBadMoney, ""},
		{"££5", CodeBadMoney, ""},
		{"5--", CodeBadMoney, ""}, // 5- is a refund (forms_test.go); two trailing signs are not
		{".", CodeBadMoney, ""},
		{",123", CodeBadMoney, ""},
		{"123,", CodeBadMoney, ""},
		{"1,,234", CodeBadMoney, ""},
		{"1,234.5,0", CodeBadMoney, ""},
		{"1.2.3", CodeBadMoney, ""},
		{"1e5", CodeBadMoney, ""},
		{"12.345x", CodeBadMoney, ""}, // a malformed value is bad_money even with extra digits
		{"$12", CodeForeignCurrency, ""},
		{"\xA312", CodeBadMoney, ""}, // an undecoded Windows-1252 £
		{"12 34", CodeBadMoney, ""},
		{"£12.00 GBP", CodeBadMoney, ""},
	}
	for _, tc := range bad {
		_, null, err := Money([]byte(tc.in))
		var ce *Error
		if null || !errors.As(err, &ce) || ce.Code != tc.code {
			t.Errorf("Money(%q) = null %v, err %v; want code %s", tc.in, null, err, tc.code)
			continue
		}
		if tc.msg != "" && ce.Error() != tc.msg {
			t.Errorf("Money(%q) message\n got %s\nwant %s", tc.in, ce.Error(), tc.msg)
		}
		if ce.Value != strings.TrimSpace(tc.in) {
			t.Errorf("Money(%q) Value = %q", tc.in, ce.Value)
		}
	}
}

func TestErrorValueIsClipped(t *testing.T) {
	long := strings.Repeat("£", 200) // two bytes each: the clip must not split one
	_, _, err := Money([]byte(long))
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Value) > maxValueBytes+len("…") || !strings.HasSuffix(ce.Value, "…") {
		t.Fatalf("Value = %q", ce.Value)
	}
	if strings.ContainsRune(strings.TrimSuffix(ce.Value, "…"), '\uFFFD') {
		t.Fatalf("clipping split a character: %q", ce.Value)
	}
}

func TestNoAllocations(t *testing.T) {
	money := []byte("-£46,528.00")
	date := []byte("02-Nov-10")
	uk := []byte("15/04/2013 00:00")
	iso := []byte("2024-03-31")
	num := []byte("(1,234.5e2)")
	whole := []byte(" 1,234 ")
	fy := []byte("FY 2023/24")
	null := []byte(" N/A ")
	allocs := testing.AllocsPerRun(100, func() {
		IsNull(null)
		Money(money)
		Money(null)
		Date(date, "")
		Date(uk, "")
		Date(iso, "2006-01-02")
		Date(uk, "02/01/2006 15:04")
		Float(num)
		Int(whole)
		FinancialYear(fy)
		FinancialYearStart("2023-24")
		FinancialYearOf(19812)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations on the success path, want 0", allocs)
	}
}
