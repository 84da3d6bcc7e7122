package coerce

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// formatCents writes pence as pounds with two decimals, the inverse Money must agree with.
func formatCents(c int64) string {
	sign := ""
	u := uint64(c)
	if c < 0 {
		sign, u = "-", uint64(-c)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

func FuzzMoney(f *testing.F) {
	for _, s := range []string{"1234.5", "£1,234.50", "(1,234.50)", "-£46,528.00", "£-46,528.00", " 12.3 ",
		"+5", "£ 12.00", "12.500", "12.345", "()", "--5", "1,234.50-", "1,234.50 CR", "$5", "€5", "9999999999999999.99", "10000000000000000", "N/A", ".5", "1,,2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cents, null, err := Money(in)
		if err != nil || null {
			return
		}
		if cents <= -1e18 || cents >= 1e18 {
			t.Fatalf("Money(%q) = %d, outside DECIMAL(18,2)", in, cents)
		}
		again, null, err := Money([]byte(formatCents(cents)))
		if err != nil || null || again != cents {
			t.Fatalf("Money(%q) = %d, but %q parses to %d, %v", in, cents, formatCents(cents), again, err)
		}
		r := oracleAmount(t, in)
		if !r.IsInt() || r.Num().Int64() != cents {
			t.Fatalf("Money(%q) = %d, math/big says %s", in, cents, r.RatString())
		}
	})
}

// oracleAmount is an independent reading of an amount Money accepted, in pence: strip
// what Money allows around the number (£, grouping commas, brackets, signs, a trailing
// CR) and let math/big read the rest exactly.
func oracleAmount(t *testing.T, in []byte) *big.Rat {
	v := Trim(in)
	neg := bytes.HasPrefix(v, []byte("(")) || bytes.Contains(v, []byte("-"))
	if n := len(v); n >= 2 && v[n-2]|0x20 == 'c' && v[n-1]|0x20 == 'r' {
		neg, v = true, v[:n-2]
	}
	clean := strings.Map(func(r rune) rune {
		if strings.ContainsRune("£,()-+\u00a0", r) || r < utf8.RuneSelf && isSpace(byte(r)) {
			return -1
		}
		return r
	}, string(v))
	r, ok := new(big.Rat).SetString(clean)
	if !ok {
		t.Fatalf("Money accepted %q but math/big cannot read %q", in, clean)
	}
	r.Mul(r, big.NewRat(100, 1))
	if neg {
		r.Neg(r)
	}
	return r
}

// FuzzMoneyRounded holds round_money_to_pence to math/big: the pence are the exact value
// rounded half away from zero, rounded is true exactly when that changed the value, and
// whatever Money accepts MoneyRounded reads the same.
func FuzzMoneyRounded(f *testing.F) {
	for _, s := range []string{"12.345", "-12.345", "(0.005)", "12.3449", "1,234.565-", "99.995 CR", "£0.004999",
		"9999999999999999.995", "12.34", "$1.005", "1e3", "0.5.5"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cents, rounded, null, err := MoneyRounded(in)
		plain, _, plainErr := Money(in)
		if plainErr == nil && (err != nil || rounded || cents != plain) {
			t.Fatalf("Money(%q) = %d but MoneyRounded = %d, %v, %v", in, plain, cents, rounded, err)
		}
		if err != nil || null {
			return
		}
		if cents <= -1e18 || cents >= 1e18 {
			t.Fatalf("MoneyRounded(%q) = %d, outside DECIMAL(18,2)", in, cents)
		}
		exact := oracleAmount(t, in)
		if rounded == exact.IsInt() {
			t.Fatalf("MoneyRounded(%q): rounded %v, but the exact value is %s pence", in, rounded, exact.RatString())
		}
		// Half away from zero: |exact| + 1/2, floored, with the sign put back.
		abs := new(big.Rat).Abs(exact)
		abs.Add(abs, big.NewRat(1, 2))
		q := new(big.Int).Quo(abs.Num(), abs.Denom())
		if exact.Sign() < 0 {
			q.Neg(q)
		}
		if q.Int64() != cents {
			t.Fatalf("MoneyRounded(%q) = %d, math/big rounds %s to %s", in, cents, exact.RatString(), q)
		}
	})
}

// FuzzExcelSerial: a serial is read only from digits, and lands on the day a calendar
// count from 30 December 1899 gives.
func FuzzExcelSerial(f *testing.F) {
	for _, s := range []string{"41058", "40563.0", "61", "60", "73415", "9999999", " 32874 ", "4105a", "41058.5"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		days, ok := ExcelSerial(in)
		if !ok {
			return
		}
		s := strings.TrimSpace(strings.Trim(string(Trim(in)), " "))
		if i := strings.IndexByte(s, '.'); i >= 0 {
			s = s[:i]
		}
		n, good := new(big.Int).SetString(s, 10)
		if !good || n.Int64() <= 60 {
			t.Fatalf("ExcelSerial(%q) read a serial from %q", in, s)
		}
		want := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n.Int64()))
		if DateString(days) != want.Format("2006-01-02") {
			t.Fatalf("ExcelSerial(%q) = %s, want %s", in, DateString(days), want.Format("2006-01-02"))
		}
	})
}

func FuzzDate(f *testing.F) {
	for _, s := range []string{"31/03/2024", "1/3/2024", "31/03/24", "01/02/12", "2024-03-31", "02-Nov-10",
		"03-Jun-2013", "31 Mar 2024", "31-March-2024", "29/02/2023", "02/30/2024", "15/04/2013 00:00",
		"2024-03-31T09:30:00.5Z", "30/Sept/2023", "N/A"} {
		f.Add([]byte(s), uint8(0))
	}
	f.Add([]byte("02/01/2006"), uint8(1))
	f.Add([]byte("2006-01-02"), uint8(2))
	layouts := []string{"", "02/01/2006", "2006-01-02", "2-Jan-06"}
	f.Fuzz(func(t *testing.T, in []byte, l uint8) {
		layout := layouts[int(l)%len(layouts)]
		days, null, err := Date(in, layout)
		if err != nil || null {
			return
		}
		y, m, d := civilFromDays(int64(days))
		if y < 1 || y > 9999 {
			t.Fatalf("Date(%q, %q) = %d, year %d", in, layout, days, y)
		}
		if want := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400; want != int64(days) {
			t.Fatalf("Date(%q) = %d but %d-%02d-%02d is day %d", in, days, y, m, d, want)
		}
		iso := DateString(days)
		again, _, err := Date([]byte(iso), "")
		if err != nil || again != days {
			t.Fatalf("Date(%q) = %d = %s, which parses back to %d, %v", in, days, iso, again, err)
		}
	})
}
