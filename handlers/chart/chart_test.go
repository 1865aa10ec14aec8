package chart

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// node is an element of a parsed drawing.
type node struct {
	name  string
	attrs map[string]string
	text  string // the text directly inside it
	kids  []*node
}

// parse reads an SVG as strict XML (failing the test on anything malformed) into a tree.
func parse(t *testing.T, svg string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			n := &node{name: x.Name.Local, attrs: map[string]string{}}
			for _, a := range x.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					t.Fatal("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(x)
			}
		case xml.ProcInst, xml.Directive:
			t.Fatalf("unexpected %T in the drawing", x)
		}
	}
	if root == nil || root.name != "svg" {
		t.Fatalf("no <svg> root: %s", svg)
	}
	return root
}

// all returns every element named name under n (n included).
func (n *node) all(name string) []*node {
	var out []*node
	if n.name == name {
		out = append(out, n)
	}
	for _, k := range n.kids {
		out = append(out, k.all(name)...)
	}
	return out
}

// group returns the <g> of a class.
func (n *node) group(t *testing.T, class string) *node {
	t.Helper()
	for _, g := range n.all("g") {
		if g.attrs["class"] == class {
			return g
		}
	}
	t.Fatalf("no group %q", class)
	return nil
}

func (n *node) texts() []string {
	var out []string
	for _, x := range n.all("text") {
		out = append(out, x.text)
	}
	return out
}

