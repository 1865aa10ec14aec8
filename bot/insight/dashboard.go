package insight

import (
	"sort"
	"time"
)

// Period is how the dashboard groups time: by day, week (Monday to Sunday) or month.
type Period string

// The periods of the dashboard.
const (
	ByDay   Period = "day"
	ByWeek  Period = "week"
	ByMonth Period = "month"
)

// Periods lists the periods in the order the console offers them.
func Periods() []Period { return []Period{ByDay, ByWeek, ByMonth} }

// ParsePeriod reads a period's name; ok is false for anything else.
func ParsePeriod(s string) (p Period, ok bool) {
	switch Period(s) {
	case ByDay, ByWeek, ByMonth:
		return Period(s), true
	}
	return "", false
}

// DefaultCount is how many periods the dashboard shows: 14 days, 12 weeks or 12 months.
func (p Period) DefaultCount() int {
	if p == ByDay {
		return 14
	}
	return 12
}

// Start is the beginning of the period that holds t, in loc: midnight, Monday's midnight, or the
// first of the month.
func (p Period) Start(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	switch p {
	case ByWeek:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	case ByMonth:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	}
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// next is the start of the period after the one starting at start.
func (p Period) next(start time.Time) time.Time {
	y, m, d := start.Date()
	switch p {
	case ByWeek:
		return time.Date(y, m, d+7, 0, 0, 0, 0, start.Location())
	case ByMonth:
		return time.Date(y, m+1, 1, 0, 0, 0, 0, start.Location())
	}
	return time.Date(y, m, d+1, 0, 0, 0, 0, start.Location())
}

// Bucket is one period of the dashboard: [Start, End).
type Bucket struct{ Start, End time.Time }

// Window is the span the dashboard shows: consecutive buckets of one period, oldest first, the last
// one holding the time it was made for.
type Window struct {
	Period  Period
	Loc     *time.Location
	Buckets []Bucket
}

// NewWindow returns the n periods (n ≤ 0: the period's default) up to and including the one that
// holds now, with boundaries in loc.
func NewWindow(p Period, now time.Time, loc *time.Location, n int) Window {
	if n <= 0 {
		n = p.DefaultCount()
	}
	starts := make([]time.Time, n)
	starts[n-1] = p.Start(now, loc)
	for i := n - 2; i >= 0; i-- {
		// The start of the period before: the start of the one holding the instant before.
		starts[i] = p.Start(starts[i+1].Add(-time.Nanosecond), loc)
	}
	w := Window{Period: p, Loc: loc, Buckets: make([]Bucket, n)}
	for i, s := range starts {
		w.Buckets[i] = Bucket{Start: s, End: p.next(s)}
	}
	return w
}

// From is the start of the window.
func (w Window) From() time.Time { return w.Buckets[0].Start }

// To is the end of the window (the end of the current period).
func (w Window) To() time.Time { return w.Buckets[len(w.Buckets)-1].End }

// Index is the bucket that holds t, or -1 when t is outside the window.
func (w Window) Index(t time.Time) int {
	if t.Before(w.From()) || !t.Before(w.To()) {
		return -1
	}
	return sort.Search(len(w.Buckets), func(i int) bool { return t.Before(w.Buckets[i].End) })
}
