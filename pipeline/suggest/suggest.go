// Package suggest writes a source profile for a layout sofpipe has not seen, from the files
// themselves: it finds each file's header line, and matches its headers to the dataset's
// columns by what the headers are called and by what the values under them are (which
// column reads as money in every row, which as dates, which repeats a department's name).
// It reads files and returns a config.Profile with the reasons for each mapping; it writes
// nothing and knows nothing of workspaces. `sofpipe profile suggest` prints its result.
package suggest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/evaluation-taskforce/sofpipe/pipeline/coerce"
	"github.com/evaluation-taskforce/sofpipe/pipeline/config"
	"github.com/evaluation-taskforce/sofpipe/pipeline/contract"
	"github.com/evaluation-taskforce/sofpipe/pipeline/csvscan"
)

// Options say what to suggest a profile for.
type Options struct {
	Dataset *contract.Dataset
	Name    string // the profile's name; default "suggested"
	Pattern string // default "<name>/*.csv"
	// Defaults are values the caller gives for columns the files cannot carry (a spend
	// return's project, say). Suggest never makes one up: a required column with no
	// evidence is listed in Result.MissingRequired unless it has a default here.
	Defaults map[string]string
	// SampleRows bounds the rows read per file (default 5000): enough to see every form
	// a column's values take, while a large file is not read whole.
	SampleRows int
}

// Mapping is one header placed on a column.
type Mapping struct {
	Header, Column string
	Confidence     string // sure, likely or weak
	Why            string
}

// Result is the suggested profile and what could not be placed.
type Result struct {
	Profile  config.Profile
	Mappings []Mapping
	// Unplaced are headers given no column; MissingRequired are required columns that no
	// header has evidence for (and no default fills).
	Unplaced, MissingRequired []string
	// HeaderLines is the header's line in each file, by path.
	HeaderLines map[string]int
}

// column is what one header of one file holds.
type column struct {
	header string
	key    string // normalised
	values [][]byte
}

// Suggest reads the files and returns a profile for them.
func Suggest(paths []string, opt Options) (Result, error) {
	if opt.Name == "" {
		opt.Name = "suggested"
	}
	if opt.Pattern == "" {
		opt.Pattern = opt.Name + "/*.csv"
	}
	if opt.SampleRows <= 0 {
		opt.SampleRows = 5000
	}
	ds := opt.Dataset
	res := Result{HeaderLines: map[string]int{}}
	type vote struct {
		header string
		m      Mapping
		score  float64
	}
	votes := map[string][]vote{} // by normalised header
	order := []string{}
	var delim byte = ','
	serial, short := false, false
	for i, p := range paths {
		d, err := sniffDelimiter(p)
		if err != nil {
			return res, err
		}
		if i == 0 {
			delim = d
		}
		f, err := readFile(p, delim, opt.SampleRows)
		if err != nil {
			return res, err
		}
		res.HeaderLines[p] = f.headerLine
		short = short || f.short
		for _, c := range f.cols {
			if _, seen := votes[c.key]; !seen {
				order = append(order, c.key)
				votes[c.key] = nil
			}
		}
		for _, a := range assign(ds, f.cols) {
			votes[a.col.key] = append(votes[a.col.key], vote{a.col.header, a.m, a.score})
			serial = serial || a.serial
		}
	}
	p := config.Profile{Name: opt.Name, Dataset: ds.Name, Pattern: opt.Pattern, Encoding: "auto", Delimiter: string(delim),
		HeaderAliases: map[string]string{}, HeaderNotes: map[string]string{}, Constants: map[string]string{}, Defaults: map[string]string{},
		PadShortRows: short, ExcelSerialDates: serial}
	placed := map[string]bool{}
	for _, key := range order {
		vs := votes[key]
		if len(vs) == 0 {
			continue
		}
		// The column most files agree on; the better score breaks a tie.
		count := map[string]int{}
		best := vs[0]
		for _, v := range vs {
			count[v.m.Column]++
		}
		for _, v := range vs {
			if count[v.m.Column] > count[best.m.Column] || (count[v.m.Column] == count[best.m.Column] && v.score > best.score) {
				best = v
			}
		}
		m := best.m
		if len(paths) > 1 {
			m.Why += fmt.Sprintf(" (in %d of %d files)", count[m.Column], len(paths))
		}
		p.HeaderAliases[best.header] = m.Column
		p.HeaderNotes[best.header] = m.Column + ": " + m.Confidence + ": " + m.Why
		res.Mappings = append(res.Mappings, m)
		placed[m.Column] = true
	}
	for _, key := range order {
		if len(votes[key]) == 0 {
			res.Unplaced = append(res.Unplaced, key)
		}
	}
	// A default also fills the empty cells of a mapped column (a project code left blank).
	for col, v := range opt.Defaults {
		p.Defaults[col] = v
		placed[col] = true
	}
	for _, col := range ds.Columns {
		if col.Required && !col.Derived && !placed[col.Name] {
			res.MissingRequired = append(res.MissingRequired, col.Name)
		}
	}
	if ds.Name == contract.Spend && !placed["payment_date"] && !(placed["financial_year"] && placed["period"]) {
		res.MissingRequired = append(res.MissingRequired, "payment_date (or financial_year and period)")
	}
	p.Description = fmt.Sprintf("suggested by sofpipe profile suggest from %d file(s): %d header(s) mapped (each with its reason in header_notes)", len(paths), len(res.Mappings))
	if len(res.Unplaced) > 0 {
		p.Description += "; not placed, so ignored: " + strings.Join(res.Unplaced, ", ")
	}
	if len(res.MissingRequired) > 0 {
		p.Description += "; required but without evidence in the files, so left for you to map or default: " + strings.Join(res.MissingRequired, ", ")
	}
	res.Profile = p
	return res, nil
}

