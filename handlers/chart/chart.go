// Package chart draws small charts as SVG on the server: stacked bars and lines over a row of
// categories (the dashboard's periods), with axes, a legend, a tooltip (<title>) on every mark and an
// accessible name. The SVG uses presentation attributes only (fill=, stroke=; no style= attribute, no
// script), so that it renders inline under the console's content security policy, and every text it
// was given is escaped.
package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is how a chart draws its series.
type Kind int

// The kinds of chart.
const (
	// StackedBars draws one bar per category, the series stacked from the bottom in order.
	StackedBars Kind = iota
	// Lines draws one line per series, with a dot on every value.
	Lines
)

// Series is one named row of values, one per category. NaN is no value: nothing in a bar, a gap in a
// line.
type Series struct {
	Name   string
	Values []float64
	// Color is the series' colour ("#rrggbb"); "" picks one from Palette by position.
	Color string
	// Texts write the values in the tooltips, one per category ("" or none: Chart.Format).
	Texts []string
}

// Chart is what to draw.
type Chart struct {
	Kind Kind
	// Title is the chart's accessible name (aria-label and its <title>); Desc a longer description.
	Title, Desc string
	// Labels name the categories on the x axis (thinned out when they would not fit; "\n" starts a
	// second line, as a year under a month); Tips name them
	// in the tooltips (Labels when nil).
	Labels, Tips []string
	Series       []Series
	// Max is the top of the y axis (0: a round number above the data).
	Max float64
	// Integer keeps the y axis' steps whole (counts).
	Integer bool
	// Format writes a value in a tooltip, Tick one on the y axis (default: the number as it is).
	Format, Tick func(float64) string
	// Tip writes a mark's tooltip from the category's tip, the series' name and the formatted value
	// (default "category · series: value").
	Tip func(category, series, value string) string
	// Empty is shown across the plot when there is no value at all ("" shows nothing).
	Empty string
	// Width and Height are the drawing's size in its own units (default 640 × 280); the page scales it.
	Width, Height int
}

// Palette is the default colours, picked to stay apart from each other and readable on white.
var Palette = []string{"#0b6e4f", "#2e90fa", "#f79009", "#7a5af8", "#e04f9b", "#15b79e", "#98a2b3", "#b42318", "#475467"}

// Layout, in the drawing's units.
const (
	fontSize   = 11
	legendRow  = 18
	axisWidth  = 46
	axisBottom = 24 // room for one line of category names
	lineHeight = 13 // each further line of a category's name
	padTop     = 8
	padRight   = 8
	swatch     = 10
)

