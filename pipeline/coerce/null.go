package coerce

// IsNull reports whether a field means "no value": after trimming spaces it is empty, or
// one of N/A, NA, - or null in any case. Every parser here checks it first and reports
// null rather than an error, so a department's placeholder never becomes a reject.
func IsNull(b []byte) bool {
	return IsNullTrimmed(Trim(b))
}

// IsNullTrimmed is IsNull for a value already trimmed.
func IsNullTrimmed(b []byte) bool { return isNullTrimmed(b) }

func isNullTrimmed(b []byte) bool {
	switch len(b) {
	case 0:
		return true
	case 1:
		return b[0] == '-'
	case 2:
		return b[0]|0x20 == 'n' && b[1]|0x20 == 'a'
	case 3:
		return b[0]|0x20 == 'n' && b[1] == '/' && b[2]|0x20 == 'a'
	case 4:
		return b[0]|0x20 == 'n' && b[1]|0x20 == 'u' && b[2]|0x20 == 'l' && b[3]|0x20 == 'l'
	}
	return false
}

// Trim removes ASCII white space and no-break spaces (U+00A0, which spreadsheets put
// around numbers) from both ends of b.
func Trim(b []byte) []byte {
	if !NeedsTrim(b) {
		return b
	}
	for len(b) > 0 {
		if isSpace(b[0]) {
			b = b[1:]
		} else if len(b) >= 2 && b[0] == 0xC2 && b[1] == 0xA0 {
			b = b[2:]
		} else {
			break
		}
	}
	for len(b) > 0 {
		if isSpace(b[len(b)-1]) {
			b = b[:len(b)-1]
		} else if len(b) >= 2 && b[len(b)-2] == 0xC2 && b[len(b)-1] == 0xA0 {
			b = b[:len(b)-2]
		} else {
			break
		}
	}
	return b
}

// NeedsTrim reports whether Trim could change b. It is cheap enough to be inlined, so a
// hot loop can write
//
//	if coerce.NeedsTrim(v) { v = coerce.Trim(v) }
//
// and pay for a call only for the rare value with spaces around it. Nearly every value
// starts and ends with a printable ASCII byte, which settles it. (No-break spaces start
// with 0xC2 and end with 0xA0, both above '~'; every space of isSpace is at or below ' '.)
func NeedsTrim(b []byte) bool {
	n := len(b)
	return n > 0 && (b[0]-'!' > '~'-'!' || b[n-1]-'!' > '~'-'!')
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

func isDigit(c byte) bool { return c-'0' <= 9 }
