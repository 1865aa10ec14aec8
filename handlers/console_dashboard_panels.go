package handlers

import (
	"math"
	"strconv"
	"time"

	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/handlers/chart"
)

// dashPanel is one of the dashboard's charts (or tables) with its numbers as the CSV file gives them:
// the same table in both, so what is drawn is what is downloaded.
type dashPanel struct {
	id, title, note string
	chart           *chart.Chart // nil: a table
	table           *dashTable
}

// dashTable is a panel's numbers: a header and rows of cells (labels and plain numbers). Total says
// the last row sums the others (the page sets it apart).
type dashTable struct {
	Head  []string
	Rows  [][]string
	Total bool
}

// IsTotal reports whether row i is the table's total.
func (t *dashTable) IsTotal(i int) bool { return t.Total && i == len(t.Rows)-1 }

// The size of a chart in its own units: about its size on the page in two columns, so that its text is
// drawn at about the page's small print.
const dashWidth, dashHeight = 560, 260

// The dashboard's colours: the brand's green for what went well, red for what did not.
const (
	dashGreen  = "#0b6e4f"
	dashBlue   = "#2e90fa"
	dashPurple = "#7a5af8"
	dashOrange = "#f79009"
	dashGrey   = "#98a2b3"
	dashRed    = "#d92d20"
	dashAmber  = "#fdb022"
	dashTeal   = "#15b79e"
)

// dashGroups name and colour the question groups.
var dashGroups = map[string]struct{ id, colour string }{
	insight.GroupPolicy:  {"console.dashboard.group_policy", dashGreen},
	insight.GroupOptOut:  {"console.dashboard.group_optout", dashBlue},
	insight.GroupRequest: {"console.dashboard.group_request", dashPurple},
	insight.GroupStaff:   {"console.dashboard.group_staff", dashOrange},
	insight.GroupOther:   {"console.dashboard.group_other", dashGrey},
	insight.GroupNone:    {"console.dashboard.group_none", dashRed},
}

var (
	dashReasonColours = map[string]string{insight.ReasonComplaint: dashRed, insight.ReasonHuman: dashBlue, insight.ReasonMisses: dashOrange}
	dashRatingColours = map[string]string{insight.RatingGood: dashGreen, insight.RatingOK: dashAmber, insight.RatingBad: dashRed}
)