// sniffDelimiter picks the delimiter of a file from its first 8 KiB: the one of comma,
// semicolon, tab and bar that occurs most; comma when none does.
func sniffDelimiter(p string) (byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, fmt.Errorf("suggest: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 8<<10)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, fmt.Errorf("suggest: %s: %w", p, err)
	}
	best, most := byte(','), 0
	for _, d := range []byte{',', ';', '\t', '|'} {
		if c := bytes.Count(buf[:n], []byte{d}); c > most {
			best, most = d, c
		}
	}
	return best, nil
}

type fileSample struct {
	headerLine int
	cols       []column
	short      bool // a row had fewer fields than the header
}

// readFile finds the header of one file among its first 20 non-blank lines and collects
// the values under each header cell.
func readFile(p string, delim byte, sampleRows int) (fileSample, error) {
	var out fileSample
	f, err := os.Open(p)
	if err != nil {
		return out, fmt.Errorf("suggest: %w", err)
	}
	defer f.Close()
	dec, err := csvscan.NewDecoder(f, csvscan.Auto)
	if err != nil {
		return out, fmt.Errorf("suggest: %s: %w", p, err)
	}
	sc := csvscan.NewScanner(dec, delim)
	type rec struct {
		line   int
		fields []string
	}
	var recs []rec
	for sc.Scan() && len(recs) < sampleRows+40 {
		fs := make([]string, len(sc.Fields()))
		blank := true
		for i, v := range sc.Fields() {
			fs[i] = string(v)
			if strings.TrimSpace(fs[i]) != "" {
				blank = false
			}
		}
		if !blank {
			recs = append(recs, rec{sc.Line(), fs})
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("suggest: %s: %w", p, err)
	}
	if len(recs) == 0 {
		return out, fmt.Errorf("suggest: %s: no header: the file has no lines", p)
	}
	best, bestScore := 0, -1.0
	for i := 0; i < len(recs) && i < 20; i++ {
		if s := headerScore(recs[i].fields); s > bestScore {
			best, bestScore = i, s
		}
	}
	hdr := recs[best].fields
	n := len(hdr)
	for n > 0 && strings.TrimSpace(hdr[n-1]) == "" {
		n--
	}
	out.headerLine = recs[best].line
	for i := 0; i < n; i++ {
		key := contract.NormalizeHeader(hdr[i])
		if key == "" {
			continue
		}
		c := column{header: strings.TrimSpace(hdr[i]), key: key}
		for _, r := range recs[best+1:] {
			if len(r.fields) < n {
				out.short = true
			}
			if i < len(r.fields) {
				c.values = append(c.values, []byte(r.fields[i]))
			}
		}
		out.cols = append(out.cols, c)
	}
	return out, nil
}

// headerScore says how much a line looks like a header: text cells that are not values,
// and above all cells that name a column of some dataset.
func headerScore(fields []string) float64 {
	score := 0.0
	for _, f := range fields {
		v := []byte(strings.TrimSpace(f))
		if len(v) == 0 || len(v) > 60 {
			continue
		}
		if _, _, null, err := coerce.MoneyRounded(v); err == nil && !null {
			continue
		}
		if _, null, err := coerce.Date(v, ""); err == nil && !null {
			continue
		}
		score += 0.5
		key := contract.NormalizeHeader(string(v))
		for _, ds := range contract.All() {
			for _, col := range ds.Columns {
				if nameScore(ds.Name, col.Name, key) >= 0.6 {
					score += 2
					goto next
				}
			}
		}
	next:
	}
	return score
}

// synonyms are the words departments use for spend's columns; other datasets match by
// their column names' own words.
var synonyms = map[string][]string{
	"department":     {"department", "dept", "department_family", "departmental_family", "ministry"},
	"payment_date":   {"payment_date", "date", "date_paid", "paid_date", "pay_date", "date_of_payment", "transaction_date", "invoice_date", "posting_date"},
	"actual_gbp":     {"amount", "value", "gbp", "sterling", "spend", "cost", "net", "gross", "total", "sum"},
	"supplier":       {"supplier", "supplier_name", "vendor", "payee", "beneficiary", "merchant", "recipient"},
	"line_ref":       {"transaction_number", "transaction", "reference", "ref", "voucher", "invoice_number", "document_number", "trans_no", "transno", "payment_number", "id"},
	"description":    {"description", "narrative", "text", "purpose", "details", "desc", "comments", "notes"},
	"project_id":     {"project", "project_code", "project_id", "project_number"},
	"budget_type":    {"budget_type", "budget"},
	"planned_gbp":    {"planned", "forecast", "budgeted"},
	"financial_year": {"financial_year", "fy", "year"},
	"period":         {"period", "month"},
}

// nameScore is how well a normalised header names a column: 1 for the name itself or a
// synonym, 0.8 when a synonym is one of its words, 0.6 when it is inside a word, else 0.
func nameScore(dataset, col, key string) float64 {
	words := []string{col}
	if dataset == contract.Spend {
		// The synonyms say it better than the name's own words: "type" alone is in
		// Supplier Type and Expense Type, which are no budget type.
		words = append(words, synonyms[col]...)
	} else {
		for _, w := range strings.Split(col, "_") {
			if len(w) >= 3 { // "id" alone says nothing of which id
				words = append(words, w)
			}
		}
	}
	best := 0.0
	for _, w := range words {
		switch {
		case key == w:
			return 1
		case strings.HasPrefix(key, w+"_") || strings.HasSuffix(key, "_"+w) || strings.Contains(key, "_"+w+"_"):
			best = max(best, 0.8)
		case len(w) >= 4 && strings.Contains(key, w):
			best = max(best, 0.6)
		}
	}
	return best
}

// assignment is one header of one file placed on a column.
type assignment struct {
	col    *column
	m      Mapping
	score  float64
	serial bool // the dates are Excel day numbers
}

// evidence is what a column's values say.
type evidence struct {
	n                            int
	money, styled, date, serial  int
	ints, fy                     int
	distinct                     int
	topShare, deptShare, avgSize float64
	allowed                      map[string]int // values among an Enum column's, by column
}

var deptWords = []string{"department", "ministry", "office", "hm ", "agency", "cabinet", "treasury", "defra", "dfe", "dft", "dh", "home office", "commission", "authority", "council", "service", "executive"}

// look reads what a header's values are, once for every column of the dataset.
func look(c *column, ds *contract.Dataset) evidence {
	e := evidence{allowed: map[string]int{}}
	seen := map[string]int{}
	size := 0
	for _, raw := range c.values {
		v := coerce.Trim(raw)
		if coerce.IsNullTrimmed(v) {
			continue
		}
		e.n++
		s := string(v)
		seen[s]++
		size += len(v)
		if _, _, _, err := coerce.MoneyRounded(v); err == nil {
			e.money++
			if bytes.ContainsAny(v, ".,£()") || bytes.HasSuffix(bytes.ToUpper(v), []byte("CR")) {
				e.styled++
			}
		}
		if _, _, err := coerce.Date(v, ""); err == nil {
			e.date++
		} else if d, ok := coerce.ExcelSerial(v); ok && d >= 7305 && d <= 47482 { // 1990-2099
			e.serial++
		}
		if _, _, err := coerce.Int(v); err == nil {
			e.ints++
		}
		if _, err := coerce.FinancialYear(v); err == nil {
			e.fy++
		}
		low := strings.ToLower(s)
		for _, w := range deptWords {
			if strings.Contains(low, w) {
				e.deptShare++
				break
			}
		}
		for _, col := range ds.Columns {
			for _, a := range col.Allowed {
				if strings.EqualFold(a, s) {
					e.allowed[col.Name]++
				}
			}
		}
	}
	e.distinct = len(seen)
	if e.n > 0 {
		top := 0
		for _, k := range seen {
			top = max(top, k)
		}
		e.topShare = float64(top) / float64(e.n)
		e.deptShare /= float64(e.n)
		e.avgSize = float64(size) / float64(e.n)
	}
	return e
}

func share(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// fit scores how well the values suit the column's type (0: not at all) and says why.
func fit(col *contract.Column, e evidence) (float64, string, bool) {
	if e.n == 0 {
		return 0, "", false // an empty column is evidence of nothing
	}
	switch col.Type {
	case contract.Money:
		if s := share(e.money, e.n); s >= 0.95 {
			styled := share(e.styled, e.n)
			return 0.5 + styled/2, fmt.Sprintf("%d of %d values read as money (%d with pence, £ or grouping)", e.money, e.n, e.styled), false
		}
	case contract.Date:
		if s := share(e.date+e.serial, e.n); s >= 0.9 {
			why := fmt.Sprintf("%d of %d values read as dates", e.date+e.serial, e.n)
			if e.serial > 0 {
				why += fmt.Sprintf(" (%d as Excel day numbers)", e.serial)
			}
			return 1, why, e.serial > 0
		}
	case contract.Int:
		if share(e.ints, e.n) >= 0.95 {
			return 0.5, fmt.Sprintf("%d of %d values are whole numbers", e.ints, e.n), false
		}
	case contract.Float:
		if share(e.money, e.n) >= 0.95 {
			return 0.5, fmt.Sprintf("%d of %d values are numbers", e.money, e.n), false
		}
	case contract.FinancialYear:
		if share(e.fy, e.n) >= 0.95 {
			return 1, fmt.Sprintf("%d of %d values are financial years", e.fy, e.n), false
		}
	case contract.Enum:
		if k := e.allowed[col.Name]; share(k, e.n) >= 0.9 {
			return 1, fmt.Sprintf("%d of %d values are among %s", k, e.n, strings.Join(col.Allowed, ", ")), false
		}
	case contract.String:
		return 0.3, fmt.Sprintf("%d values, %d distinct", e.n, e.distinct), false
	}
	return 0, "", false
}

// assign places the headers of one file. A pair needs evidence: a header name that says
// the column, or (for money, dates and a department) values that can only be it. The
// strongest pairs are placed first, one header per column.
func assign(ds *contract.Dataset, cols []column) []assignment {
	var cands []assignment
	for ci := range cols {
		c := &cols[ci]
		e := look(c, ds)
		for k := range ds.Columns {
			col := &ds.Columns[k]
			name := nameScore(ds.Name, col.Name, c.key)
			f, why, serial := fit(col, e)
			if f == 0 {
				continue // the values rule it out, whatever the name says
			}
			valueOnly := 0.0
			switch {
			case col.Type == contract.Money && e.n > 0 && share(e.styled, e.n) >= 0.5:
				valueOnly = 0.5 // amounts with pence or £: money by their look alone
			case col.Type == contract.Date && e.n > 0:
				valueOnly = 0.6
			case col.Name == "department" && e.topShare >= 0.3 && e.deptShare >= 0.5:
				valueOnly = 0.5
				why = fmt.Sprintf("%s; %.0f%% of values name a public body and the commonest repeats in %.0f%% of rows", why, 100*e.deptShare, 100*e.topShare)
			}
			if name == 0 && valueOnly == 0 {
				continue // no evidence: never guessed
			}
			score := 2*name + f + valueOnly
			if col.Required {
				score += 0.1 // values that fit two columns go to the one a file must have
			}
			conf := "weak"
			switch {
			case name >= 0.8 && f >= 0.3:
				conf = "sure"
			case name > 0 || valueOnly >= 0.5:
				conf = "likely"
			}
			reason := why
			if name > 0 {
				reason = fmt.Sprintf("the header %q names it", c.header) + "; " + why
			} else {
				reason = "by its values alone: " + why
			}
			cands = append(cands, assignment{col: c, m: Mapping{Header: c.header, Column: col.Name, Confidence: conf, Why: reason}, score: score, serial: serial})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	var out []assignment
	usedCol, usedHeader := map[string]bool{}, map[string]bool{}
	for _, a := range cands {
		if usedCol[a.m.Column] || usedHeader[a.col.key] {
			continue
		}
		usedCol[a.m.Column], usedHeader[a.col.key] = true, true
		out = append(out, a)
	}
	return out
}
