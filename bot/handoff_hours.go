package bot

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/enemane/privacybot/flows"
)

// BusinessHours says when staff answer: weekly opening windows in a time zone, minus holidays. The
// zero value is always open.
type BusinessHours struct {
	windows  [7][]window // by time.Weekday
	loc      *time.Location
	holidays map[string]bool // "2006-01-02"
	set      bool
}

type window struct{ from, to int } // minutes after midnight, to > from

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseBusinessHours reads spec such as "Mon-Fri 09:00-18:00" or "Mon-Fri 09:00-12:00,13:00-18:00;
// Sat 10:00-12:00" (clauses separated by ";", days as a range or a comma list), in loc, with holidays
// as dates "2006-01-02". An empty spec is always open.
func ParseBusinessHours(spec string, loc *time.Location, holidays []string) (BusinessHours, error) {
	b := BusinessHours{loc: loc, holidays: map[string]bool{}}
	if loc == nil {
		b.loc = time.UTC
	}
	for _, d := range holidays {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return b, fmt.Errorf("holiday %q: want YYYY-MM-DD", d)
		}
		b.holidays[d] = true
	}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return b, nil
	}
	b.set = true
	for _, clause := range strings.Split(spec, ";") {
		f := strings.Fields(clause)
		if len(f) != 2 {
			return b, fmt.Errorf("business hours %q: want \"Mon-Fri 09:00-18:00\"", clause)
		}
		days, err := parseDays(f[0])
		if err != nil {
			return b, err
		}
		for _, span := range strings.Split(f[1], ",") {
			from, to, ok := strings.Cut(span, "-")
			fm, err1 := parseClock(from)
			tm, err2 := parseClock(to)
			if !ok || err1 != nil || err2 != nil || tm <= fm {
				return b, fmt.Errorf("business hours %q: bad time span %q", clause, span)
			}
			for _, d := range days {
				b.windows[d] = append(b.windows[d], window{fm, tm})
			}
		}
	}
	return b, nil
}

func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, part := range strings.Split(strings.ToLower(s), ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, ok1 := weekdays[from]
		z, ok2 := weekdays[to]
		if !isRange {
			z, ok2 = a, ok1
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("business hours: unknown day in %q (use Mon … Sun)", s)
		}
		for d := a; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == z {
				break
			}
		}
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// IsOpen reports whether staff answer at t.
func (b BusinessHours) IsOpen(t time.Time) bool {
	if !b.set && len(b.holidays) == 0 {
		return true
	}
	t = t.In(b.loc)
	if b.holidays[t.Format(time.DateOnly)] {
		return false
	}
	if !b.set {
		return true
	}
	m := t.Hour()*60 + t.Minute()
	for _, w := range b.windows[t.Weekday()] {
		if m >= w.from && m < w.to {
			return true
		}
	}
	return false
}

// NextOpen returns the next time at or after t when staff answer (t itself when open). It looks
// two weeks ahead at most; past that (a spec with no windows, or a long holiday list) it returns
// the zero time.
func (b BusinessHours) NextOpen(t time.Time) time.Time {
	if b.IsOpen(t) {
		return t
	}
	t = t.In(b.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, b.loc)
	for i := 0; i < 15; i++ {
		d := day.AddDate(0, 0, i)
		if b.holidays[d.Format(time.DateOnly)] {
			continue
		}
		for _, w := range b.windows[d.Weekday()] {
			start := d.Add(time.Duration(w.from) * time.Minute)
			if !start.Before(t) {
				return start
			}
		}
	}
	return time.Time{}
}

// FormatNext says, in lang, when staff answer next after t: "1月6日（火）9:00" / "Tue 6 Jan, 9:00".
func (b BusinessHours) FormatNext(t time.Time, lang flows.Lang) string {
	n := b.NextOpen(t)
	if n.IsZero() {
		if lang == flows.En {
			return "the next business day"
		}
		return "次の営業日"
	}
	if lang == flows.En {
		return n.Format("Mon 2 Jan, 15:04")
	}
	jw := [...]string{"日", "月", "火", "水", "木", "金", "土"}[n.Weekday()]
	return fmt.Sprintf("%d月%d日（%s）%d:%02d", n.Month(), n.Day(), jw, n.Hour(), n.Minute())
}

// Open is how long staff answer between from and to: the parts of the opening windows (holidays
// excepted) that fall in [from, to), as the dashboard counts response and resolution times. Always-open
// hours count the wall time; open hours with holidays only count every day but the holidays. It is 0
// when to is not after from. Windows that overlap (a day named in two clauses) count once.
func (b BusinessHours) Open(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if !b.set && len(b.holidays) == 0 {
		return to.Sub(from)
	}
	loc := b.loc
	if loc == nil {
		loc = time.UTC
	}
	f := from.In(loc)
	var total time.Duration
	for y, m, d := f.Date(); ; d++ {
		day := time.Date(y, m, d, 0, 0, 0, 0, loc)
		if !day.Before(to) {
			return total
		}
		if b.holidays[day.Format(time.DateOnly)] {
			continue
		}
		spans := []window{{0, 24 * 60}}
		if b.set {
			spans = mergeWindows(b.windows[day.Weekday()])
		}
		for _, w := range spans {
			// time.Date normalises the minutes: 24:00 is the next midnight, and a day whose clock
			// changes still counts the hours the clock shows.
			total += overlap(time.Date(y, m, d, 0, w.from, 0, 0, loc), time.Date(y, m, d, 0, w.to, 0, 0, loc), from, to)
		}
	}
}

// mergeWindows returns a day's windows in order with overlapping ones joined.
func mergeWindows(ws []window) []window {
	if len(ws) < 2 {
		return ws
	}
	s := append([]window(nil), ws...)
	slices.SortFunc(s, func(a, b window) int { return a.from - b.from })
	out := s[:1]
	for _, w := range s[1:] {
		last := &out[len(out)-1]
		if w.from <= last.to {
			last.to = max(last.to, w.to)
			continue
		}
		out = append(out, w)
	}
	return out
}

// overlap is how much of [a, b) lies in [from, to).
func overlap(a, b, from, to time.Time) time.Duration {
	if a.Before(from) {
		a = from
	}
	if b.After(to) {
		b = to
	}
	if !b.After(a) {
		return 0
	}
	return b.Sub(a)
}
