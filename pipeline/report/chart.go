package report

import (
	"math"
	"unicode/utf8"
)

// Chart is one figure's geometry, worked out in Go and drawn by the page template as SVG:
// categories down the left, values along the bottom (or, for a scatter, both axes
// numeric). Every mark carries its own words (Label) for a tooltip and a screen reader;
// the table beside the chart gives the same numbers.
type Chart struct {
	ID             string
	Title, Caption string
	XLabel, YLabel string
	Width, Height  float64
	// The plot area.
	Left, Top, PlotW, PlotH float64
	XTicks, YTicks          []Tick
	Categories              []Tick // category names along the left
	Bars                    []Bar
	Points                  []Point
	Rules                   []Rule
	Legend                  []Fill
}

// Tick is an axis mark: its position in the SVG and its words.
type Tick struct {
	Pos   float64
	Label string
}

// Bar is a rectangle of a bar chart.
type Bar struct {
	X, Y, W, H float64
	Fill       string // a pattern id from Fills
	Label      string
	Text       string // written on the bar when there is room, else after it
	TextX      float64
	TextIn     bool
}

// Point is a marker of a scatter.
type Point struct {
	X, Y  float64
	Shape string // circle, square, triangle
	Fill  string
	Label string
	Path  string // the triangle's outline
}

// Rule is a reference line, such as a band threshold.
type Rule struct {
	X1, Y1, X2, Y2 float64
	Label          string
	TextX, TextY   float64
}

// Fill is a colour with a pattern over it, so that two fills differ in greyscale and to
// colour-blind readers as well as in colour (the Okabe-Ito palette).
type Fill struct {
	ID, Colour, Pattern, Label string
	X, Y                       float64 // where a chart's legend draws it
}

// Fills are every fill the page uses, defined once at the top of the page.
var Fills = []Fill{
	{ID: "f-evidence", Colour: "#0072B2", Pattern: "solid", Label: "Evidence"},
	{ID: "f-value", Colour: "#E69F00", Pattern: "diagonal", Label: "Value for money"},
	{ID: "f-attainment", Colour: "#009E73", Pattern: "dots", Label: "Attainment"},
	{ID: "f-consistency", Colour: "#CC79A7", Pattern: "horizontal", Label: "Consistency"},
	{ID: "f-delivery", Colour: "#56B4E9", Pattern: "cross", Label: "Delivery"},
	{ID: "f-joinup", Colour: "#D55E00", Pattern: "vertical", Label: "Join-up"},
	{ID: "f-ontime", Colour: "#009E73", Pattern: "solid", Label: "On time"},
	{ID: "f-late", Colour: "#E69F00", Pattern: "diagonal", Label: "Late"},
	{ID: "f-missing", Colour: "#D55E00", Pattern: "cross", Label: "Missing"},
	{ID: "f-planned", Colour: "#56B4E9", Pattern: "diagonal", Label: "Planned"},
	{ID: "f-actual", Colour: "#0072B2", Pattern: "solid", Label: "Actual"},
	{ID: "f-enabler", Colour: "#009E73", Pattern: "solid", Label: "Enabler"},
	{ID: "f-barrier", Colour: "#D55E00", Pattern: "diagonal", Label: "Barrier"},
	{ID: "f-projects", Colour: "#0072B2", Pattern: "solid", Label: "Projects"},
}

func fill(id string) Fill {
	for _, f := range Fills {
		if f.ID == id {
			return f
		}
	}
	return Fill{ID: id}
}

var componentFills = [6]string{"f-evidence", "f-value", "f-attainment", "f-consistency", "f-delivery", "f-joinup"}

const (
	chartWidth = 720.0
	rowHeight  = 16.0
	rowGap     = 4.0
	charWidth  = 6.0 // of the 11px labels, for the room they need
)

// niceTicks returns tick values from 0 to at least max, in steps of 1, 2 or 5 × 10^k.
func niceTicks(max float64) []float64 {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		max = 1
	}
	raw := max / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := 0.0; ; v += step {
		out = append(out, roundHalfAway(v, 9))
		if v >= max-step*1e-9 {
			break
		}
	}
	return out
}

