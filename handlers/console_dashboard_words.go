package handlers

import (
	"math"
	"strconv"
	"time"

	"github.com/enemane/privacybot/bot/insight"
)

// The dashboard's words: periods, counts, shares and durations in the staff member's language.
// Dates and numbers are written the same in both languages (as clock does); words come from the
// catalog.

// dashLabels names the window's buckets: on the x axis (short), in tooltips (in full) and in the CSV
// files (ISO dates in Japan: the day, the week's Monday, the month).
func (w *words) dashLabels(win insight.Window) (axis, tips, dates []string) {
	for i, b := range win.Buckets {
		s := b.Start.In(tokyo)
		y, m, d := s.Date()
		kv := []any{"Y", y, "M", int(m), "D", d, "Mon", m.String()[:3]}
		switch win.Period {
		case insight.ByMonth:
			label := w.T("console.dashboard.month", kv...)
			if i == 0 || m == time.January {
				label += "\n" + w.T("console.dashboard.year", kv...) // the year under the first month and January
			}
			axis = append(axis, label)
			tips = append(tips, w.T("console.dashboard.month_year", kv...))
			dates = append(dates, s.Format("2006-01"))
			continue
		case insight.ByWeek:
			tips = append(tips, w.T("console.dashboard.tip_week", kv...))
		default:
			tips = append(tips, w.T("console.dashboard.tip_day", kv...))
		}
		axis = append(axis, strconv.Itoa(int(m))+"/"+strconv.Itoa(d))
		dates = append(dates, s.Format(time.DateOnly))
	}
	return axis, tips, dates
}

// dashPeriodColumn is the CSV files' first column's name.
func (w *words) dashPeriodColumn(p insight.Period) string {
	switch p {
	case insight.ByMonth:
		return w.T("console.dashboard.col_month")
	case insight.ByWeek:
		return w.T("console.dashboard.col_week")
	}
	return w.T("console.dashboard.col_day")
}

// dashDate is a day in Japan, in words.
func (w *words) dashDate(t time.Time) string {
	y, m, d := t.In(tokyo).Date()
	return w.T("console.dashboard.date", "Y", y, "M", int(m), "D", d, "Mon", m.String()[:3])
}

func (w *words) dashTip(category, series, value string) string {
	return w.T("console.dashboard.tip", "Label", category, "Series", series, "Value", value)
}

// dashCount is a count with its unit (3件 / 3).
func (w *words) dashCount(v float64) string {
	return w.T("console.dashboard.count", "N", groupDigits(int64(math.Round(v))))
}

// dashRate is a share with what it is of (43%（7件中3件）/ 43% (3 of 7)).
func (w *words) dashRate(r insight.Rate) string {
	v, _ := r.Value()
	return w.T("console.dashboard.rate", "P", dashPercent(v), "Num", groupDigits(int64(r.Num)), "Den", groupDigits(int64(r.Den)))
}

// dashPercent writes a share as a percentage to one decimal ("42.9"; "50" when whole).
func dashPercent(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64)
}

func dashPercentTick(v float64) string { return dashPercent(v) + "%" }

// dashMinutes writes a duration in whole minutes (the CSV files).
func dashMinutes(d time.Duration) string {
	return strconv.FormatInt(int64(math.Round(d.Minutes())), 10)
}

// dashDuration writes a duration in hours and minutes (1時間25分 / 1 h 25 min).
func (w *words) dashDuration(d time.Duration) string {
	m := int64(math.Round(d.Minutes()))
	switch {
	case m < 60:
		return w.T("console.dashboard.minutes", "M", m)
	case m%60 == 0:
		return w.T("console.dashboard.hours", "H", groupDigits(m/60))
	}
	return w.T("console.dashboard.hours_minutes", "H", groupDigits(m/60), "M", m%60)
}

// dashDurationAxis picks the unit of a duration chart's y axis from its highest value: minutes up to
// two hours, hours above.
func (w *words) dashDurationAxis(top time.Duration) (time.Duration, func(float64) string) {
	if top <= 2*time.Hour {
		return time.Minute, func(v float64) string { return w.T("console.dashboard.minutes", "M", dashPlain(v)) }
	}
	return time.Hour, func(v float64) string { return w.T("console.dashboard.hours", "H", dashPlain(v)) }
}

