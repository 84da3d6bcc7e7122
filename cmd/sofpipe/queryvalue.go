package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// How sofpipe query renders DuckDB values.
//
// The machine formats (csv, json) print every value exactly: what a program reads back is
// the value the warehouse holds, bit for bit. A DOUBLE is the shortest text that parses
// back to the same float64 (strconv's -1 precision), in plain decimal notation for
// magnitudes in [1e-6, 1e21) and in exponent notation outside it: the rule of
// encoding/json and JavaScript, so 101210629.71 prints as 101210629.71, never 1.01211e+08,
// and no reader gets an absurd run of zeros for 1e-300. -0 stays -0. NaN and ±Infinity,
// which JSON has no numbers for, print as NaN, Infinity and -Infinity (JSON strings):
// strconv.ParseFloat, Python's float() and DuckDB's CAST all read them back. A DECIMAL
// prints its exact digits at its scale (548400.00, not 548400); HUGEINT and other big
// integers print every digit. In json, numbers and booleans are JSON numbers and booleans,
// a LIST, STRUCT or MAP is nested JSON, and everything else is a JSON string; in csv a
// nested value is that JSON text. NULL is an empty field in csv and null in json.
//
// The table format is for reading: it rounds a DOUBLE to 12 significant digits, which
// hides the last-bit noise of binary floating point (0.1+0.2 shows as 0.3).

// tableDigits is the significant digits the table format rounds a float to.
const tableDigits = 12

// cell is one rendered value.
type cell struct {
	text string
	// number says json takes text as it is: a number, true or false, or nested JSON.
	number bool
	null   bool
}

// renderer renders the values of one query's columns.
type renderer struct {
	types []string // DuckDB's type name of each column, e.g. DECIMAL(18,2), TIMESTAMPTZ
	exact bool     // machine formats: every value exactly; table: floats rounded
}

// render renders column col's value v as the driver scanned it.
func (r *renderer) render(col int, v any) cell {
	dbType := ""
	if col < len(r.types) {
		dbType = r.types[col]
	}
	switch v := v.(type) {
	case nil:
		return cell{null: true}
	case time.Time:
		return cell{text: timeText(v, dbType)}
	case []byte:
		if dbType == "UUID" && len(v) == 16 {
			return cell{text: uuidText(v)}
		}
		return cell{text: blobText(v)}
	}
	return r.value(v)
}

// value renders a value whose DuckDB type the driver's Go type settles, at the top level
// or nested in a LIST, STRUCT or MAP (where the column type names no single type).
func (r *renderer) value(v any) cell {
	switch v := v.(type) {
	case nil:
		return cell{null: true}
	case string:
		return cell{text: v}
	case bool:
		return cell{text: strconv.FormatBool(v), number: true}
	case float64:
		return r.float(v, 64)
	case float32:
		return r.float(float64(v), 32)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return cell{text: fmt.Sprint(v), number: true}
	case *big.Int: // HUGEINT, UHUGEINT, BIGNUM
		return cell{text: v.String(), number: true}
	case duckdb.Decimal:
		return cell{text: decimalText(v), number: true}
	case duckdb.Interval:
		return cell{text: intervalText(v)}
	case time.Time:
		return cell{text: timeText(v, "")}
	case []byte:
		return cell{text: blobText(v)}
	case []any:
		var b strings.Builder
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(r.value(e).json())
		}
		b.WriteByte(']')
		return cell{text: b.String(), number: true}
	case map[string]any:
		// A STRUCT comes from the driver as a Go map, which has lost the field order:
		// the fields are written in name order, so the same row always prints the same.
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsonString(k))
			b.WriteByte(':')
			b.WriteString(r.value(v[k]).json())
		}
		b.WriteByte('}')
		return cell{text: b.String(), number: true}
	case duckdb.OrderedMap:
		return r.mapValue(v)
	}
	return cell{text: fmt.Sprint(v)}
}

