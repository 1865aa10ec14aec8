package insight

import (
	"testing"
	"time"
)

var tokyo = func() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return time.FixedZone("JST", 9*3600)
	}
	return l
}()

// jt is a time in Japan: "2006-01-02 15:04".
func jt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

func day(t time.Time) string { return t.In(tokyo).Format("2006-01-02 15:04") }

// TestWindows: the default spans end with the period holding now, and their boundaries are Japan's
// midnights, Mondays and firsts of the month, whatever zone now is given in.
func TestWindows(t *testing.T) {
	now := jt("2026-04-07 10:00").UTC() // a Tuesday
	cases := []struct {
		p          Period
		n          int
		first, end string
		second     string
	}{
		{ByDay, 14, "2026-03-25 00:00", "2026-04-08 00:00", "2026-03-26 00:00"},
		{ByWeek, 12, "2026-01-19 00:00", "2026-04-13 00:00", "2026-01-26 00:00"},
		{ByMonth, 12, "2025-05-01 00:00", "2026-05-01 00:00", "2025-06-01 00:00"},
	}
	for _, c := range cases {
		w := NewWindow(c.p, now, tokyo, 0)
		if len(w.Buckets) != c.n || day(w.From()) != c.first || day(w.To()) != c.end || day(w.Buckets[1].Start) != c.second {
			t.Errorf("%s: %d buckets %s … %s (second %s), want %d %s … %s (%s)", c.p, len(w.Buckets), day(w.From()),
				day(w.To()), day(w.Buckets[1].Start), c.n, c.first, c.end, c.second)
		}
		for i := 1; i < len(w.Buckets); i++ {
			if !w.Buckets[i].Start.Equal(w.Buckets[i-1].End) {
				t.Errorf("%s: bucket %d does not follow on", c.p, i)
			}
		}
		if c.p.DefaultCount() != c.n {
			t.Errorf("%s: default %d", c.p, c.p.DefaultCount())
		}
	}
	w := NewWindow(ByDay, now, tokyo, 0)
	for _, c := range []struct {
		at   time.Time
		want int
	}{
		{jt("2026-04-06 23:59"), 12},
		{time.Date(2026, 4, 6, 15, 0, 0, 0, time.UTC), 13}, // 00:00 on the 7th in Japan
		{jt("2026-03-25 00:00"), 0},
		{jt("2026-03-24 23:59"), -1},
		{jt("2026-04-08 00:00"), -1},
	} {
		if got := w.Index(c.at); got != c.want {
			t.Errorf("Index(%s) = %d, want %d", day(c.at), got, c.want)
		}
	}
	// Month ends: March 31st's month holds 31 days, February's 28.
	m := NewWindow(ByMonth, jt("2026-03-31 23:59"), tokyo, 2)
	if day(m.Buckets[0].Start) != "2026-02-01 00:00" || day(m.Buckets[1].Start) != "2026-03-01 00:00" || day(m.To()) != "2026-04-01 00:00" {
		t.Errorf("months: %v", m.Buckets)
	}
	// A Sunday belongs to the week that began on Monday.
	if got := day(ByWeek.Start(jt("2026-04-12 23:00"), tokyo)); got != "2026-04-06 00:00" {
		t.Errorf("Sunday's week starts %s", got)
	}
	for _, s := range []string{"day", "week", "month"} {
		if p, ok := ParsePeriod(s); !ok || string(p) != s {
			t.Errorf("ParsePeriod(%q)", s)
		}
	}
	if _, ok := ParsePeriod("year"); ok {
		t.Error("year accepted")
	}
}

// TestSpread: the median and the 90th percentile, counted by hand.
func TestSpread(t *testing.T) {
	m := time.Minute
	cases := []struct {
		in          []time.Duration
		median, p90 time.Duration
	}{
		{nil, 0, 0},
		{[]time.Duration{5 * m}, 5 * m, 5 * m},
		{[]time.Duration{10 * m, 2 * m}, 6 * m, 10 * m},
		{[]time.Duration{3 * m, 1 * m, 2 * m}, 2 * m, 3 * m},
		{[]time.Duration{1 * m, 2 * m, 3 * m, 4 * m, 5 * m, 6 * m, 7 * m, 8 * m, 9 * m, 100 * m}, 5*m + 30*time.Second, 9 * m},
		{[]time.Duration{1 * m, 2 * m, 3 * m, 4 * m, 5 * m, 6 * m, 7 * m, 8 * m, 9 * m, 10 * m, 11 * m}, 6 * m, 10 * m},
	}
	for _, c := range cases {
		s := SpreadOf(append([]time.Duration(nil), c.in...))
		if s.N != len(c.in) || s.Median != c.median || s.P90 != c.p90 {
			t.Errorf("%v: %+v, want median %s p90 %s", c.in, s, c.median, c.p90)
		}
	}
	if _, ok := (Rate{}).Value(); ok {
		t.Error("an empty rate has a value")
	}
	if v, ok := (Rate{1, 4}).Value(); !ok || v != 0.25 {
		t.Errorf("1 of 4 = %v", v)
	}
}

func TestGroupOf(t *testing.T) {
	for intent, want := range map[string]string{"faq.5": GroupPolicy, "faq.13": GroupPolicy, "optout": GroupOptOut,
		"optin": GroupOptOut, "disclosure": GroupRequest, "complaint": GroupStaff, "human": GroupStaff,
		"menu": GroupOther, "none": GroupNone, "": GroupNone} {
		if got := GroupOf(intent); got != want {
			t.Errorf("GroupOf(%q) = %s, want %s", intent, got, want)
		}
	}
}
