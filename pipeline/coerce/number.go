package coerce

import (
	"math"
	"strconv"
)

// Int parses a whole number: surrounding spaces, one leading + or -, thousands commas,
// and a decimal part only if it is all zeros (3.0, as a spreadsheet or pandas may write
// a whole number). 3.5 is rejected rather than rounded.
func Int(b []byte) (n int64, null bool, err error) {
	v := b
	if NeedsTrim(v) {
		v = Trim(v)
	}
	if isNullTrimmed(v) {
		return 0, true, nil
	}
	neg, i := false, 0
	if v[0] == '+' || v[0] == '-' {
		neg, i = v[0] == '-', 1
	}
	u, digits, i, over, ok := readInteger(v, i, 1<<63)
	if i < len(v) && v[i] == '.' && digits > 0 {
		for i++; i < len(v) && v[i] == '0'; i++ {
		}
	}
	if !ok || digits == 0 || i != len(v) {
		return 0, false, newError(CodeBadInt, v, "%q is not a whole number")
	}
	if over || (!neg && u > math.MaxInt64) {
		return 0, false, newError(CodeBadInt, v, "%q is too large for a whole number")
	}
	if neg {
		return int64(-u), false, nil // -(1<<63) wraps to math.MinInt64, as it should
	}
	return int64(u), false, nil
}

// maxFloatText is the longest number Float cleans on the stack; longer ones are still
// parsed, with one allocation.
const maxFloatText = 64

// Float parses a decimal number: 1234.5, 1,234.5, -0.25, .5, 1e-3, 2.5E+4, and (12.5) for a
// negative. It rejects percentages, currency signs, hexadecimal, Inf and NaN: a contract
// column that holds those wants a different type, not a silent guess.
func Float(b []byte) (f float64, null bool, err error) {
	v := Trim(b)
	if isNullTrimmed(v) {
		return 0, true, nil
	}
	neg, parens := false, false
	if v[0] == '(' && v[len(v)-1] == ')' && len(v) > 1 {
		v, neg, parens = Trim(v[1:len(v)-1]), true, true
	}
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') && !parens {
		neg = v[0] == '-'
		v = v[1:]
	}

	// Copy the number without its commas and sign, checking the syntax as we go, so that
	// strconv sees only what we allow.
	var stack [maxFloatText]byte
	clean := stack[:0]
	if len(v) > maxFloatText {
		clean = make([]byte, 0, len(v))
	}
	digits, i := 0, 0
	for ; i < len(v); i++ {
		c := v[i]
		if isDigit(c) {
			clean = append(clean, c)
			digits++
		} else if c != ',' || digits == 0 || i+1 >= len(v) || !isDigit(v[i+1]) {
			break
		}
	}
	if i < len(v) && v[i] == '.' {
		clean = append(clean, '.')
		for i++; i < len(v) && isDigit(v[i]); i++ {
			clean = append(clean, v[i])
			digits++
		}
	}
	if digits > 0 && i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		clean = append(clean, 'e')
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			clean = append(clean, v[i])
			i++
		}
		expDigits := 0
		for ; i < len(v) && isDigit(v[i]); i++ {
			clean = append(clean, v[i])
			expDigits++
		}
		if expDigits == 0 {
			digits = 0
		}
	}
	if digits == 0 || i != len(v) {
		return 0, false, newError(CodeBadNumber, Trim(b), "%q is not a number")
	}
	f, err = strconv.ParseFloat(string(clean), 64)
	if err != nil {
		return 0, false, newError(CodeBadNumber, Trim(b), "%q is out of range for a number")
	}
	if neg {
		f = -f
	}
	return f, false, nil
}