// dashPanels builds every panel of the figures in this language.
func (w *words) dashPanels(f insight.Figures) []dashPanel {
	labels, tips, dates := w.dashLabels(f.Window)
	head := func(cols ...string) []string { return append([]string{w.dashPeriodColumn(f.Window.Period)}, cols...) }
	n := len(f.Window.Buckets)
	// counts draws stacked counts: names and colours of the columns, [bucket][column] values.
	counts := func(id, title, note string, names, colours []string, g [][]int, total bool) dashPanel {
		c := &chart.Chart{Title: title, Desc: note, Labels: labels, Tips: tips, Integer: true, Empty: w.T("console.dashboard.empty"), Width: dashWidth, Height: dashHeight,
			Format: w.dashCount, Tick: func(v float64) string { return groupDigits(int64(v)) }, Tip: w.dashTip}
		t := &dashTable{Head: head(names...)}
		if total {
			t.Head = append(t.Head, w.T("console.dashboard.col_total"))
		}
		for k, name := range names {
			s := chart.Series{Name: name, Color: colours[k], Values: make([]float64, n)}
			for b := range n {
				s.Values[b] = float64(g[b][k])
			}
			c.Series = append(c.Series, s)
		}
		for b := range n {
			row, sum := []string{dates[b]}, 0
			for _, v := range g[b] {
				row, sum = append(row, strconv.Itoa(v)), sum+v
			}
			if total {
				row = append(row, strconv.Itoa(sum))
			}
			t.Rows = append(t.Rows, row)
		}
		return dashPanel{id: id, title: title, note: note, chart: c, table: t}
	}
	// rate draws a share over time.
	rate := func(id, title, note, series, colour string, rs []insight.Rate, cols [3]string) dashPanel {
		s := chart.Series{Name: series, Color: colour, Values: make([]float64, n)}
		c := &chart.Chart{Kind: chart.Lines, Title: title, Desc: note, Labels: labels, Tips: tips, Max: 1, Empty: w.T("console.dashboard.empty"), Width: dashWidth, Height: dashHeight,
			Tick: dashPercentTick, Tip: w.dashTip}
		t := &dashTable{Head: head(cols[0], cols[1], cols[2])}
		texts := make([]string, n)
		for b, r := range rs {
			v, ok := r.Value()
			s.Values[b], texts[b] = math.NaN(), ""
			pct := ""
			if ok {
				s.Values[b], texts[b], pct = v, w.dashRate(r), dashPercent(v)
			}
			t.Rows = append(t.Rows, []string{dates[b], strconv.Itoa(r.Den), strconv.Itoa(r.Num), pct})
		}
		s.Texts = texts
		c.Series = []chart.Series{s}
		return dashPanel{id: id, title: title, note: note, chart: c, table: t}
	}
	// spread draws the median and the 90th percentile of durations over time.
	spread := func(id, title, note string, ss []insight.Spread) dashPanel {
		top := time.Duration(0)
		for _, s := range ss {
			top = max(top, s.P90)
		}
		unit, tick := w.dashDurationAxis(top)
		c := &chart.Chart{Kind: chart.Lines, Title: title, Desc: note, Labels: labels, Tips: tips, Empty: w.T("console.dashboard.empty"), Width: dashWidth, Height: dashHeight,
			Tick: tick, Tip: w.dashTip}
		med := chart.Series{Name: w.T("console.dashboard.series_median"), Color: dashGreen, Values: make([]float64, n), Texts: make([]string, n)}
		p90 := chart.Series{Name: w.T("console.dashboard.series_p90"), Color: dashOrange, Values: make([]float64, n), Texts: make([]string, n)}
		t := &dashTable{Head: head(w.T("console.dashboard.col_count"), w.T("console.dashboard.col_median"), w.T("console.dashboard.col_p90"))}
		for b, s := range ss {
			med.Values[b], p90.Values[b] = math.NaN(), math.NaN()
			row := []string{dates[b], strconv.Itoa(s.N), "", ""}
			if s.N > 0 {
				med.Values[b], p90.Values[b] = float64(s.Median)/float64(unit), float64(s.P90)/float64(unit)
				med.Texts[b], p90.Texts[b] = w.dashDuration(s.Median), w.dashDuration(s.P90)
				row[2], row[3] = dashMinutes(s.Median), dashMinutes(s.P90)
			}
			t.Rows = append(t.Rows, row)
		}
		c.Series = []chart.Series{med, p90}
		return dashPanel{id: id, title: title, note: note, chart: c, table: t}
	}

	q, e, cs, rq := f.Questions, f.Escalations, f.Consent, f.Requests
	var names, colours []string
	for _, g := range q.Groups {
		names, colours = append(names, w.T(dashGroups[g].id)), append(colours, dashGroups[g].colour)
	}
	out := []dashPanel{counts("questions", w.T("console.dashboard.questions_title"), w.T("console.dashboard.questions_note"), names, colours, q.ByGroup, true),
		rate("unanswered", w.T("console.dashboard.unanswered_title"), w.T("console.dashboard.unanswered_note"), w.T("console.dashboard.series_unanswered"), dashRed, q.Unanswered,
			[3]string{w.T("console.dashboard.col_asked"), w.T("console.dashboard.col_unanswered"), w.T("console.dashboard.col_rate")}),
		rate("helped", w.T("console.dashboard.helped_title"), w.T("console.dashboard.helped_note"), w.T("console.dashboard.series_helped"), dashGreen, q.Helped,
			[3]string{w.T("console.dashboard.col_judged"), w.T("console.dashboard.col_helped"), w.T("console.dashboard.col_rate")}),
		w.dashTopics(q.Topics)}

	names, colours = nil, nil
	for i, r := range e.Reasons {
		names, colours = append(names, w.Label("reason", r)), append(colours, dashColour(dashReasonColours[r], i-len(insight.Reasons())))
	}
	out = append(out, counts("escalations", w.T("console.dashboard.escalations_title"), w.T("console.dashboard.escalations_note"), names, colours, e.ByReason, true))
	names, colours = nil, nil
	for _, r := range insight.Ratings() {
		names, colours = append(names, w.Label("rating", r)), append(colours, dashRatingColours[r])
	}
	sat := counts("satisfaction", w.T("console.dashboard.satisfaction_title"), w.T("console.dashboard.satisfaction_note"), names, colours, e.Ratings, false)
	sat.table.Head = append(sat.table.Head, w.T("console.dashboard.col_satisfied"))
	for b, r := range e.Satisfied {
		pct := ""
		if v, ok := r.Value(); ok {
			pct = dashPercent(v)
		}
		sat.table.Rows[b] = append(sat.table.Rows[b], pct)
	}
	out = append(out, sat,
		spread("first_response", w.T("console.dashboard.first_title"), w.T("console.dashboard.first_note"), e.FirstResponse),
		spread("resolution", w.T("console.dashboard.resolution_title"), w.T("console.dashboard.resolution_note"), e.Resolution))

	names, colours = nil, nil
	for i, ch := range cs.Channels {
		names, colours = append(names, w.Label("channel", ch.Name())), append(colours, chart.Palette[i%len(chart.Palette)])
	}
	out = append(out, counts("optouts", w.T("console.dashboard.optouts_title"), w.T("console.dashboard.optouts_note"), names, colours, cs.OptOuts, false),
		counts("optins", w.T("console.dashboard.optins_title"), w.T("console.dashboard.optins_note"), names, colours, cs.OptIns, false))

	names, colours = nil, nil
	for i, k := range rq.Kinds {
		names, colours = append(names, w.T(requestKindIDs[k])), append(colours, chart.Palette[i%len(chart.Palette)])
	}
	req := counts("requests", w.T("console.dashboard.requests_title"), w.T("console.dashboard.requests_note"), names, colours, rq.ByKind, false)
	req.table.Head = append(req.table.Head, w.T("console.dashboard.col_requests"))
	for b, v := range rq.Received {
		req.table.Rows[b] = append(req.table.Rows[b], strconv.Itoa(v))
	}
	return append(out, req, w.dashRequestStatus(rq))
}

