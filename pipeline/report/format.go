package report

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// The page writes numbers as UK government publications do: £1.2m, £350,000, 74%,
// 31 March 2025, 10,649. Every figure is rounded half away from zero, as a reader rounding
// by hand would.

// roundHalfAway rounds x to dp decimal places, halves away from zero.
func roundHalfAway(x float64, dp int) float64 {
	p := math.Pow(10, float64(dp))
	// Through the 9 dp the marts decide on first, so 2.675 (2.67499… in binary) is 2.68.
	v := math.Round(x*p*1e9) / 1e9
	if v < 0 {
		return -math.Floor(-v+0.5) / p
	}
	return math.Floor(v+0.5) / p
}

// fixed writes x with dp decimals, dropping a trailing ".0…" when trim is set.
func fixed(x float64, dp int, trim bool) string {
	s := strconv.FormatFloat(roundHalfAway(x, dp), 'f', dp, 64)
	if trim && strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// Count writes a whole number with thousands separators: 10,649.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Money writes pounds: £1.2bn, £1.2m, £350,000, £512; negative amounts with a minus
// before the pound sign.
func Money(x float64) string {
	sign := ""
	if x < 0 {
		sign, x = "-", -x
	}
	switch {
	case roundHalfAway(x/1e9, 1) >= 1:
		return sign + "£" + fixed(x/1e9, 1, true) + "bn"
	case roundHalfAway(x/1e6, 1) >= 1:
		return sign + "£" + fixed(x/1e6, 1, true) + "m"
	default:
		n := int64(roundHalfAway(x, 0))
		if n == 0 {
			sign = ""
		}
		return sign + "£" + Count(n)
	}
}

// MoneyOr writes *x as Money, or dash when it is nil.
func MoneyOr(x *float64, dash string) string {
	if x == nil {
		return dash
	}
	return Money(*x)
}

// Percent writes a share as a whole percentage: 0.744 is 74%.
func Percent(share float64) string { return fixed(share*100, 0, false) + "%" }

// SignedPercent writes a share with its sign: +4%, -12%, 0%.
func SignedPercent(share float64) string {
	s := Percent(share)
	if !strings.HasPrefix(s, "-") && s != "0%" {
		s = "+" + s
	}
	return s
}

// Date writes a date as 31 March 2025.
func Date(t time.Time) string { return t.Format("2 January 2006") }

// Month writes a month as March 2025.
func Month(t time.Time) string { return t.Format("January 2006") }

// Score writes a score to one decimal place: 75.5, 70.0.
func Score(x float64) string { return fixed(x, 1, false) }

// Ratio writes a benefit-cost ratio to at most two decimals: 2.4, 0.82, 3.
func Ratio(x float64) string { return fixed(x, 2, true) }

// Decimal writes x to at most dp decimals.
func Decimal(x float64, dp int) string { return fixed(x, dp, true) }

// BandName is how the page names a band.
func BandName(band string) string {
	switch band {
	case "scale_up":
		return "Scale up"
	case "extend_and_evaluate":
		return "Extend and evaluate"
	case "stop_and_learn":
		return "Stop and learn"
	}
	return band
}

// periodMonth is the calendar month of a financial year's period: 2024-25 P1 is April
// 2024, P12 March 2025.
func periodMonth(fy string, period int64) (time.Time, bool) {
	if len(fy) < 4 || period < 1 || period > 12 {
		return time.Time{}, false
	}
	start, err := strconv.Atoi(fy[:4])
	if err != nil {
		return time.Time{}, false
	}
	m := int(period) + 3
	if m > 12 {
		m -= 12
		start++
	}
	return time.Date(start, time.Month(m), 1, 0, 0, 0, 0, time.UTC), true
}
