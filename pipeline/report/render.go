package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"time"
)

//go:embed page.html.tmpl
var pageTemplate string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"count":   Count,
	"money":   Money,
	"moneyor": MoneyOr,
	"pct":     Percent,
	"spct":    SignedPercent,
	"date":    Date,
	"month":   Month,
	"score":   Score,
	"ratio":   Ratio,
	"band":    BandName,
	"dec":     Decimal,
	"f":       func(x float64) string { return Decimal(x, 1) },
	"scoreor": func(x *float64) string {
		if x == nil {
			return "—"
		}
		return Score(*x)
	},
	"ratioor": func(x *float64) string {
		if x == nil {
			return "none"
		}
		return Ratio(*x)
	},
	"pctor": func(x *float64) string {
		if x == nil {
			return "—"
		}
		return Percent(*x)
	},
	"spctor": func(x *float64) string {
		if x == nil {
			return "—"
		}
		return SignedPercent(*x)
	},
	"dateor": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return Date(*t)
	},
	"monthor": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return Month(*t)
	},
	"gate": func(ok bool) string {
		if ok {
			return "passed"
		}
		return "failed"
	},
	"sms": func(x *int64) string {
		if x == nil {
			return "none"
		}
		return fmt.Sprintf("SMS %d", *x)
	},
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
}).Parse(pageTemplate))

// view is what the template reads: the data and the charts made from it.
type view struct {
	Data
	AsOf         string
	Fills        []Fill
	Components   [6]string
	CandidatesC  Chart
	ChecksTotal  int64
	EvidenceC    Chart
	VFMC         Chart
	NoBCR        []string
	SpendC       Chart
	SpendTotal   [2]float64
	ReturnsC     Chart
	LessonsC     Chart
	OwedRows     []owedRow
	FileGroups   []fileGroup
	NotableFiles []File
	RejectRows   int64
	ChaseMissing int64
	ChaseLate    int64
}

// fileGroup sums the files this batch took in of one dataset.
type fileGroup struct {
	Dataset                                          string
	Files, Accepted, Rejected, Corrections, NotTaken int64
}

// owedRow is a line of the owed table.
type owedRow struct {
	Owed
	Overdue int64 // days past the oldest missing return's due date, at the batch's date
	Due     bool  // it is past due
}

