package handlers_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

var jstLoc = func() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return time.FixedZone("JST", 9*3600)
	}
	return l
}()

// dj is a time in Japan: "2006-01-02 15:04".
func dj(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, jstLoc)
	if err != nil {
		panic(err)
	}
	return t
}

// dashNow is when the dashboard tests look: Tuesday 7 April 2026, noon in Japan.
var dashNow = dj("2026-04-07 12:00")

// dashHoursSpec is the desk's business hours in the dashboard tests.
const dashHoursSpec = "Mon-Fri 09:00-18:00"

// seedDashboard stores the records the dashboard tests count by hand (see each test's comments):
// questions, escalations, consent records and requests around the first week of April 2026.
func seedDashboard(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	q := func(n int, at, intent, topic, fb string) {
		key := insight.QuestionKey(dj(at), fmt.Sprintf("ev%02d", n))
		if err := st.RecordQuestion(ctx, insight.Question{Key: key, EventID: fmt.Sprintf("ev%02d", n), UserID: "Ucust", At: dj(at),
			Lang: "ja", Text: "質問", Intent: intent, Topic: topic, Answer: "x"}); err != nil {
			t.Fatal(err)
		}
		if fb != "" {
			if err := st.SetFeedback(ctx, key, fb, dj(at).Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	q(0, "2026-01-18 23:59", "none", "", "")                           // before the 12 weeks
	q(1, "2026-01-19 00:00", "faq.2", "2.purpose", "")                 // the 12 weeks' first minute
	q(2, "2026-03-24 23:59", "none", "", "")                           // before the 14 days
	q(3, "2026-04-04 23:59", "faq.1", "1.def", insight.FeedbackHelped) // Saturday
	q(4, "2026-04-05 00:00", "faq.5", "5.id", insight.FeedbackHelped)
	q(5, "2026-04-05 09:00", "faq.5", "5.id", insight.FeedbackNotHelped)
	q(6, "2026-04-05 10:00", "none", "", "")
	q(7, "2026-04-05 11:00", "optout", "", "")
	q(8, "2026-04-06 09:00", "faq.13", "13.retention", insight.FeedbackHelped)
	q(9, "2026-04-06 10:00", "complaint", "", "")
	q(10, "2026-04-06 11:00", "none", "", "")
	q(11, "2026-04-06 12:00", "none", "", "")
	q(12, "2026-04-06 13:00", "menu", "", "")
	q(13, "2026-04-06 14:00", "disclosure", "", "")
	q(14, "2026-04-07 09:00", "faq.5", "5.id", "")
	q(15, "2026-04-07 10:00", "human", "", "")

	e := func(id, reason string, status bot.EscalationStatus, created, claimed, closed, rating string) {
		x := bot.Escalation{ID: id, UserID: "U" + id, Lang: flows.Ja, Reason: reason, Priority: "normal", Status: status,
			Rating: rating, CreatedAt: dj(created), Version: 1}
		if claimed != "" {
			x.ClaimedAt, x.Assignee = dj(claimed), "agent@x.example"
		}
		if closed != "" {
			x.ClosedAt = dj(closed)
		}
		if err := st.CreateEscalation(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	e("E0", "human", bot.StatusQueued, "2026-04-01 17:00", "", "", "")
	e("E1", "complaint", bot.StatusClosed, "2026-04-05 20:00", "2026-04-06 09:30", "2026-04-06 10:30", "good")
	e("E2", "human", bot.StatusClosed, "2026-04-06 10:00", "2026-04-06 10:10", "2026-04-06 12:00", "bad")
	e("E3", "misses", bot.StatusAssigned, "2026-04-06 17:00", "2026-04-07 09:20", "", "")
	e("E4", "human", bot.StatusCancelled, "2026-04-06 11:00", "", "2026-04-06 11:05", "")
	e("E5", "complaint", bot.StatusQueued, "2026-04-07 09:00", "", "", "")
	e("E6", "human", bot.StatusClosed, "2026-04-07 08:00", "", "2026-04-07 09:15", "ok")
	e("E7", "staff_test", bot.StatusClosed, "2026-04-06 09:00", "2026-04-06 11:00", "2026-04-06 13:00", "")
	e("E8", "complaint", bot.StatusClosed, "2026-01-10 10:00", "2026-01-13 10:00", "2026-01-13 11:00", "bad") // before the 12 weeks

	seq := int64(0)
	c := func(at string, action flows.ConsentAction, ch flows.Channels) {
		seq++
		if err := st.InsertConsent(ctx, consent.Record{ID: fmt.Sprintf("c%d", seq), Seq: seq, Subject: consent.LINESubject(fmt.Sprintf("U%d", seq)),
			Action: action, Channels: ch, Source: flows.SourceChat, Reference: fmt.Sprintf("REF%d", seq), At: dj(at), RecordedAt: dj(at)}); err != nil {
			t.Fatal(err)
		}
	}
	c("2026-03-01 12:00", flows.ConsentOptOut, flows.ChanEmail) // in the 12 weeks only
	c("2026-04-04 12:00", flows.ConsentOptOut, flows.ChanPhone)
	c("2026-04-05 12:00", flows.ConsentOptOut, flows.ChanPhone|flows.ChanMail)
	c("2026-04-06 12:00", flows.ConsentOptOut, flows.ChanLINE)
	c("2026-04-06 13:00", flows.ConsentOptIn, flows.ChanMail)
	c("2026-04-06 14:00", flows.ConsentOptOut, flows.ChanAll)
	c("2026-04-07 09:00", flows.ConsentOptIn, flows.ChanPhone|flows.ChanLINE)

	r := func(id string, kinds flows.RequestKind, status flows.RequestStatus, received, due string) {
		if err := st.InsertRequest(ctx, request.Request{ID: id, UserID: "U" + id, Draft: "d" + id, Kinds: kinds, Status: status,
			Requester: flows.RequesterSelf, Name: "岡山 花子", Lang: flows.Ja, ReceivedAt: dj(received), DueAt: dj(due), UpdatedAt: dj(received),
			History: []request.Change{{What: request.ChangeCreated, To: status, At: dj(received)}}, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	r("R-20260405-0001", flows.KindDisclosure|flows.KindCorrection, flows.StatusCompleted, "2026-04-05 10:00", "2026-04-19 23:59")
	r("R-20260406-0001", flows.KindDeletion, flows.StatusReceived, "2026-04-06 15:00", "2026-04-09 23:59")
	r("R-20260320-0001", flows.KindDisclosure, flows.StatusInProgress, "2026-03-20 10:00", "2026-04-03 23:59")
	r("R-20260330-0001", flows.KindErasure, flows.StatusDocumentsNeeded, "2026-03-30 10:00", "2026-04-10 23:59")
	r("R-20260331-0001", flows.KindDisclosure, flows.StatusVerified, "2026-03-31 10:00", "2026-04-14 23:59")
	r("R-20260407-0001", flows.KindDisclosure, flows.StatusWithdrawn, "2026-04-07 09:00", "2026-04-21 23:59")
	r("R-20260407-0002", flows.KindPurposeNotice, flows.StatusReceived, "2026-04-07 10:00", "2026-04-07 11:00")
}

// seedEscalation stores a queued escalation with any reason code.
func seedEscalation(t *testing.T, st *store.Store, id, reason string, at time.Time) {
	t.Helper()
	if err := st.CreateEscalation(context.Background(), bot.Escalation{ID: id, UserID: "U" + id, Lang: flows.Ja, Reason: reason,
		Priority: "normal", Status: bot.StatusQueued, CreatedAt: at, Version: 1}); err != nil {
		t.Fatal(err)
	}
}

// storeDashboard is the dashboard reading st as the server does (the store, the consent history and
// the request service opened on it), with the clock at dashNow and the desk's hours.
func storeDashboard(tb testing.TB, st *store.Store) *handlers.Dashboard {
	tb.Helper()
	ctx := context.Background()
	cons, err := consent.Open(ctx, st, consent.Options{Log: quietLog()})
	if err != nil {
		tb.Fatal(err)
	}
	reqs := request.New(request.Config{Store: st, Location: jstLoc, Now: func() time.Time { return dashNow }, Log: quietLog()})
	if err := reqs.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	hours, err := bot.ParseBusinessHours(dashHoursSpec, jstLoc, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &handlers.Dashboard{Source: handlers.DashboardStores{Questions: st, Escalations: st, Consents: cons, Requests: reqs},
		Hours: hours, HoursSpec: dashHoursSpec, Now: func() time.Time { return dashNow }}
}

// newDashboardConsole is the console on a database of its own, seeded by seed (nil: empty), with the
// dashboard reading it as the server does (the store, the consent history and the request service
// opened on it), the clock at dashNow, and an account of each role (admin-en speaks English). tweak
// changes the dashboard before the server starts.
func newDashboardConsole(t *testing.T, seed func(*testing.T, *store.Store), tweak ...func(*handlers.Dashboard)) *consoleHarness {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URI: engineURI, Database: fmt.Sprintf("db%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1)), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if seed != nil {
		seed(t, st)
	}
	dash := storeDashboard(t, st)
	for _, f := range tweak {
		f(dash)
	}
	clk := &testClock{}
	con := &handlers.Console{Log: quietLog(), HashCost: 4, Dashboard: dash, Now: clk.Now}
	con.UseBackend(st)
	srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{Console: con}))
	t.Cleanup(func() {
		srv.Close()
		st.Close(context.Background())
	})
	h := &consoleHarness{harness: &harness{t: t, st: st, bot: srv}, console: con, clock: clk}
	h.addStaff("admin@x.example", "管理者", account.RoleAdmin)
	h.addStaffLang("admin-en@x.example", "Admin", account.RoleAdmin, "en")
	h.addStaff("agent@x.example", "担当", account.RoleAgent)
	h.addStaff("privacy@x.example", "保護管理者", account.RolePrivacy)
	h.addStaff("mkt@x.example", "マーケ", account.RoleMarketing)
	return h
}
