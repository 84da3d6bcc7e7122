// Package spendgen writes large, realistic spend returns for the benchmarks: the canonical
// spend header, quoted fields with commas and doubled quotes, refunds as negative amounts,
// empty optional fields, and payment dates that agree with the financial year and period.
// The output is deterministic for a given seed, so two runs compare like with like.
//
// It is benchmark tooling: only benchmarks import it, never the pipeline itself.
package spendgen

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Header is the canonical spend header (pipeline/contract), in contract order.
const Header = "project_id,department,financial_year,period,payment_date,budget_type,planned_gbp,actual_gbp,line_ref,supplier,description\n"

// FirstFY and Years are the financial years rows fall in: 2019-20 to 2025-26.
const (
	FirstFY = 2019
	Years   = 7
)

var departments = []string{
	"Cabinet Office", "Department for Education", "Department for Transport",
	"Department of Health and Social Care", "Home Office", "Ministry of Justice",
	"Department for Work and Pensions", "HM Treasury", "Department for Business and Trade",
	"Department for Environment, Food and Rural Affairs", // needs quotes
}

// csvDepartments are the departments as CSV fields: quoted where they hold a comma.
var csvDepartments = func() []string {
	out := make([]string, len(departments))
	for i, d := range departments {
		out[i] = d
		if strings.ContainsRune(d, ',') {
			out[i] = `"` + d + `"`
		}
	}
	return out
}()

var deptCodes = []string{"CO", "DFE", "DFT", "DHSC", "HO", "MOJ", "DWP", "HMT", "DBT", "DEFRA"}

var suppliers = []string{
	"Manchester City Council", "Blackpool Council", "Capita Business Services Ltd",
	`"Serco, Justice Services"`, "Lancashire County Council", `"The ""Better Start"" Trust"`,
	"Counter Fraud Services Ltd", "NHS England", `"Mitie Group, plc"`, "Leeds City Council",
	"", // empty optional field
}

var descriptions = []string{
	`"Grant to local partners for analytics licences, Q1"`,
	"Contract payment: data sharing platform",
	`"Refund of unspent grant, returned by partner"`,
	`"Evaluation fieldwork, wave 2 (""impact"" strand)"`,
	"Staff secondment costs",
	`"Licences, support and hosting"`,
	"Programme management",
	"",
}

// Options shape the generated rows.
type Options struct {
	Seed uint64
	// Projects are the project_id values to draw from; nil means synthetic ids
	// (SOF1-001 … SOF3-120), most of which no register names.
	Projects []string
	// FirstLine numbers line_ref values, so files made with different values do not
	// restate each other's lines.
	FirstLine int64
}

// Write writes rows spend lines with header to w and returns the bytes written. The same
// options give the same bytes.
func Write(w io.Writer, rows int64, opt Options) (int64, error) {
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<20)
	r := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	bw.WriteString(Header)
	var line []byte
	for i := int64(0); i < rows; i++ {
		line = AppendRow(line[:0], r, opt.FirstLine+i, opt.Projects)
		if _, err := bw.Write(line); err != nil {
			return cw.n, err
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

// AppendRow appends the i-th row (with its line end) drawn from r.
func AppendRow(b []byte, r *rand.Rand, i int64, projects []string) []byte {
	if len(projects) > 0 {
		b = append(b, projects[r.IntN(len(projects))]...)
	} else {
		b = append(b, "SOF"...)
		b = strconv.AppendInt(b, int64(1+r.IntN(3)), 10)
		b = append(b, '-')
		b = append3(b, 1+r.IntN(120))
	}
	b = append(b, ',')
	d := r.IntN(len(departments))
	b = append(b, csvDepartments[d]...)
	b = append(b, ',')
	// A date in one of the years; the financial year and period follow from it.
	fy := FirstFY + r.IntN(Years)
	period := 1 + r.IntN(12)
	month := period + 3
	year := fy
	if month > 12 {
		month -= 12
		year++
	}
	day := 1 + r.IntN(28)
	b = strconv.AppendInt(b, int64(fy), 10)
	b = append(b, '-')
	b = append2(b, (fy+1)%100)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(period), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(year), 10)
	b = append(b, '-')
	b = append2(b, month)
	b = append(b, '-')
	b = append2(b, day)
	b = append(b, ',')
	if r.IntN(4) == 0 {
		b = append(b, "CDEL,"...)
	} else {
		b = append(b, "RDEL,"...)
	}
	actual := int64(r.IntN(50_000_000)) + 100 // pence
	if r.IntN(3) != 0 {                       // two lines in three carry a planned amount
		planned := actual + int64(r.IntN(2_000_000)) - 1_000_000
		b = appendMoney(b, planned)
	}
	b = append(b, ',')
	if r.IntN(20) == 0 {
		actual = -actual // a refund
	}
	b = appendMoney(b, actual)
	b = append(b, ',')
	if r.IntN(10) != 0 {
		b = append(b, deptCodes[d]...)
		b = append(b, '-')
		b = strconv.AppendInt(b, 100000+i, 10)
	}
	b = append(b, ',')
	b = append(b, suppliers[r.IntN(len(suppliers))]...)
	b = append(b, ',')
	b = append(b, descriptions[r.IntN(len(descriptions))]...)
	return append(b, '\n')
}

func appendMoney(b []byte, pence int64) []byte {
	if pence < 0 {
		b = append(b, '-')
		pence = -pence
	}
	b = strconv.AppendInt(b, pence/100, 10)
	b = append(b, '.')
	return append2(b, int(pence%100))
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func append3(b []byte, n int) []byte {
	return append(b, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