// mapValue renders a MAP in its own order: a JSON object when every key is text, else a
// list of {"key": …, "value": …} pairs, since JSON keys can only be strings.
func (r *renderer) mapValue(m duckdb.OrderedMap) cell {
	keys, vals := m.Keys(), m.Values()
	textKeys := true
	for _, k := range keys {
		if _, ok := k.(string); !ok {
			textKeys = false
		}
	}
	var b strings.Builder
	if textKeys {
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsonString(k.(string)) + ":" + r.value(vals[i]).json())
		}
		b.WriteByte('}')
	} else {
		b.WriteByte('[')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"key":` + r.value(k).json() + `,"value":` + r.value(vals[i]).json() + "}")
		}
		b.WriteByte(']')
	}
	return cell{text: b.String(), number: true}
}

// json is the cell as a JSON value.
func (c cell) json() string {
	switch {
	case c.null:
		return "null"
	case c.number:
		return c.text
	}
	return jsonString(c.text)
}

func (r *renderer) float(f float64, bits int) cell {
	switch {
	case math.IsNaN(f):
		return cell{text: "NaN"}
	case math.IsInf(f, 1):
		return cell{text: "Infinity"}
	case math.IsInf(f, -1):
		return cell{text: "-Infinity"}
	}
	if !r.exact && bits == 64 {
		// Round for reading, then print the rounded value's shortest form.
		f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', tableDigits, 64), 64)
	}
	return cell{text: floatText(f, bits), number: true}
}

// floatText is the shortest text that parses back to f (a float64, or a float32 when bits
// is 32): plain decimal for magnitudes in [1e-6, 1e21), exponent notation outside, as
// encoding/json writes numbers.
func floatText(f float64, bits int) string {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	s := strconv.FormatFloat(f, format, -1, bits)
	if format == 'e' {
		// 1e-07 → 1e-7, as encoding/json and JavaScript write it.
		if n := len(s); n >= 4 && s[n-4] == 'e' && s[n-3] == '-' && s[n-2] == '0' {
			s = s[:n-2] + s[n-1:]
		}
	}
	return s
}

// decimalText is a DECIMAL's exact digits at its scale: 548400.00, -0.05, 12.
func decimalText(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	digits := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	scale := int(d.Scale)
	if scale == 0 {
		return sign + digits
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// timeText renders a date or time by the column's DuckDB type. A TIMESTAMP (without time
// zone) names no zone, so it is written without an offset, rather than with a Z that would
// claim UTC; a TIMESTAMPTZ is an instant, written RFC 3339 in UTC. Fractional seconds are
// kept to the last non-zero digit. Nested in a LIST or STRUCT the type is not known: a
// value at midnight UTC is written as a date, any other as an RFC 3339 instant.
func timeText(t time.Time, dbType string) string {
	switch dbType {
	case "DATE":
		return t.Format(time.DateOnly)
	case "TIME":
		return t.Format("15:04:05.999999999")
	case "TIMETZ", "TIME WITH TIME ZONE":
		return t.Format("15:04:05.999999999Z07:00")
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		return t.Format("2006-01-02T15:04:05.999999999")
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		return t.UTC().Format(time.RFC3339Nano)
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 && t.Location() == time.UTC {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// intervalText is an INTERVAL as an ISO 8601 duration of its three exact parts: months,
// days and seconds (P14M2DT3.5S), since a month is no fixed number of days.
func intervalText(iv duckdb.Interval) string {
	var b strings.Builder
	b.WriteByte('P')
	if iv.Months != 0 {
		fmt.Fprintf(&b, "%dM", iv.Months)
	}
	if iv.Days != 0 {
		fmt.Fprintf(&b, "%dD", iv.Days)
	}
	if iv.Micros != 0 || (iv.Months == 0 && iv.Days == 0) {
		sign, us := "", iv.Micros
		if us < 0 {
			sign, us = "-", -us
		}
		secs := strconv.FormatInt(us/1e6, 10)
		if frac := us % 1e6; frac != 0 {
			secs += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		b.WriteString("T" + sign + secs + "S")
	}
	return b.String()
}

func uuidText(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// blobText writes a BLOB in DuckDB's blob literal form: printable ASCII as it is, every
// other byte (and the backslash) as \xHH, so the output is valid UTF-8 and '…'::BLOB
// reads the same bytes back.
func blobText(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7F && c != '\\' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, `\x%02X`, c)
		}
	}
	return s.String()
}

// jsonString is s as a JSON string, with <, > and & left as they are (encoding/json's
// HTML escaping only makes the output harder to read; nothing here goes into HTML).
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
