package ingest

import (
	"fmt"
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
	// maxPence bounds every money value either side of zero (config ingest.max_amount_gbp,
	// in pence): one line's amount can then never be what overflows a sum downstream.
	maxPence int64
}

// fileError is a whole-file rejection.
type fileError struct {
	Reason  Reason
	Message string
}

func (e *fileError) Error() string { return string(e.Reason) + ": " + e.Message }

// newLayout matches a header row against the dataset's columns through the profile's
// aliases. Matching folds case, spaces and punctuation, so "Supplier Postcode " and
// "supplier_postcode" are the same header.
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
	if profile != nil {
		for from, to := range profile.HeaderAliases {
			aliases[contract.NormalizeHeader(from)] = to
		}
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
	}
	l.headerFields = len(header)
	for l.headerFields > 0 && strings.TrimSpace(header[l.headerFields-1]) == "" {
		l.headerFields--
	}
	for i, h := range header[:l.headerFields] {
		key := contract.NormalizeHeader(h)
		name, aliased := aliases[key]
		if !aliased {
			name = key
		}
		c := ds.Column(name)
		if c < 0 || name == "" || l.hasConstant[c] {
			if strings.TrimSpace(h) != "" {
				l.ignored = append(l.ignored, h)
			}
			continue
		}
		if l.fieldOf[c] >= 0 {
			return nil, &fileError{ReasonDuplicateColumn, fmt.Sprintf("header cells %d (%q) and %d (%q) both map to column %s", l.fieldOf[c]+1, clip([]byte(header[l.fieldOf[c]])), i+1, clip([]byte(h)), name)}
		}
		l.fieldOf[c] = i
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
		return nil, &fileError{ReasonMissingColumns, fmt.Sprintf("the header lacks required column(s) %s; it has %s", strings.Join(missing, ", "), quoteList(header[:l.headerFields]))}
	}
	return l, nil
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
