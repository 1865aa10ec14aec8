package bot

import (
	"testing"
	"time"
)

// TestBusinessHoursOpen counts the open time between two instants by hand: lunch breaks, nights,
// weekends, holidays, a shift across midnight, overlapping clauses, and always-open hours.
func TestBusinessHoursOpen(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
		if err != nil {
			panic(err)
		}
		return v
	}
	parse := func(spec string, holidays ...string) BusinessHours {
		b, err := ParseBusinessHours(spec, tokyo, holidays)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// 2026-01-05 is a Monday; 2026-01-01 (Thursday) a holiday.
	office := parse("Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-12:00", "2026-01-01")
	cases := []struct {
		name     string
		b        BusinessHours
		from, to string
		want     time.Duration
	}{
		{"within the morning", office, "2026-01-05 10:00", "2026-01-05 10:30", 30 * time.Minute},
		{"across lunch", office, "2026-01-05 11:30", "2026-01-05 13:30", time.Hour},
		{"overnight", office, "2026-01-05 17:00", "2026-01-06 10:00", 2 * time.Hour},
		{"over the weekend", office, "2026-01-09 17:00", "2026-01-12 09:30", 3*time.Hour + 30*time.Minute}, // Fri 1 h, Sat 2 h, Sun 0, Mon 30 min
		{"over a holiday", office, "2025-12-31 17:30", "2026-01-02 09:15", 45 * time.Minute},               // Wed 30 min, Thu 0, Fri 15 min
		{"on the holiday", office, "2026-01-01 09:00", "2026-01-01 18:00", 0},
		{"at night only", office, "2026-01-05 19:00", "2026-01-05 23:00", 0},
		{"Sunday only", office, "2026-01-11 00:00", "2026-01-12 00:00", 0},
		{"a whole week", office, "2026-01-05 00:00", "2026-01-12 00:00", 42 * time.Hour}, // 5 × 8 h + 2 h
		{"before opening to after closing", office, "2026-01-05 07:00", "2026-01-05 20:00", 8 * time.Hour},
		{"reversed", office, "2026-01-05 11:00", "2026-01-05 10:00", 0},
		{"empty", office, "2026-01-05 11:00", "2026-01-05 11:00", 0},
		{"always open", BusinessHours{}, "2026-01-09 17:00", "2026-01-12 09:30", 64*time.Hour + 30*time.Minute},
		{"always open but holidays", parse("", "2026-01-01"), "2025-12-31 12:00", "2026-01-02 12:00", 24 * time.Hour},
		{"a shift across midnight", parse("Fri 22:00-24:00; Sat 00:00-02:00"), "2026-01-09 23:00", "2026-01-10 01:00", 2 * time.Hour},
		{"around a shift across midnight", parse("Fri 22:00-24:00; Sat 00:00-02:00"), "2026-01-09 21:00", "2026-01-10 03:00", 4 * time.Hour},
		{"overlapping clauses count once", parse("Mon 09:00-12:00; Mon 10:00-13:00"), "2026-01-05 08:00", "2026-01-05 14:00", 4 * time.Hour},
		{"a month", office, "2026-02-01 00:00", "2026-03-01 00:00", 20*8*time.Hour + 4*2*time.Hour}, // February 2026: 20 weekdays, 4 Saturdays
	}
	for _, c := range cases {
		if got := c.b.Open(at(c.from), at(c.to)); got != c.want {
			t.Errorf("%s: %s → %s: %s, want %s", c.name, c.from, c.to, got, c.want)
		}
	}
	// Instants in another zone are read in the hours' own: 10:00–11:00 in Tokyo is 01:00–02:00 UTC.
	if got := office.Open(at("2026-01-05 10:00").UTC(), at("2026-01-05 11:00").UTC()); got != time.Hour {
		t.Errorf("UTC instants: %s, want 1h", got)
	}
}