// Render writes the page for d to w.
func Render(w io.Writer, d Data) error {
	v := view{Data: d, Fills: Fills, Components: ComponentNames}
	v.AsOf = "no spend yet"
	if m, ok := periodMonth(d.Batch.AsOfFinancialYear, d.Batch.AsOfPeriod); ok {
		v.AsOf = fmt.Sprintf("%s (%s P%d)", Month(m), d.Batch.AsOfFinancialYear, d.Batch.AsOfPeriod)
	}
	v.CandidatesC = candidateChart(d)
	v.ChecksTotal = d.Batch.ChecksPassed + d.Batch.ChecksWarned + d.Batch.ChecksFailed
	v.EvidenceC = evidenceChart(d)
	v.VFMC, v.NoBCR = vfmChart(d)
	v.SpendC, v.SpendTotal = spendChart(d)
	v.ReturnsC = returnsChart(d)
	v.LessonsC = lessonsChart(d)
	for _, f := range d.Files {
		if n := len(v.FileGroups); n == 0 || v.FileGroups[n-1].Dataset != f.Dataset {
			v.FileGroups = append(v.FileGroups, fileGroup{Dataset: f.Dataset})
		}
		g := &v.FileGroups[len(v.FileGroups)-1]
		g.Files++
		g.Accepted += f.Accepted
		g.Rejected += f.Rejected
		if f.Corrects {
			g.Corrections++
		}
		if f.Status != "ingested" {
			g.NotTaken++
		}
		if f.Corrects || f.Rejected > 0 || f.Status != "ingested" {
			v.NotableFiles = append(v.NotableFiles, f)
		}
	}
	for _, r := range d.Rejects {
		v.RejectRows += r.Rows
	}
	for _, c := range d.Chase {
		v.ChaseMissing += c.Missing
		v.ChaseLate += c.Late
	}
	for _, o := range d.Owed {
		row := owedRow{Owed: o}
		if o.OldestDue != nil {
			// How long the oldest missing return has been owed, at the batch's own date.
			row.Overdue = int64(math.Floor(d.Batch.Date.Sub(*o.OldestDue).Hours() / 24))
			row.Due = row.Overdue > 0
		}
		v.OwedRows = append(v.OwedRows, row)
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Bytes renders the page for d.
func Bytes(d Data) ([]byte, error) {
	var buf bytes.Buffer
	err := Render(&buf, d)
	return buf.Bytes(), err
}

func candidateChart(d Data) Chart {
	h := hbars{id: "chart-candidates", title: "Scale-up candidates: score by weighted component",
		caption: "Each bar is a project's score, split into its six weighted components; the lines mark the band thresholds. The table below gives every number.",
		xlabel:  "Score (0 to 100)", ylabel: "Project, in rank order", stacked: true, max: 100,
		series: componentFills[:], tickText: func(x float64) string { return Decimal(x, 0) }}
	for _, c := range d.Candidates {
		h.categories = append(h.categories, fmt.Sprintf("%d. %s %s", c.Rank, c.ProjectID, c.Name))
		var vals []float64
		var labels, texts []string
		for j, w := range c.Weighted {
			vals = append(vals, w)
			labels = append(labels, fmt.Sprintf("%s %s: %s %s", c.ProjectID, BandName(c.Band), ComponentNames[j], Decimal(w, 1)))
			texts = append(texts, Decimal(w, 0))
		}
		h.values = append(h.values, vals)
		h.labels = append(h.labels, labels)
		h.texts = append(h.texts, texts)
	}
	h.rules = []float64{d.Batch.BandExtendMin, d.Batch.BandScaleUpMin}
	h.ruleText = []string{"extend " + Decimal(d.Batch.BandExtendMin, 1), "scale up " + Decimal(d.Batch.BandScaleUpMin, 1)}
	return h.chart()
}

func evidenceChart(d Data) Chart {
	h := hbars{id: "chart-evidence", title: "Projects by best SMS level of a qualifying impact result",
		caption: "Projects counted by the highest Maryland Scientific Methods Scale level among their impact results whose confidence interval excludes zero in the good direction.",
		xlabel:  "Projects", ylabel: "Best SMS level", series: []string{"f-projects"},
		tickText: func(x float64) string { return Decimal(x, 0) }}
	for _, e := range d.Evidence {
		name := fmt.Sprintf("SMS %d", e.Level)
		if e.Level == 0 {
			name = "No qualifying result"
		}
		h.categories = append(h.categories, name)
		h.values = append(h.values, []float64{float64(e.Projects)})
		h.labels = append(h.labels, []string{fmt.Sprintf("%s: %s projects", name, Count(e.Projects))})
		h.texts = append(h.texts, []string{Count(e.Projects)})
	}
	return h.chart()
}

func vfmChart(d Data) (Chart, []string) {
	c := Chart{ID: "chart-vfm", Title: "Value for money against score",
		Caption: "Each marker is a project: its benefit-cost ratio (present values, real terms) across, its score up; the marker's shape and colour give its band.",
		XLabel:  "Benefit-cost ratio", YLabel: "Score (0 to 100)", Width: chartWidth, Left: 56, Top: 24, PlotW: chartWidth - 56 - 30, PlotH: 300}
	c.Height = c.Top + c.PlotH + 62
	var none []string
	top := 0.0
	for _, p := range d.VFM {
		if p.BCR == nil {
			none = append(none, p.ProjectID)
			continue
		}
		top = math.Max(top, *p.BCR)
	}
	xt := niceTicks(math.Max(top, 1))
	xmax := xt[len(xt)-1]
	for _, t := range xt {
		c.XTicks = append(c.XTicks, Tick{Pos: c.Left + t/xmax*c.PlotW, Label: Decimal(t, 2)})
	}
	for _, t := range niceTicks(100) {
		c.YTicks = append(c.YTicks, Tick{Pos: c.Top + c.PlotH - t/100*c.PlotH, Label: Decimal(t, 0)})
	}
	for _, p := range d.VFM {
		if p.BCR == nil {
			continue
		}
		x := c.Left + math.Max(*p.BCR, 0)/xmax*c.PlotW
		y := c.Top + c.PlotH - p.Score/100*c.PlotH
		pt := Point{X: x, Y: y, Label: fmt.Sprintf("%s: bcr %s, score %s, %s", p.ProjectID, Ratio(*p.BCR), Score(p.Score), BandName(p.Band))}
		switch p.Band {
		case "scale_up":
			pt.Shape, pt.Fill = "circle", "f-ontime"
		case "extend_and_evaluate":
			pt.Shape, pt.Fill = "square", "f-late"
		default:
			pt.Shape, pt.Fill = "triangle", "f-missing"
			pt.Path = fmt.Sprintf("M%s,%s L%s,%s L%s,%s Z", Decimal(x, 2), Decimal(y-5, 2), Decimal(x+5, 2), Decimal(y+4, 2), Decimal(x-5, 2), Decimal(y+4, 2))
		}
		c.Points = append(c.Points, pt)
	}
	gate := c.Left + 1/xmax*c.PlotW
	c.Rules = []Rule{{X1: gate, Y1: c.Top, X2: gate, Y2: c.Top + c.PlotH, Label: "bcr 1", TextX: gate + 4, TextY: c.Top + 10}}
	c.Legend = []Fill{
		{ID: "f-ontime", Pattern: "circle", Label: "Scale up (circle)"},
		{ID: "f-late", Pattern: "square", Label: "Extend and evaluate (square)"},
		{ID: "f-missing", Pattern: "triangle", Label: "Stop and learn (triangle)"},
	}
	c.placeLegend()
	return c, none
}

func spendChart(d Data) (Chart, [2]float64) {
	h := hbars{id: "chart-spend", title: fmt.Sprintf("Spend against plan by department, all years, real terms (%s prices)", d.Batch.BaseYear),
		caption: "Planned and actual spend of registered projects by department, summed over financial years at base-year prices. The table gives each financial year.",
		xlabel:  fmt.Sprintf("Spend, £ (%s prices)", d.Batch.BaseYear), ylabel: "Department", series: []string{"f-planned", "f-actual"},
		tickText: Money}
	var total [2]float64
	idx := map[string]int{}
	for _, s := range d.Spend {
		i, ok := idx[s.Department]
		if !ok {
			i = len(h.categories)
			idx[s.Department] = i
			h.categories = append(h.categories, s.Department)
			h.values = append(h.values, []float64{0, 0})
		}
		if s.Planned != nil {
			h.values[i][0] += *s.Planned
			total[0] += *s.Planned
		}
		if s.Actual != nil {
			h.values[i][1] += *s.Actual
			total[1] += *s.Actual
		}
	}
	for i, name := range h.categories {
		h.labels = append(h.labels, []string{name + ": planned " + Money(h.values[i][0]), name + ": actual " + Money(h.values[i][1])})
		h.texts = append(h.texts, []string{Money(h.values[i][0]), Money(h.values[i][1])})
	}
	return h.chart(), total
}

func returnsChart(d Data) Chart {
	h := hbars{id: "chart-returns", title: "Monthly spend returns by department: on time, late and missing",
		caption: "Each bar counts a department's returns due in its projects' returns windows: sent on time, sent late, or not sent. Worst first.",
		xlabel:  "Returns", ylabel: "Department", stacked: true, series: []string{"f-missing", "f-late", "f-ontime"},
		tickText: func(x float64) string { return Count(int64(x)) }}
	for _, c := range d.Chase {
		h.categories = append(h.categories, c.Department)
		h.values = append(h.values, []float64{float64(c.Missing), float64(c.Late), float64(c.OnTime)})
		h.labels = append(h.labels, []string{
			fmt.Sprintf("%s: %s missing", c.Department, Count(c.Missing)),
			fmt.Sprintf("%s: %s late", c.Department, Count(c.Late)),
			fmt.Sprintf("%s: %s on time", c.Department, Count(c.OnTime))})
		h.texts = append(h.texts, []string{Count(c.Missing), Count(c.Late), Count(c.OnTime)})
	}
	return h.chart()
}

func lessonsChart(d Data) Chart {
	h := hbars{id: "chart-lessons", title: "Lessons by NAO theme: enablers and barriers",
		caption: "Lessons reported by the projects under each of the National Audit Office's six themes, split into enablers and barriers.",
		xlabel:  "Lessons", ylabel: "Theme", series: []string{"f-enabler", "f-barrier"},
		tickText: func(x float64) string { return Count(int64(x)) }}
	idx := map[string]int{}
	for _, l := range d.Lessons {
		i, ok := idx[l.Theme]
		if !ok {
			i = len(h.categories)
			idx[l.Theme] = i
			h.categories = append(h.categories, ThemeName(l.Theme))
			h.values = append(h.values, []float64{0, 0})
		}
		if l.Polarity == "enabler" {
			h.values[i][0] = float64(l.Lessons)
		} else {
			h.values[i][1] = float64(l.Lessons)
		}
	}
	for i, name := range h.categories {
		h.labels = append(h.labels, []string{fmt.Sprintf("%s: %s enablers", name, Count(int64(h.values[i][0]))), fmt.Sprintf("%s: %s barriers", name, Count(int64(h.values[i][1])))})
		h.texts = append(h.texts, []string{Count(int64(h.values[i][0])), Count(int64(h.values[i][1]))})
	}
	return h.chart()
}

// ThemeName is how the page names an NAO theme.
func ThemeName(theme string) string {
	switch theme {
	case "structures":
		return "Structures"
	case "priorities":
		return "Priorities"
	case "spending":
		return "Spending"
	case "data_sharing":
		return "Data sharing"
	case "culture":
		return "Culture"
	case "best_practice":
		return "Best practice"
	}
	return theme
}
