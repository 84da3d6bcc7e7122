package coerce

import (
	"errors"
	"testing"
)

// The value forms of real returns beyond the first five files: bookkeepers' trailing
// signs, amounts in another currency, digits past the pence, and Excel day numbers.

func TestMoneyTrailingSign(t *testing.T) {
	for in, want := range map[string]int64{
		"1,234.50-":    -123450,
		"1234.50 -":    -123450,
		"£1,234.50-":   -123450,
		"1,234.50CR":   -123450,
		"1,234.50 CR":  -123450,
		"1,234.50 cr":  -123450,
		"£25,000 Cr":   -2500000,
		" 46,528.00- ": -4652800,
		"12.-":         -1200,
		"0.00-":        0,
	} {
		cents, null, err := Money([]byte(in))
		if err != nil || null || cents != want {
			t.Errorf("Money(%q) = %d, %v, %v; want %d", in, cents, null, err, want)
		}
	}
	// A trailing sign beside a leading one or brackets is two signs; other suffixes are
	// not signs at all.
	for _, in := range []string{"-1,234.50-", "(1,234.50)-", "(1,234.50 CR)", "+5 CR", "1,234.50 DR", "1,234.50--", "CR", "- CR", "1,234.50 C R", "12CR5"} {
		if _, _, err := Money([]byte(in)); !isCode(err, CodeBadMoney) {
			t.Errorf("Money(%q): err %v, want bad_money", in, err)
		}
	}
}

func TestMoneyForeignCurrency(t *testing.T) {
	for in, sign := range map[string]string{"$1,432.92": "$", "US$ 500": "US$", "€500.00": "€", "-€5": "€", "1,000 USD": "USD", "eur 12": "EUR", "¥100": "¥"} {
		_, _, err := Money([]byte(in))
		var ce *Error
		if !errors.As(err, &ce) || ce.Code != CodeForeignCurrency {
			t.Errorf("Money(%q): err %v, want foreign_currency", in, err)
			continue
		}
		if want := "(" + sign + ")"; !contains(ce.Msg, want) {
			t.Errorf("Money(%q): message %q does not name %s", in, ce.Msg, want)
		}
	}
	// Pounds and letters that are no currency stay what they were.
	if _, _, err := Money([]byte("12a")); !isCode(err, CodeBadMoney) {
		t.Errorf("Money(12a): %v, want bad_money", err)
	}
}

func TestMoneyRounded(t *testing.T) {
	for _, tc := range []struct {
		in      string
		cents   int64
		rounded bool
	}{
		{"12.345", 1235, true}, // half away from zero
		{"-12.345", -1235, true},
		{"(12.345)", -1235, true},
		{"12.3449", 1234, true},
		{"12.3450000001", 1235, true},
		{"43266.685", 4326669, true}, // from a real DH return
		{"0.005", 1, true},
		{"-0.005", -1, true},
		{"0.004999", 0, true},
		{"12.34", 1234, false},
		{"12.340000", 1234, false}, // zeros past the pence change nothing
		{"1,234.565-", -123457, true},
		{"£99.999", 10000, true},
	} {
		cents, rounded, null, err := MoneyRounded([]byte(tc.in))
		if err != nil || null || cents != tc.cents || rounded != tc.rounded {
			t.Errorf("MoneyRounded(%q) = %d, %v, %v, %v; want %d, %v", tc.in, cents, rounded, null, err, tc.cents, tc.rounded)
		}
		if !tc.rounded {
			continue
		}
		// Without the option the same value is refused, as before.
		if _, _, err := Money([]byte(tc.in)); !isCode(err, CodeMoneyPrecision) {
			t.Errorf("Money(%q): %v, want money_precision", tc.in, err)
		}
	}
	// Rounding up past the largest amount is an overflow, not a wrap.
	if _, _, _, err := MoneyRounded([]byte("9999999999999999.995")); !isCode(err, CodeMoneyOverflow) {
		t.Errorf("MoneyRounded at the limit: %v, want money_overflow", err)
	}
}

func TestExcelSerial(t *testing.T) {
	for in, want := range map[string]string{
		"41058":   "2012-05-29", // ipo/1205IPOpayments.csv, among other May 2012 days
		"40563":   "2011-01-20",
		"61":      "1900-03-01",
		"32874":   "1990-01-01",
		"73415":   "2100-12-31",
		"45382":   "2024-03-31",
		"41058.0": "2012-05-29",
		" 41058 ": "2012-05-29",
	} {
		d, ok := ExcelSerial([]byte(in))
		if !ok || DateString(d) != want {
			t.Errorf("ExcelSerial(%q) = %s, %v; want %s", in, DateString(d), ok, want)
		}
	}
	for _, in := range []string{"", "60", "0", "41058.5", "4105a", "-41058", "12345678", "41,058", "31/03/2024"} {
		if d, ok := ExcelSerial([]byte(in)); ok {
			t.Errorf("ExcelSerial(%q) = %s, want not a serial", in, DateString(d))
		}
	}
}

func isCode(err error, code Code) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Code == code
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
