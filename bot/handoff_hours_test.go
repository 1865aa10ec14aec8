package bot

import (
	"testing"
	"time"

	"github.com/enemane/privacybot/flows"
)

func TestBusinessHours(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBusinessHours("Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-12:00", tokyo, []string{"2026-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		t, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
		if err != nil {
			panic(err)
		}
		return t
	}
	cases := []struct {
		now  string
		open bool
		next string
		ja   string
		en   string
	}{
		{"2026-01-05 10:00", true, "2026-01-05 10:00", "", ""},                              // Monday morning
		{"2026-01-05 12:30", false, "2026-01-05 13:00", "1月5日（月）13:00", "Mon 5 Jan, 13:00"}, // lunch
		{"2026-01-05 18:00", false, "2026-01-06 09:00", "1月6日（火）9:00", "Tue 6 Jan, 09:00"},  // closing time
		{"2026-01-09 20:00", false, "2026-01-10 10:00", "", ""},                             // Friday night → Saturday
		{"2026-01-10 12:00", false, "2026-01-12 09:00", "", ""},                             // Saturday noon → Monday
		{"2025-12-31 19:00", false, "2026-01-02 09:00", "", ""},                             // holiday skipped
		{"2026-01-01 10:00", false, "2026-01-02 09:00", "", ""},                             // on the holiday
	}
	for _, c := range cases {
		now := at(c.now)
		if got := b.IsOpen(now); got != c.open {
			t.Errorf("%s: open %v, want %v", c.now, got, c.open)
		}
		if got := b.NextOpen(now); !got.Equal(at(c.next)) {
			t.Errorf("%s: next %s, want %s", c.now, got.Format("2006-01-02 15:04"), c.next)
		}
		if c.ja != "" {
			if got := b.FormatNext(now, flows.Ja); got != c.ja {
				t.Errorf("%s: ja %q, want %q", c.now, got, c.ja)
			}
			if got := b.FormatNext(now, flows.En); got != c.en {
				t.Errorf("%s: en %q, want %q", c.now, got, c.en)
			}
		}
	}
	// UTC input is read in Tokyo time.
	if !b.IsOpen(at("2026-01-05 10:00").UTC()) {
		t.Error("UTC instant not converted")
	}
	if !(BusinessHours{}).IsOpen(time.Now()) {
		t.Error("the zero value is always open")
	}
	for _, bad := range []string{"Mon-Fri", "Moo 09:00-18:00", "Mon 18:00-09:00", "Mon 9-18"} {
		if _, err := ParseBusinessHours(bad, tokyo, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ParseBusinessHours("", tokyo, []string{"01/01/2026"}); err == nil {
		t.Error("bad holiday accepted")
	}
}

func TestHubDropsForSlowSubscribers(t *testing.T) {
	h := NewHub()
	ch, stop := h.Subscribe()
	for i := 0; i < 1000; i++ {
		h.Publish(Notice{Kind: NoticeQueue}) // never blocks
	}
	if len(ch) == 0 {
		t.Fatal("nothing received")
	}
	stop()
	h.Publish(Notice{Kind: NoticeQueue})
}