// dashColour is a known code's colour, or for the i-th code the dashboard does not know one of the
// palette's from its greys on.
func dashColour(c string, i int) string {
	if c != "" {
		return c
	}
	return chart.Palette[(max(i, 0)+6)%len(chart.Palette)]
}

// dashTopicsShown is how many policy topics the page lists (the CSV has them all).
const dashTopicsShown = 10

func (w *words) dashTopics(ts []insight.TopicCount) dashPanel {
	t := &dashTable{Head: []string{w.T("console.dashboard.col_topic"), w.T("console.dashboard.col_answers"),
		w.T("console.dashboard.col_judged"), w.T("console.dashboard.col_helped"), w.T("console.dashboard.col_rate")}}
	for _, x := range ts {
		pct := ""
		if v, ok := x.Helped.Value(); ok {
			pct = dashPercent(v)
		}
		t.Rows = append(t.Rows, []string{w.dashTopicName(x.Topic), strconv.Itoa(x.Count), strconv.Itoa(x.Helped.Den), strconv.Itoa(x.Helped.Num), pct})
	}
	return dashPanel{id: "topics", title: w.T("console.dashboard.topics_title"), note: w.T("console.dashboard.topics_note"), table: t}
}

func (w *words) dashRequestStatus(rq insight.RequestFigures) dashPanel {
	t := &dashTable{Head: []string{w.T("console.dashboard.col_kind")}}
	for _, s := range rq.Statuses {
		t.Head = append(t.Head, w.T(requestStatusIDs[s]))
	}
	for k, kind := range rq.Kinds {
		row := []string{w.T(requestKindIDs[kind])}
		for s := range rq.Statuses {
			row = append(row, strconv.Itoa(rq.KindStatus[k][s]))
		}
		t.Rows = append(t.Rows, row)
	}
	row := []string{w.T("console.dashboard.col_requests")}
	for _, v := range rq.StatusAll {
		row = append(row, strconv.Itoa(v))
	}
	t.Rows, t.Total = append(t.Rows, row), true
	return dashPanel{id: "request_status", title: w.T("console.dashboard.status_title"), note: w.T("console.dashboard.status_note"), table: t}
}
