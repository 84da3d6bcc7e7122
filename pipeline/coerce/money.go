package coerce

import "strings"

// maxPounds is the largest whole-pound part DECIMAL(18,2) can hold: 16 digits before the
// point, 2 after.
const maxPounds = 9_999_999_999_999_999

// Money parses an amount of pounds and pence into pence (hundredths of a pound).
//
// It accepts what UK returns contain: 1234.5, 1,234.50, £1,234.50, -£46,528.00,
// £-46,528.00, (1,234.50) for a negative, +5, £ 12.00, .5, and digits past the pence when
// they are zeros (12.500). Finance systems write a refund with the sign after it, as
// bookkeepers do: 1,234.50- and 1,234.50 CR (any case) are negative too. Commas may sit anywhere between digits of the pounds, because
// spreadsheets group digits in more ways than one. The £ is the UTF-8 one (the decoder has
// already turned a Windows-1252 0xA3 into it).
//
// It rejects letters, two signs, empty parentheses, non-zero digits past the pence
// (CodeMoneyPrecision: rounding someone's money is not ours to do unless a profile says so,
// see MoneyRounded), another currency's sign such as $ or € (CodeForeignCurrency: the
// amount is not in pounds at all) and amounts of £10^16 or more (CodeMoneyOverflow). It
// never uses floating point and never allocates unless it fails.
func Money(b []byte) (cents int64, null bool, err error) {
	v := b
	if NeedsTrim(v) {
		v = Trim(v)
	}
	if isNullTrimmed(v) {
		return 0, true, nil
	}
	cents, code, _ := parseMoney(v, false)
	if code == "" {
		return cents, false, nil
	}
	return 0, false, moneyError(v, code)
}

// MoneyRounded is Money for a source whose profile sets round_money_to_pence: an amount
// with digits past the pence is rounded to the penny, half away from zero (12.345 is
// 12.35, -12.345 is -12.35, 12.3449 is 12.34), and rounded reports that it was, so the
// ledger can count what was changed.
func MoneyRounded(b []byte) (cents int64, rounded, null bool, err error) {
	v := b
	if NeedsTrim(v) {
		v = Trim(v)
	}
	if isNullTrimmed(v) {
		return 0, false, true, nil
	}
	cents, code, rounded := parseMoney(v, true)
	if code == "" {
		return cents, rounded, false, nil
	}
	return 0, false, false, moneyError(v, code)
}

// moneyError explains a value that is not an amount. It is apart from Money so that the
// success path stays small enough to inline its callers' loops well.
func moneyError(v []byte, code Code) error {
	switch code {
	case CodeMoneyPrecision:
		return newError(code, v, "amount %q has more than 2 decimal places")
	case CodeMoneyOverflow:
		return newError(code, v, "amount %q is too large: amounts must be less than £10,000,000,000,000,000")
	}
	// Only a value that failed is looked at again, so the sign check costs the common
	// path nothing.
	if sign := foreignSign(v); sign != "" {
		return newError(CodeForeignCurrency, v, "amount %q is in another currency (%s): sofpipe takes pounds sterling only; convert it to pounds, or write it without the sign if it is in pounds", sign)
	}
	return newError(CodeBadMoney, v,
		"amount %q is not an amount of money: write pounds and pence, such as 1234.50, £1,234.50, -£1,234.50 or (1,234.50)")
}

// parseMoney does Money's work on a trimmed, non-null value; code is "" on success. With
// round, digits past the pence round the amount (half away from zero) instead of failing
// it, and rounded says whether that changed anything.
func parseMoney(v []byte, round bool) (int64, Code, bool) {
	neg, parens := false, false
	if v[0] == '(' {
		if v[len(v)-1] != ')' {
			return 0, CodeBadMoney, false
		}
		v = Trim(v[1 : len(v)-1])
		neg, parens = true, true
	}

	// At most one sign and one £, in either order, each perhaps followed by spaces.
	sign, pound := false, false
prefix:
	for len(v) > 0 {
		switch {
		case v[0] == '-' || v[0] == '+':
			if sign || parens {
				return 0, CodeBadMoney, false // two signs, counting parentheses as one
			}
			sign, neg = true, v[0] == '-'
			v = v[1:]
		case len(v) >= 2 && v[0] == 0xC2 && v[1] == 0xA3:
			if pound {
				return 0, CodeBadMoney, false
			}
			pound = true
			v = v[2:]
		default:
			break prefix
		}
		v = Trim(v)
	}
	pounds, intDigits, i, over, ok := readInteger(v, 0, maxPounds)
	if !ok {
		return 0, CodeBadMoney, false
	}
	var pence int64
	fracDigits, precision, roundUp := 0, false, false
	if i < len(v) && v[i] == '.' {
		for i++; i < len(v) && isDigit(v[i]); i++ {
			d := int64(v[i] - '0')
			switch {
			case fracDigits == 0:
				pence = 10 * d
			case fracDigits == 1:
				pence += d
			case d != 0:
				if fracDigits == 2 {
					// The first digit past the pence decides: the value is exact, so its
					// remainder is at least half a penny exactly when this digit is 5-9.
					roundUp = d >= 5
				}
				precision = true
			}
			fracDigits++
		}
	}
	if i != len(v) && intDigits+fracDigits > 0 {
		// Only a value with something after its number comes here: a bookkeeper's
		// trailing sign (1,234.50- or 1,234.50 CR) makes it a refund.
		if sign || parens || !creditSuffix(v[i:]) {
			return 0, CodeBadMoney, false
		}
		neg, i = true, len(v)
	}
	switch {
	case i != len(v) || intDigits+fracDigits == 0:
		return 0, CodeBadMoney, false
	case precision && !round:
		return 0, CodeMoneyPrecision, false
	case over:
		return 0, CodeMoneyOverflow, false
	}
	cents := int64(pounds)*100 + pence
	if roundUp {
		cents++
		if cents > maxPounds*100+99 {
			return 0, CodeMoneyOverflow, false
		}
	}
	if neg {
		cents = -cents
	}
	return cents, "", precision
}

// creditSuffix reports whether the text after an amount's digits is a trailing minus or a
// CR (credit) marker, perhaps after spaces: "-", " CR", "cr".
func creditSuffix(s []byte) bool {
	s = Trim(s)
	switch len(s) {
	case 1:
		return s[0] == '-'
	case 2:
		return s[0]|0x20 == 'c' && s[1]|0x20 == 'r'
	}
	return false
}

// foreignSign names the currency sign or code of an amount that is not in pounds, or "".
// The value has already failed as pounds, so this runs only on rejects.
func foreignSign(v []byte) string {
	s := string(v)
	for _, sign := range []string{"US$", "$", "€", "¥", "USD", "EUR", "CHF", "JPY"} {
		if strings.Contains(strings.ToUpper(s), sign) {
			return sign
		}
	}
	return ""
}

// readInteger reads digits from v[i:], allowing a comma between two digits (thousands
// separators, loosely placed). It returns the value, capped at limit+1 with over set when
// it is bigger than limit, the number of digits, the offset after the last digit, and ok
// false for a misplaced comma.
func readInteger(v []byte, i int, limit uint64) (n uint64, digits, end int, over, ok bool) {
	for ; i < len(v); i++ {
		c := v[i]
		if isDigit(c) {
			digits++
			if !over {
				n = n*10 + uint64(c-'0')
				if n > limit {
					over, n = true, limit+1
				}
			}
			continue
		}
		if c == ',' {
			if digits == 0 || i+1 >= len(v) || !isDigit(v[i+1]) {
				return n, digits, i, over, false
			}
			continue
		}
		break
	}
	return n, digits, i, over, true
}