// SVG draws the chart: an <svg> element, well-formed XML, every given text escaped.
func (c Chart) SVG() string {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 640
	}
	if h <= 0 {
		h = 280
	}
	format, tick := c.Format, c.Tick
	if format == nil {
		format = plain
	}
	if tick == nil {
		tick = format
	}
	tip := c.Tip
	if tip == nil {
		tip = func(cat, series, v string) string { return cat + " · " + series + ": " + v }
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" font-size="%d">`,
		w, h, w, h, esc(c.Title), fontSize)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	if c.Desc != "" {
		fmt.Fprintf(&b, `<desc>%s</desc>`, esc(c.Desc))
	}
	top := padTop + c.legend(&b, w)
	bottom := float64(axisBottom)
	for _, l := range c.Labels {
		bottom = math.Max(bottom, float64(axisBottom+strings.Count(l, "\n")*lineHeight))
	}
	plot := box{x: axisWidth, y: top, w: float64(w - axisWidth - padRight), h: float64(h) - top - bottom}
	hi, has := c.top()
	step := niceStep(hi/4, c.Integer)
	if c.Max > 0 {
		hi = c.Max
		step = niceStep(hi/4, c.Integer)
	} else {
		hi = math.Max(step, math.Ceil(hi/step-1e-9)*step)
		if c.Integer && hi < 4 {
			// A few counts: an axis to 4, so that a count of 1 is not drawn as a full bar.
			hi, step = 4, 1
		}
	}
	c.axes(&b, plot, hi, step, tick)
	if !has {
		if c.Empty != "" {
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="#6b7785">%s</text>`,
				num(plot.x+plot.w/2), num(plot.y+plot.h/2), esc(c.Empty))
		}
		b.WriteString(`</svg>`)
		return b.String()
	}
	if c.Kind == Lines {
		c.lines(&b, plot, hi, format, tip)
	} else {
		c.bars(&b, plot, hi, format, tip)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

type box struct{ x, y, w, h float64 }

// colour is the colour of series i.
func (c Chart) colour(i int) string {
	if s := c.Series[i].Color; validColour(s) {
		return s
	}
	return Palette[i%len(Palette)]
}

// validColour accepts "#rgb" and "#rrggbb" only (a colour is an attribute value: nothing else gets in).
func validColour(s string) bool {
	if len(s) != 4 && len(s) != 7 || s[0] != '#' {
		return false
	}
	_, err := strconv.ParseUint(s[1:], 16, 32)
	return err == nil
}

// value is series i's value in category j (NaN when missing).
func (c Chart) value(i, j int) float64 {
	v := c.Series[i].Values
	if j >= len(v) {
		return math.NaN()
	}
	return v[j]
}

// top is the highest point the data reach (a stack's total for bars), and whether there is any value.
func (c Chart) top() (float64, bool) {
	hi, has := 0.0, false
	for j := range c.Labels {
		sum := 0.0
		for i := range c.Series {
			v := c.value(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				continue
			}
			has = has || v > 0 || c.Kind == Lines
			if c.Kind == Lines {
				hi = math.Max(hi, v)
			} else {
				sum += v
			}
		}
		hi = math.Max(hi, sum)
	}
	return hi, has
}

// legend draws the series' names across the top, wrapping into rows, and returns its height.
func (c Chart) legend(b *strings.Builder, width int) float64 {
	if len(c.Series) == 0 {
		return 0
	}
	x, row := float64(axisWidth), 0
	b.WriteString(`<g class="legend">`)
	for i, s := range c.Series {
		item := swatch + 4 + textWidth(s.Name) + 14
		if x+item > float64(width-padRight) && x > axisWidth {
			x, row = axisWidth, row+1
		}
		y := float64(padTop + row*legendRow)
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%d" height="%d" rx="2" fill="%s"/>`, num(x), num(y+2), swatch, swatch, c.colour(i))
		fmt.Fprintf(b, `<text x="%s" y="%s" fill="#1f2933">%s</text>`, num(x+swatch+4), num(y+11), esc(s.Name))
		x += item
	}
	b.WriteString(`</g>`)
	return float64((row+1)*legendRow + 6)
}

// axes draws the y axis' grid lines and numbers and the x axis' category names.
func (c Chart) axes(b *strings.Builder, p box, hi, step float64, tick func(float64) string) {
	b.WriteString(`<g class="axes">`)
	for k := 0; float64(k)*step <= hi+step/1e6; k++ {
		v := float64(k) * step
		y := p.y + p.h - v/hi*p.h
		stroke := "#e3e8ee"
		if v == 0 {
			stroke = "#98a2b3"
		}
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`, num(p.x), num(y), num(p.x+p.w), num(y), stroke)
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end" fill="#6b7785">%s</text>`, num(p.x-6), num(y+4), esc(tick(v)))
	}
	n := len(c.Labels)
	if n > 0 {
		slot := p.w / float64(n)
		shown := c.labelsShown(slot)
		for j, l := range c.Labels {
			if !shown[j] {
				continue
			}
			x := num(p.x + slot*(float64(j)+0.5))
			lines := strings.Split(l, "\n")
			fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" fill="#6b7785">%s`, x, num(p.y+p.h+16), esc(lines[0]))
			for _, line := range lines[1:] {
				fmt.Fprintf(b, `<tspan x="%s" dy="%d">%s</tspan>`, x, lineHeight, esc(line))
			}
			b.WriteString(`</text>`)
		}
	}
	b.WriteString(`</g>`)
}

