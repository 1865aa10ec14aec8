package handlers_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/flows"
)

// e164 is a phone number in E.164: a plus and 7 to 15 digits, the first not 0.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// formulaSafe is the rule every cell of the opt-out CSV keeps: it starts with none of = - @, a tab or
// a CR, and with a + only when it is a phone number in E.164, which no spreadsheet runs as a formula.
func formulaSafe(cell string) bool {
	if cell == "" {
		return true
	}
	switch cell[0] {
	case '=', '-', '@', '\t', '\r':
		return false
	case '+':
		return e164.MatchString(cell)
	}
	return true
}

// optoutCSV is a parsed opt-out CSV: the header's columns by name, and the rows by subject.
type optoutCSV struct {
	col  map[string]int
	rows map[string][]string
	all  [][]string
}

func parseOptOutCSV(t *testing.T, body []byte) optoutCSV {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no UTF-8 BOM")
	}
	all, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	c := optoutCSV{col: map[string]int{}, rows: map[string][]string{}, all: all}
	for i, h := range all[0] {
		c.col[h] = i
	}
	for _, r := range all[1:] {
		c.rows[r[0]] = r
	}
	for i, r := range all {
		for _, cell := range r {
			if !formulaSafe(cell) {
				t.Errorf("row %d: cell %q could run as a formula", i, cell)
			}
		}
	}
	return c
}

func (c optoutCSV) cell(t *testing.T, subject, column string) string {
	t.Helper()
	r, ok := c.rows[subject]
	if !ok {
		t.Fatalf("no row for %s", subject)
	}
	i, ok := c.col[column]
	if !ok {
		t.Fatalf("no column %s in %v", column, c.all[0])
	}
	return r[i]
}

// TestMarketingCSVNeutralisesFormulas: no cell of the CSV starts with = - @, a tab, a CR, or a + that
// is not a phone number. Hostile names and customer numbers get a leading apostrophe; phone numbers in
// E.164 or a domestic form are written as they are, and phone_domestic gives the Japanese numbers as
// dialled in Japan.
func TestMarketingCSVNeutralisesFormulas(t *testing.T) {
	m := newMarketingAPI(t)
	hostile := []string{`=HYPERLINK("http://x","click")`, "=1+2", "+SUM(1,1)", "+1+1", "-2+3", "-2", "@cmd", "@SUM(A1)",
		"\tTAB", "\t=1+1", "\rCR", "+81-90-1234-5678", "+81 90 1234 5678", "+", "+0123456789", "+1234"}
	for i, v := range hostile {
		m.record(t, fmt.Sprint("h", i), consent.Record{Channels: flows.ChanPhone, Name: v, Customer: v, Phone: v})
	}
	plain := []string{"普通の名前", `quote"inside`, "Taro Yamada", "a=b", "C-10234"}
	for i, v := range plain {
		m.record(t, fmt.Sprint("p", i), consent.Record{Channels: flows.ChanPhone, Name: v})
	}
	phones := []struct{ stored, domestic string }{
		{"+819012345678", "090-1234-5678"},
		{"+818012345678", "080-1234-5678"},
		{"+815012345678", "050-1234-5678"},
		{"+81862397675", "086-239-7675"},
		{"+81312345678", "03-1234-5678"},
		{"+81612345678", "06-1234-5678"},
		{"+81120123456", "0120-123-456"},
		{"+81570123456", "0570-123-456"},
		{"+818001234567", "0800-123-4567"},
		{"+14155550123", ""},  // E.164 elsewhere: written as is, no domestic form
		{"090-1234-5678", ""}, // domestic forms (as a record written before numbers were normalised)
		{"09012345678", ""},
		{"(086) 239-7675", ""},
		{"086 239 7675", ""},
	}
	for i, p := range phones {
		m.record(t, fmt.Sprint("n", i), consent.Record{Channels: flows.ChanPhone | flows.ChanMail, Name: "岡山 花子", Phone: p.stored})
	}
	m.record(t, "back-in", consent.Record{Channels: flows.ChanPhone, Action: flows.ConsentOptOut, Subject: "line:X"})
	m.record(t, "back-in2", consent.Record{Channels: flows.ChanPhone, Action: flows.ConsentOptIn, Subject: "line:X", At: time.Now().Add(time.Second)})

	code, body, hdr := m.get(t, "/api/v1/optouts.csv", m.token)
	if code != 200 || hdr.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("%d %v", code, hdr)
	}
	c := parseOptOutCSV(t, body) // every cell formulaSafe
	if len(c.all) != 1+len(hostile)+len(plain)+len(phones) {
		t.Fatalf("%d rows, want the header and %d (the subject who opted back in is not listed)", len(c.all),
			len(hostile)+len(plain)+len(phones))
	}
	if got := strings.Join(c.all[0], ","); got != "subject,name,phone,email,postal_code,customer_number,opted_out,"+
		"stop_phone,stop_mail,stop_email,stop_visit,stop_campaign,stop_survey,stop_line,updated_at,phone_domestic" {
		t.Fatalf("header %s", got)
	}
	for i, v := range hostile {
		subject := fmt.Sprint("line:Uh", i)
		for _, col := range []string{"name", "customer_number", "phone"} {
			if got := c.cell(t, subject, col); got != "'"+v {
				t.Errorf("%s %q written %q, want %q", col, v, got, "'"+v)
			}
		}
		if got := c.cell(t, subject, "phone_domestic"); got != "" {
			t.Errorf("phone_domestic of %q: %q", v, got)
		}
	}
	for i, v := range plain {
		if got := c.cell(t, fmt.Sprint("line:Up", i), "name"); got != v {
			t.Errorf("name %q written %q", v, got)
		}
	}
	for i, p := range phones {
		subject := fmt.Sprint("line:Un", i)
		if got := c.cell(t, subject, "phone"); got != p.stored {
			t.Errorf("phone %q written %q, want it as it is", p.stored, got)
		}
		if got := c.cell(t, subject, "phone_domestic"); got != p.domestic {
			t.Errorf("phone_domestic of %q: %q, want %q", p.stored, got, p.domestic)
		}
	}
	if got := c.cell(t, "line:Un0", "opted_out"); got != "phone mail" ||
		c.cell(t, "line:Un0", "stop_phone") == "" || c.cell(t, "line:Un0", "stop_email") != "" {
		t.Fatalf("channel columns %v", c.rows["line:Un0"])
	}
}

