package coerce

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestInt(t *testing.T) {
	ok := map[string]int64{
		"0": 0, "3": 3, " 3 ": 3, "+3": 3, "-3": -3, "3.0": 3, "3.00": 3, "-3.0": -3, "3.": 3,
		"1,234": 1234, "007": 7,
		"9223372036854775807":  math.MaxInt64,
		"-9223372036854775808": math.MinInt64,
	}
	for in, want := range ok {
		got, null, err := Int([]byte(in))
		if err != nil || null || got != want {
			t.Errorf("Int(%q) = %d, %v, %v; want %d", in, got, null, err, want)
		}
	}
	if _, null, err := Int([]byte(" n/a ")); !null || err != nil {
		t.Errorf("Int(n/a) not null: %v", err)
	}
	bad := map[string]string{
		"3.5":                     `"3.5" is not a whole number`,
		"3.01":                    "",
		"1e3":                     "",
		"abc":                     "",
		"--3":                     "",
		"+":                       "",
		".0":                      "",
		"3 4":                     "",
		"£3":                      "",
		"(3)":                     "",
		",3":                      "",
		"9223372036854775808":     `"9223372036854775808" is too large for a whole number`,
		"-9223372036854775809":    "",
		"99999999999999999999999": "",
	}
	for in, msg := range bad {
		_, null, err := Int([]byte(in))
		var ce *Error
		if null || !errors.As(err, &ce) || ce.Code != CodeBadInt {
			t.Errorf("Int(%q) = null %v, %v; want bad_int", in, null, err)
		} else if msg != "" && ce.Msg != msg {
			t.Errorf("Int(%q) message %q, want %q", in, ce.Msg, msg)
		}
	}
}

func TestFloat(t *testing.T) {
	ok := map[string]float64{
		"0": 0, "1234.5": 1234.5, "1,234.5": 1234.5, "-0.25": -0.25, ".5": 0.5, "5.": 5,
		"+2": 2, "1e-3": 0.001, "2.5E+4": 25000, "(12.5)": -12.5, "( 1,000 )": -1000, " 3 ": 3,
		"0.1": 0.1, "1.7976931348623157e308": math.MaxFloat64, "1e-400": 0,
	}
	for in, want := range ok {
		got, null, err := Float([]byte(in))
		if err != nil || null || got != want {
			t.Errorf("Float(%q) = %v, %v, %v; want %v", in, got, null, err, want)
		}
	}
	long := "0." + strings.Repeat("0", 100) + "1"
	if got, _, err := Float([]byte(long)); err != nil || got != 1e-101 {
		t.Errorf("Float(long) = %v, %v", got, err)
	}
	if _, null, err := Float([]byte("NA")); !null || err != nil {
		t.Errorf("Float(NA) not null: %v", err)
	}
	bad := map[string]string{
		"12%":   `"12%" is not a number`,
		"1e999": `"1e999" is out of range for a number`,
		"£12":   "", "NaN": "", "Inf": "", "-Inf": "", "0x1p3": "", "1_000": "", "e5": "", "1e": "",
		"1e+": "", ".": "", "(-1)": "", "--1": "", "1.2.3": "", ",5": "", "5,": "", "()": "", "(": "", "1 2": "",
	}
	for in, msg := range bad {
		_, null, err := Float([]byte(in))
		var ce *Error
		if null || !errors.As(err, &ce) || ce.Code != CodeBadNumber {
			t.Errorf("Float(%q) = null %v, %v; want bad_number", in, null, err)
		} else if msg != "" && ce.Msg != msg {
			t.Errorf("Float(%q) message %q, want %q", in, ce.Msg, msg)
		}
	}
}
