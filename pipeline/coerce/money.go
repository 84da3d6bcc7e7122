package coerce

// maxPounds is the largest whole-pound part DECIMAL(18,2) can hold: 16 digits before the
// point, 2 after.
const maxPounds = 9_999_999_999_999_999

// Money parses an amount of pounds and pence into pence (hundredths of a pound).
//
// It accepts what UK returns contain: 1234.5, 1,234.50, £1,234.50, -£46,528.00,
// £-46,528.00, (1,234.50) for a negative, +5, £ 12.00, .5, and digits past the pence when
// they are zeros (12.500). Commas may sit anywhere between digits of the pounds, because
// spreadsheets group digits in more ways than one. The £ is the UTF-8 one (the decoder has
// already turned a Windows-1252 0xA3 into it).
//
// It rejects letters, two signs, empty parentheses, non-zero digits past the pence
// (CodeMoneyPrecision: rounding someone's money is not ours to do) and amounts of £10^16 or
// more (CodeMoneyOverflow). It never uses floating point and never allocates unless it
// fails.
func Money(b []byte) (cents int64, null bool, err error) {
	v := b
	if NeedsTrim(v) {
		v = Trim(v)
	}
	if isNullTrimmed(v) {
		return 0, true, nil
	}
	cents, code := parseMoney(v)
	switch code {
	case "":
		return cents, false, nil
	case CodeMoneyPrecision:
		return 0, false, newError(code, v, "amount %q has more than 2 decimal places")
	case CodeMoneyOverflow:
		return 0, false, newError(code, v, "amount %q is too large: amounts must be less than £10,000,000,000,000,000")
	}
	return 0, false, newError(CodeBadMoney, v,
		"amount %q is not an amount of money: write pounds and pence, such as 1234.50, £1,234.50, -£1,234.50 or (1,234.50)")
}

// parseMoney does Money's work on a trimmed, non-null value; code is "" on success.
func parseMoney(v []byte) (int64, Code) {
	neg, parens := false, false
	if v[0] == '(' {
		if v[len(v)-1] != ')' {
			return 0, CodeBadMoney
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
				return 0, CodeBadMoney // two signs, counting parentheses as one
			}
			sign, neg = true, v[0] == '-'
			v = v[1:]
		case len(v) >= 2 && v[0] == 0xC2 && v[1] == 0xA3:
			if pound {
				return 0, CodeBadMoney
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
		return 0, CodeBadMoney
	}
	var pence int64
	fracDigits, precision := 0, false
	if i < len(v) && v[i] == '.' {
		for i++; i < len(v) && isDigit(v[i]); i++ {
			d := int64(v[i] - '0')
			switch {
			case fracDigits == 0:
				pence = 10 * d
			case fracDigits == 1:
				pence += d
			case d != 0:
				precision = true
			}
			fracDigits++
		}
	}
	switch {
	case i != len(v) || intDigits+fracDigits == 0:
		return 0, CodeBadMoney
	case precision:
		return 0, CodeMoneyPrecision
	case over:
		return 0, CodeMoneyOverflow
	}
	cents := int64(pounds)*100 + pence
	if neg {
		cents = -cents
	}
	return cents, ""
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