// TestMarketingCSVInJapanTime: the CSV's times are Japan time with the offset written (RFC 3339,
// +09:00), and its file name is dated by the day in Japan; the JSON feed keeps RFC 3339 in UTC.
func TestMarketingCSVInJapanTime(t *testing.T) {
	var clock atomic.Int64
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	clock.Store(at("2026-12-04T16:30:00Z").UnixNano())
	m := newMarketingAPIAt(t, func() time.Time { return time.Unix(0, clock.Load()) })
	m.record(t, "late", consent.Record{Channels: flows.ChanMail, Phone: "+819012345678", At: at("2026-12-04T16:30:00Z")})
	m.record(t, "early", consent.Record{Channels: flows.ChanEmail, At: at("2026-12-04T14:59:59Z")})

	_, body, hdr := m.get(t, "/api/v1/optouts.csv", m.token)
	if got := hdr.Get("Content-Disposition"); got != `attachment; filename="optouts-20261205.csv"` {
		t.Errorf("downloaded at 2026-12-04T16:30Z (01:30 on the 5th in Japan): %s", got)
	}
	c := parseOptOutCSV(t, body)
	if got := c.cell(t, "line:Ulate", "stop_mail"); got != "2026-12-05T01:30:00+09:00" {
		t.Errorf("opt-out at 2026-12-04T16:30Z written %q, want 2026-12-05T01:30:00+09:00", got)
	}
	if got := c.cell(t, "line:Uearly", "stop_email"); got != "2026-12-04T23:59:59+09:00" {
		t.Errorf("opt-out at 2026-12-04T14:59:59Z written %q", got)
	}
	upd := c.cell(t, "line:Ulate", "updated_at")
	if u, err := time.Parse(time.RFC3339, upd); err != nil || !strings.HasSuffix(upd, "+09:00") || time.Since(u) > time.Minute {
		t.Errorf("updated_at %q (%v): want the time it was recorded, in Japan time", upd, err)
	}

	clock.Store(at("2026-12-04T14:59:59Z").UnixNano()) // 23:59:59 in Japan
	if _, _, hdr := m.get(t, "/api/v1/optouts.csv", m.token); hdr.Get("Content-Disposition") != `attachment; filename="optouts-20261204.csv"` {
		t.Errorf("downloaded at 2026-12-04T14:59:59Z: %s", hdr.Get("Content-Disposition"))
	}

	// The API's JSON is unchanged: RFC 3339 in UTC.
	_, body, _ = m.get(t, "/api/v1/optouts", m.token)
	var feed struct {
		Items []struct {
			ID         string `json:"id"`
			OccurredAt string `json:"occurred_at"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &feed); err != nil || len(feed.Items) != 2 || feed.Items[0].OccurredAt != "2026-12-04T16:30:00Z" {
		t.Errorf("feed %s", body)
	}
	_, body, _ = m.get(t, "/api/v1/optouts/check?phone=09012345678", m.token)
	if !strings.Contains(string(body), `"opted_out_at":"2026-12-04T16:30:00Z"`) {
		t.Errorf("check %s", body)
	}
}