func f(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

// TestHostileTextIsEscaped: whatever the labels hold, the drawing stays one well-formed <svg> with no
// element or attribute but its own, and every text reads back exactly (characters XML cannot hold
// replaced).
func TestHostileTextIsEscaped(t *testing.T) {
	hostile := []string{`</svg><script>alert(1)</script>`, `"><img src=x onerror="alert(2)">`, `' onload='alert(3)`,
		`&amp; &lt;b&gt; ]]> <![CDATA[x]]>`, "請求書\u202Efdp.exe", "改行\nタブ\t", "制御\x01文字", `{{.Secret}}`}
	for _, h := range hostile {
		for _, kind := range []Kind{StackedBars, Lines} {
			c := Chart{Kind: kind, Title: h, Desc: h, Labels: []string{h, "4/2"}, Tips: []string{h, h},
				Series: []Series{{Name: h, Values: []float64{1, 2}, Color: `red" onclick="x`}}, Empty: h,
				Format: func(float64) string { return h }, Tick: func(float64) string { return h }}
			root := parse(t, c.SVG())
			want := strings.ReplaceAll(h, "\x01", "\uFFFD")
			if root.attrs["aria-label"] != want || root.attrs["role"] != "img" {
				t.Errorf("%q: aria-label %q role %q", h, root.attrs["aria-label"], root.attrs["role"])
			}
			allowed := map[string]bool{"svg": true, "title": true, "desc": true, "g": true, "rect": true, "text": true, "line": true, "path": true, "circle": true, "tspan": true}
			var walk func(n *node)
			walk = func(n *node) {
				if !allowed[n.name] {
					t.Errorf("%q: element <%s> in the drawing", h, n.name)
				}
				for a, v := range n.attrs {
					if a == "style" || strings.HasPrefix(a, "on") {
						t.Errorf("%q: attribute %s=%q", h, a, v)
					}
					if a == "fill" && strings.Contains(v, "onclick") {
						t.Errorf("%q: a colour got in: %q", h, v)
					}
				}
				for _, k := range n.kids {
					walk(k)
				}
			}
			walk(root)
			titles := root.all("title")
			if len(titles) < 3 || titles[0].text != want || titles[1].text != want+" · "+want+": "+want {
				t.Errorf("%q: titles read back wrong: %q", h, titles[0].text)
			}
			if !strings.Contains(strings.Join(root.texts(), "|"), want) {
				t.Errorf("%q: the legend or axis lost the text: %q", h, root.texts())
			}
		}
	}
}

// TestStackedBars: each positive value is one rectangle, stacked from the axis in series order,
// heights in proportion, with its tooltip; zero and missing values draw nothing.
func TestStackedBars(t *testing.T) {
	c := Chart{Title: "質問数", Labels: []string{"4/1", "4/2", "4/3"}, Integer: true,
		Series: []Series{{Name: "ポリシー", Values: []float64{1, 3, 0}}, {Name: "未回答", Values: []float64{2, 0, math.NaN()}, Color: "#b42318"}},
		Format: func(v float64) string { return strconv.Itoa(int(v)) + "件" },
		Tip:    func(cat, s, v string) string { return cat + "・" + s + "：" + v }}
	root := parse(t, c.SVG())
	rects := root.group(t, "bars").all("rect")
	if len(rects) != 3 {
		t.Fatalf("%d bars, want 3", len(rects))
	}
	var tips []string
	for _, r := range rects {
		tips = append(tips, r.all("title")[0].text)
	}
	if got := strings.Join(tips, "|"); got != "4/1・ポリシー：1件|4/1・未回答：2件|4/2・ポリシー：3件" {
		t.Errorf("tooltips %q", got)
	}
	if rects[1].attrs["fill"] != "#b42318" || rects[0].attrs["fill"] != Palette[0] {
		t.Errorf("colours %q %q", rects[0].attrs["fill"], rects[1].attrs["fill"])
	}
	// The first stack: 1 on the axis, 2 on top of it; the total 3 equals the second bar's 3.
	h0, h1, h2 := f(t, rects[0].attrs["height"]), f(t, rects[1].attrs["height"]), f(t, rects[2].attrs["height"])
	if math.Abs(h1-2*h0) > 0.2 || math.Abs(h0+h1-h2) > 0.2 {
		t.Errorf("heights %v %v %v", h0, h1, h2)
	}
	if y0, y1 := f(t, rects[0].attrs["y"]), f(t, rects[1].attrs["y"]); math.Abs(y1+h1-y0) > 0.2 {
		t.Errorf("the second segment does not sit on the first: y %v+%v vs %v", y1, h1, y0)
	}
	// The axis: whole steps up to 4 at least (a count of 1 is no full bar), the three categories.
	texts := strings.Join(root.group(t, "axes").texts(), " ")
	if texts != "0件 1件 2件 3件 4件 4/1 4/2 4/3" {
		t.Errorf("axis texts %q", texts)
	}
	if got := strings.Join(root.group(t, "legend").texts(), " "); got != "ポリシー 未回答" {
		t.Errorf("legend %q", got)
	}
}

// TestLines: a missing value breaks the line; a dot with its tooltip marks every value; Max fixes
// the axis (rates up to 100 %).
func TestLines(t *testing.T) {
	c := Chart{Kind: Lines, Title: "未回答率", Labels: []string{"1", "2", "3", "4"}, Max: 1,
		Series: []Series{{Name: "未回答率", Values: []float64{0.5, math.NaN(), 0.25, 1}}},
		Format: func(v float64) string { return strconv.Itoa(int(math.Round(v*100))) + "%" }}
	root := parse(t, c.SVG())
	g := root.group(t, "lines")
	paths := g.all("path")
	if len(paths) != 1 || strings.Count(paths[0].attrs["d"], "M") != 2 || strings.Count(paths[0].attrs["d"], "L") != 1 {
		t.Fatalf("path %v", paths)
	}
	dots := g.all("circle")
	if len(dots) != 3 || dots[2].all("title")[0].text != "4 · 未回答率: 100%" {
		t.Fatalf("dots %d", len(dots))
	}
	if got := strings.Join(root.group(t, "axes").texts(), " "); got != "0% 25% 50% 75% 100% 1 2 3 4" {
		t.Errorf("axis %q", got)
	}
	// 100 % sits on the top grid line, 25 % a quarter up.
	lines := root.group(t, "axes").all("line")
	if f(t, dots[2].attrs["cy"]) != f(t, lines[4].attrs["y1"]) || f(t, dots[1].attrs["cy"]) != f(t, lines[1].attrs["y1"]) {
		t.Errorf("dots off their grid lines")
	}
}

// TestEmptyAndCrowded: no value shows the empty text; many long categories are thinned out, the
// newest one always named.
func TestEmptyAndCrowded(t *testing.T) {
	root := parse(t, Chart{Title: "x", Labels: []string{"a", "b"}, Series: []Series{{Name: "s", Values: []float64{0, math.NaN()}}}, Empty: "データがありません"}.SVG())
	if len(root.all("rect")) != 1 || !strings.Contains(strings.Join(root.texts(), "|"), "データがありません") { // the legend's swatch only
		t.Errorf("empty chart: %q", root.texts())
	}
	var labels []string
	for i := 1; i <= 31; i++ {
		labels = append(labels, "2026年12月"+strconv.Itoa(i)+"日")
	}
	root = parse(t, Chart{Title: "x", Labels: labels, Series: []Series{{Name: "s", Values: make([]float64, 31)}}}.SVG())
	shown := root.group(t, "axes").all("text")
	var cats []string
	for _, x := range shown {
		if strings.HasPrefix(x.text, "2026") {
			cats = append(cats, x.text)
		}
	}
	if len(cats) < 3 || len(cats) > 8 || cats[len(cats)-1] != labels[30] {
		t.Errorf("crowded labels shown: %q", cats)
	}
	for i := 1; i < len(cats); i++ {
		a, b := cats[i-1], cats[i]
		var xa, xb float64
		for _, x := range shown {
			if x.text == a {
				xa = f(t, x.attrs["x"])
			}
			if x.text == b {
				xb = f(t, x.attrs["x"])
			}
		}
		if xb-xa < textWidth(a) {
			t.Errorf("labels %q and %q overlap (%v apart)", a, b, xb-xa)
		}
	}
}

// TestTwoLineLabels: "\n" in a category's name starts a second line under it, and the plot leaves
// room for it.
func TestTwoLineLabels(t *testing.T) {
	one := parse(t, Chart{Title: "x", Labels: []string{"4月", "5月"}, Series: []Series{{Name: "s", Values: []float64{1, 2}}}}.SVG())
	two := parse(t, Chart{Title: "x", Labels: []string{"4月\n2025年", "5月"}, Series: []Series{{Name: "s", Values: []float64{1, 2}}}}.SVG())
	var first *node
	for _, x := range two.group(t, "axes").all("text") {
		if x.text == "4月" {
			first = x
		}
	}
	if first == nil || len(first.kids) != 1 || first.kids[0].name != "tspan" || first.kids[0].text != "2025年" || first.kids[0].attrs["x"] != first.attrs["x"] {
		t.Fatalf("two-line label: %+v", first)
	}
	// Twelve months in a narrow drawing: the two that carry a year are always named.
	months := []string{"5月\n2025年", "6月", "7月", "8月", "9月", "10月", "11月", "12月", "1月\n2026年", "2月", "3月", "4月"}
	root := parse(t, Chart{Title: "x", Width: 400, Labels: months, Series: []Series{{Name: "s", Values: make([]float64, 12)}}}.SVG())
	var named []string
	for _, x := range root.group(t, "axes").all("text") {
		if strings.HasSuffix(x.text, "月") {
			named = append(named, x.text)
		}
	}
	if got := strings.Join(named, " "); !strings.HasPrefix(got, "5月 ") || !strings.Contains(got, " 1月 ") || !strings.HasSuffix(got, " 4月") || len(named) == 12 {
		t.Errorf("months named: %q", got)
	}
	base := func(n *node) float64 { g := n.group(t, "axes").all("line"); return f(t, g[0].attrs["y1"]) }
	if base(one)-base(two) != lineHeight {
		t.Errorf("the axis did not move up by a line: %v vs %v", base(one), base(two))
	}
}

// TestLegendWraps: a legend wider than the drawing takes two rows, and the plot starts below it.
func TestLegendWraps(t *testing.T) {
	var series []Series
	for _, n := range []string{"電話", "ダイレクトメール", "メール", "訪問", "キャンペーン・イベント", "アンケート", "LINEでのお知らせ", "その他のとても長い名前"} {
		series = append(series, Series{Name: n, Values: []float64{1}})
	}
	root := parse(t, Chart{Title: "x", Labels: []string{"4/1"}, Series: series}.SVG())
	ys := map[string]bool{}
	for _, x := range root.group(t, "legend").all("text") {
		ys[x.attrs["y"]] = true
		if f(t, x.attrs["x"])+textWidth(x.text) > 640 {
			t.Errorf("legend item %q runs off the drawing", x.text)
		}
	}
	if len(ys) < 2 {
		t.Errorf("the legend did not wrap: rows %v", ys)
	}
	grid := root.group(t, "axes").all("line")
	top := f(t, grid[len(grid)-1].attrs["y1"])
	legendBottom := 0.0
	for _, x := range root.group(t, "legend").all("text") {
		legendBottom = math.Max(legendBottom, f(t, x.attrs["y"]))
	}
	if top <= legendBottom {
		t.Errorf("the plot (top %v) starts above the legend's last row (%v)", top, legendBottom)
	}
	for _, r := range root.group(t, "bars").all("rect") {
		if f(t, r.attrs["y"]) < top-0.2 {
			t.Errorf("a bar reaches into the legend: y %s", r.attrs["y"])
		}
	}
}

func TestNiceStep(t *testing.T) {
	for _, c := range []struct {
		raw  float64
		int  bool
		want float64
	}{{0.75, true, 1}, {0.75, false, 1}, {0.2, false, 0.2}, {0.3, false, 0.5}, {0.25, false, 0.25}, {2.2, true, 5}, {22, true, 25}, {3, true, 5}, {12, true, 20}, {260, true, 500}, {0, true, 1}} {
		if got := niceStep(c.raw, c.int); got != c.want {
			t.Errorf("niceStep(%v, %v) = %v, want %v", c.raw, c.int, got, c.want)
		}
	}
}