// labelsShown picks the category names that fit under their slots without touching each other:
// first the newest and those of two lines (a month with its year), then the others from the newest
// back, each where it leaves a gap to those already placed.
func (c Chart) labelsShown(slot float64) []bool {
	n := len(c.Labels)
	half := make([]float64, n) // half a name's width, and half the gap
	for j, l := range c.Labels {
		for _, line := range strings.Split(l, "\n") {
			half[j] = math.Max(half[j], textWidth(line)/2+3)
		}
	}
	shown := make([]bool, n)
	fits := func(j int) bool {
		for k := range n {
			if shown[k] && math.Abs(float64(k-j))*slot < half[k]+half[j] {
				return false
			}
		}
		return true
	}
	var order []int
	for j := n - 1; j >= 0; j-- {
		if j == n-1 || strings.Contains(c.Labels[j], "\n") {
			order = append(order, j)
		}
	}
	for j := n - 1; j >= 0; j-- {
		if j != n-1 && !strings.Contains(c.Labels[j], "\n") {
			order = append(order, j)
		}
	}
	for _, j := range order {
		if shown[j] = fits(j); !shown[j] && j == n-1 {
			shown[j] = true // the newest is always named
		}
	}
	return shown
}

// text writes series i's value v in category j for a tooltip.
func (c Chart) text(i, j int, v float64, format func(float64) string) string {
	if t := c.Series[i].Texts; j < len(t) && t[j] != "" {
		return t[j]
	}
	return format(v)
}

// tipOf names category j in a tooltip.
func (c Chart) tipOf(j int) string {
	if j < len(c.Tips) {
		return c.Tips[j]
	}
	return c.Labels[j]
}

func (c Chart) bars(b *strings.Builder, p box, hi float64, format func(float64) string, tip func(string, string, string) string) {
	slot := p.w / float64(len(c.Labels))
	bw := math.Max(2, math.Min(slot*0.62, 48))
	b.WriteString(`<g class="bars">`)
	for j := range c.Labels {
		base := p.y + p.h
		x := p.x + slot*float64(j) + (slot-bw)/2
		for i, s := range c.Series {
			v := c.value(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
				continue
			}
			hgt := v / hi * p.h
			base -= hgt
			fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`,
				num(x), num(base), num(bw), num(hgt), c.colour(i), esc(tip(c.tipOf(j), s.Name, c.text(i, j, v, format))))
		}
	}
	b.WriteString(`</g>`)
}

func (c Chart) lines(b *strings.Builder, p box, hi float64, format func(float64) string, tip func(string, string, string) string) {
	slot := p.w / float64(len(c.Labels))
	b.WriteString(`<g class="lines">`)
	for i, s := range c.Series {
		col := c.colour(i)
		var path strings.Builder
		pen := false
		var dots strings.Builder
		for j := range c.Labels {
			v := c.value(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				pen = false
				continue
			}
			x, y := p.x+slot*(float64(j)+0.5), p.y+p.h-math.Min(math.Max(v, 0), hi)/hi*p.h
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%s %s ", cmd, num(x), num(y))
			pen = true
			fmt.Fprintf(&dots, `<circle cx="%s" cy="%s" r="3.5" fill="%s" stroke="#fff" stroke-width="1"><title>%s</title></circle>`,
				num(x), num(y), col, esc(tip(c.tipOf(j), s.Name, c.text(i, j, v, format))))
		}
		if d := strings.TrimSpace(path.String()); d != "" {
			fmt.Fprintf(b, `<path d="%s" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round"/>`, d, col)
		}
		b.WriteString(dots.String())
	}
	b.WriteString(`</g>`)
}
