package ingest

import (
	"fmt"
	"path"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
)

// layout says where each canonical column of a dataset comes from in one file: a field of
// the CSV, a profile constant, or nowhere (left null, or derived).
type layout struct {
	dataset *contract.Dataset
	// fieldOf[c] is the CSV field index of canonical column c, or -1.
	fieldOf []int
	// constant[c] is the profile's fixed value of column c (valid where hasConstant[c]); it
	// wins over the file. fallback[c] fills column c where the file lacks it or the cell is
	// empty (valid where hasFallback[c]).
	constant    [][]byte
	hasConstant []bool
	fallback    [][]byte
	hasFallback []bool
	// headerFields is the number of fields in the header once trailing empty cells are
	// dropped: rows may carry those empty cells, but nothing past them.
	headerFields int
	// ignored lists the header cells that map to no canonical column, for the ledger.
	ignored []string
	// dateLayout is the profile's strict date layout, or "" for the recognised UK forms.
	dateLayout string
	// padShort reads missing trailing fields of a short row as empty (Profile.PadShortRows).
	padShort bool
	// excelSerial reads whole numbers in date columns as Excel day numbers
	// (Profile.ExcelSerialDates); roundPence rounds money to the penny
	// (Profile.RoundMoneyToPence).
	excelSerial, roundPence bool
	// maxPence bounds every money value either side of zero (config ingest.max_amount_gbp,
	// in pence): one line's amount can then never be what overflows a sum downstream.
	maxPence int64
}

// fileError is a whole-file rejection.
type fileError struct {
	Reason  Reason
	Message string
	// missing lists the required columns a header candidate lacks (missing_columns), so
	// the header search can name the closest candidate.
	missing []string
}

func (e *fileError) Error() string { return string(e.Reason) + ": " + e.Message }

// Ranks of the ways a header cell maps to a column: an exact name (an alias, or the
// column's own name) beats a pattern, which beats a fallback pattern. Two cells at the
// same rank for one column reject the file; a worse-ranked cell is ignored.
const (
	rankExact = iota
	rankPattern
	rankFallback
)

// newLayout matches a header row against the dataset's columns through the profile's
// aliases and patterns. Matching folds case, spaces and punctuation, so "Supplier
// Postcode " and "supplier_postcode" are the same header.
func newLayout(ds *contract.Dataset, header []string, profile *config.Profile) (*layout, error) {
	l := &layout{
		dataset:     ds,
		fieldOf:     make([]int, len(ds.Columns)),
		constant:    make([][]byte, len(ds.Columns)),
		hasConstant: make([]bool, len(ds.Columns)),
		fallback:    make([][]byte, len(ds.Columns)),
		hasFallback: make([]bool, len(ds.Columns)),
		maxPence:    config.DefaultMaxAmountGBP * 100,
	}
	for i := range l.fieldOf {
		l.fieldOf[i] = -1
	}
	aliases := map[string]string{}
	var patterns []config.HeaderPattern
	if profile != nil {
		for from, to := range profile.HeaderAliases {
			aliases[contract.NormalizeHeader(from)] = to
		}
		patterns = profile.HeaderPatterns
		for col, v := range profile.Constants {
			c := ds.Column(col)
			l.constant[c] = []byte(v)
			l.hasConstant[c] = true
		}
		for col, v := range profile.Defaults {
			c := ds.Column(col)
			l.fallback[c] = []byte(v)
			l.hasFallback[c] = true
		}
		l.dateLayout = profile.DateFormat
		l.padShort = profile.PadShortRows
		l.excelSerial = profile.ExcelSerialDates
		l.roundPence = profile.RoundMoneyToPence
	}
	l.headerFields = len(header)
	for l.headerFields > 0 && strings.TrimSpace(header[l.headerFields-1]) == "" {
		l.headerFields--
	}
	rank := make([]int, len(ds.Columns))
	how := make([]string, len(ds.Columns)) // the pattern that mapped a column, for messages
	used := make([]bool, l.headerFields)
	for i, h := range header[:l.headerFields] {
		key := contract.NormalizeHeader(h)
		if key == "" {
			continue
		}
		name, r, by := mapHeader(ds, key, aliases, patterns)
		c := ds.Column(name)
		if c < 0 || name == "" || l.hasConstant[c] {
			continue
		}
		switch prev := l.fieldOf[c]; {
		case prev < 0 || r < rank[c]:
			if prev >= 0 {
				used[prev] = false // a better-ranked header takes the column
			}
		case r > rank[c]:
			continue
		default:
			return nil, &fileError{Reason: ReasonDuplicateColumn, Message: fmt.Sprintf("header cells %d (%q) and %d (%q) both map to column %s%s", prev+1, clip([]byte(header[prev])), i+1, clip([]byte(h)), name, patternNote(how[c], by))}
		}
		l.fieldOf[c], rank[c], how[c], used[i] = i, r, by, true
	}
	for i, h := range header[:l.headerFields] {
		if !used[i] && strings.TrimSpace(h) != "" {
			l.ignored = append(l.ignored, h)
		}
	}
	var missing []string
	for c, col := range ds.Columns {
		if col.Required && !col.Derived && l.fieldOf[c] < 0 && !l.hasConstant[c] && !l.hasFallback[c] {
			missing = append(missing, col.Name)
		}
	}
	if ds.Name == contract.Spend && !l.has("payment_date") && !(l.has("financial_year") && l.has("period")) {
		missing = append(missing, "financial_year and period, or payment_date")
	}
	if len(missing) > 0 {
		return nil, &fileError{Reason: ReasonMissingColumns, Message: fmt.Sprintf("the header lacks required column(s) %s; it has %s", strings.Join(missing, ", "), quoteList(header[:l.headerFields])), missing: missing}
	}
	return l, nil
}

// mapHeader says which column a normalised header cell names, at which rank, and by which
// pattern ("" for an exact name). An exact alias to "" ignores the header whatever the
// patterns say.
func mapHeader(ds *contract.Dataset, key string, aliases map[string]string, patterns []config.HeaderPattern) (name string, rank int, by string) {
	if to, ok := aliases[key]; ok {
		return to, rankExact, ""
	}
	if ds.Column(key) >= 0 {
		return key, rankExact, ""
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p.Match, key); ok {
			if p.Fallback {
				return p.Column, rankFallback, p.Match
			}
			return p.Column, rankPattern, p.Match
		}
	}
	return "", rankExact, ""
}

func patternNote(a, b string) string {
	switch {
	case a != "" && b != "":
		return fmt.Sprintf(" (by the patterns %q and %q): give one of them an exact header alias, or ignore it with an alias to \"\"", a, b)
	case a != "" || b != "":
		return fmt.Sprintf(" (one by the pattern %q)", a+b)
	}
	return ""
}

// maxPence turns ingest.max_amount_gbp into pence. At its largest allowed value the bound
// is the lake's own, DECIMAL(18,2) with its pence: the setting then restricts nothing that
// coerce.Money (money_overflow) does not already.
func maxPence(pounds int64) int64 {
	if pounds >= config.MaxAmountGBPLimit {
		return config.MaxAmountGBPLimit*100 + 99
	}
	return pounds * 100
}

func (l *layout) has(col string) bool {
	c := l.dataset.Column(col)
	return c >= 0 && (l.fieldOf[c] >= 0 || l.hasConstant[c] || l.hasFallback[c])
}

// quoteList renders header cells for a message, each clipped: a quote left open in the
// header makes one cell of the rest of the file, which must not land whole in the ledger.
func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", clip([]byte(x)))
	}
	return strings.Join(q, ", ")
}