// shorten cuts a label to n characters, ending it with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// hbars lays out a horizontal bar chart: one row of series bars (stacked or side by side)
// per category. values[i][j] is category i's value of series j.
type hbars struct {
	id, title, caption, xlabel, ylabel string
	categories                         []string
	series                             []string // fill ids
	values                             [][]float64
	labels                             [][]string // each bar's words
	texts                              [][]string // what is written on each bar
	stacked                            bool
	max                                float64 // the axis end; 0: from the data
	tickText                           func(float64) string
	rules                              []float64
	ruleText                           []string
}

func (h hbars) chart() Chart {
	longest := 0
	for _, c := range h.categories {
		longest = max(longest, utf8.RuneCountInString(c))
	}
	left := math.Min(math.Max(float64(min(longest, 46))*charWidth+12, 80), 300)
	per := rowHeight
	if !h.stacked {
		per = rowHeight * float64(len(h.series)) * 0.75
	}
	c := Chart{ID: h.id, Title: h.title, Caption: h.caption, XLabel: h.xlabel, YLabel: h.ylabel,
		Width: chartWidth, Left: left, Top: 24} // room above the plot for the rules' words
	c.PlotW = chartWidth - left - 40
	c.PlotH = float64(len(h.categories)) * (per + rowGap)
	c.Height = c.Top + c.PlotH + 62
	top := h.max
	if top == 0 {
		for _, row := range h.values {
			sum := 0.0
			for _, v := range row {
				if h.stacked {
					sum += v
				} else {
					sum = math.Max(sum, v)
				}
			}
			top = math.Max(top, sum)
		}
	}
	ticks := niceTicks(top)
	axisMax := ticks[len(ticks)-1]
	scale := c.PlotW / axisMax
	for _, t := range ticks {
		c.XTicks = append(c.XTicks, Tick{Pos: c.Left + t*scale, Label: h.tickText(t)})
	}
	for i, name := range h.categories {
		y := c.Top + float64(i)*(per+rowGap)
		c.Categories = append(c.Categories, Tick{Pos: y + per/2, Label: shorten(name, 46)})
		x := c.Left
		for j, v := range h.values[i] {
			if v <= 0 {
				continue
			}
			w := v * scale
			b := Bar{X: x, Y: y, W: w, H: per, Fill: h.series[j], Label: h.labels[i][j], Text: h.texts[i][j]}
			if !h.stacked {
				b.Y, b.H = y+float64(j)*per/float64(len(h.series)), per/float64(len(h.series))
				b.X = c.Left
			}
			runes := float64(utf8.RuneCountInString(b.Text))
			b.TextIn = b.W >= runes*5.5+6
			if b.TextIn {
				b.TextX = b.X + b.W/2
			} else {
				b.TextX = b.X + b.W + 3
			}
			if h.stacked {
				x += w
				if !b.TextIn {
					b.Text = "" // no room, and the next segment follows: the table has it
				}
			}
			c.Bars = append(c.Bars, b)
		}
	}
	for i, r := range h.rules {
		x := c.Left + r*scale
		c.Rules = append(c.Rules, Rule{X1: x, Y1: c.Top - 4, X2: x, Y2: c.Top + c.PlotH, Label: h.ruleText[i], TextX: x, TextY: c.Top - 8})
	}
	for _, s := range h.series {
		c.Legend = append(c.Legend, fill(s))
	}
	c.placeLegend()
	return c
}

// placeLegend lays the legend out in a row below the x axis's label.
func (c *Chart) placeLegend() {
	x, y := c.Left, c.Top+c.PlotH+48
	for i := range c.Legend {
		w := float64(utf8.RuneCountInString(c.Legend[i].Label))*charWidth + 34
		if x+w > c.Width && x > c.Left {
			x, y = c.Left, y+18
		}
		c.Legend[i].X, c.Legend[i].Y = x, y
		x += w
	}
	c.Height = y + 12
}