func dashPlain(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// dashTopicName names a policy topic by its title in the customers' catalog (the ID when unknown).
func (w *words) dashTopicName(id string) string {
	if s, ok := w.topicTitle(id); ok {
		return s
	}
	return id
}

// dashTile is one headline figure.
type dashTile struct {
	ID, Label, Value, Sub string
	Warn                  bool
}

func (w *words) dashTiles(f insight.Figures) []dashTile {
	q, e, r := f.Questions, f.Escalations, f.Requests
	share := func(id, label string, x insight.Rate, warnAbove float64) dashTile {
		t := dashTile{ID: id, Label: w.T(label), Value: "—"}
		if v, ok := x.Value(); ok {
			t.Value = dashPercent(v) + "%"
			t.Sub = w.T("console.dashboard.sub_of", "Num", groupDigits(int64(x.Num)), "Den", groupDigits(int64(x.Den)))
			t.Warn = warnAbove >= 0 && v > warnAbove
		}
		return t
	}
	spread := func(id, label string, s insight.Spread) dashTile {
		t := dashTile{ID: id, Label: w.T(label), Value: "—"}
		if s.N > 0 {
			t.Value = w.dashDuration(s.Median)
			t.Sub = w.T("console.dashboard.sub_p90", "P90", w.dashDuration(s.P90), "N", groupDigits(int64(s.N)))
		}
		return t
	}
	waiting := dashTile{ID: "waiting", Label: w.T("console.dashboard.kpi_waiting"), Value: w.dashCount(float64(e.Waiting)),
		Sub: w.T("console.dashboard.sub_in_progress", "N", groupDigits(int64(e.InProgress))), Warn: e.Waiting > 0}
	if e.Waiting > 0 {
		waiting.Sub = w.T("console.dashboard.sub_waiting", "Wait", w.dashDuration(e.LongestWait), "N", groupDigits(int64(e.InProgress)))
	}
	return []dashTile{
		{ID: "asked", Label: w.T("console.dashboard.kpi_asked"), Value: w.dashCount(float64(q.AskedAll)),
			Sub: w.T("console.dashboard.sub_escalations", "N", groupDigits(int64(e.CreatedAll)))},
		share("unanswered", "console.dashboard.kpi_unanswered", q.UnansweredAll, 0.2),
		share("helped", "console.dashboard.kpi_helped", q.HelpedAll, -1),
		waiting,
		spread("first_response", "console.dashboard.kpi_first", e.FirstResponseAll),
		spread("resolution", "console.dashboard.kpi_resolution", e.ResolutionAll),
		share("satisfaction", "console.dashboard.kpi_satisfaction", e.SatisfiedAll, -1),
		{ID: "requests", Label: w.T("console.dashboard.kpi_requests"), Value: w.dashCount(float64(r.DueSoon + r.Overdue)),
			Sub:  w.T("console.dashboard.sub_requests", "Soon", groupDigits(int64(r.DueSoon)), "Over", groupDigits(int64(r.Overdue)), "Open", groupDigits(int64(r.Open))),
			Warn: r.Overdue > 0},
	}
}

// dashAttentionRow is an open request due soon or overdue.
type dashAttentionRow struct {
	Ref, Link, Kinds, Status, Due, Left string
	Overdue                             bool
}

// dashAttention lists the open requests due soon or overdue; link names the request's page (for
// admins: agents cannot open requests).
func (w *words) dashAttention(f insight.Figures, link bool) []dashAttentionRow {
	var out []dashAttentionRow
	for _, r := range f.Requests.Attention {
		row := dashAttentionRow{Ref: r.ID, Status: w.T(requestStatusIDs[r.Status]), Due: r.DueAt.In(tokyo).Format(time.DateOnly),
			Overdue: f.Now.After(r.DueAt)}
		if link {
			row.Link = "/console/requests/" + r.ID
		}
		for i, k := range r.Kinds.List() {
			if i > 0 {
				row.Kinds += w.T("console.dashboard.list_sep")
			}
			row.Kinds += w.T(requestKindIDs[k])
		}
		switch left := insight.DaysLeft(r.DueAt, f.Now, tokyo); {
		case row.Overdue && left >= 0:
			row.Left = w.T("console.dashboard.overdue_today")
		case row.Overdue:
			row.Left = w.T("console.requests.overdue_days", "Count", -left)
		case left == 0:
			row.Left = w.T("console.requests.due_today")
		default:
			row.Left = w.T("console.requests.days_left", "Count", left)
		}
		out = append(out, row)
	}
	return out
}
