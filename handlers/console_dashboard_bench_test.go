package handlers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
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

// BenchmarkDashboard measures the dashboard on a store of its own embedded engine (as the server runs
// without MONGODB_URI) holding a year of a busy desk: 6,000 questions, 700 escalations, 1,200 consent
// records and 300 requests. Each period is measured uncached (reading the records, computing, drawing
// the page) and cached.
//
//	go test ./handlers/ -run '^$' -bench Dashboard -benchtime 5x
func BenchmarkDashboard(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: b.TempDir(), Log: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	seedBusyYear(b, st)
	dash := storeDashboard(b, st)
	con := &handlers.Console{Log: quietLog(), HashCost: 4, Dashboard: dash}
	con.UseBackend(st)
	srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{Console: con}))
	defer srv.Close()
	hash, _ := account.HashPassword(testPassword, 4)
	if err := st.AddStaff(ctx, account.Staff{Email: "admin@x.example", Role: account.RoleAdmin, Hash: hash, CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	admin := loginAt(b, srv.URL, "admin@x.example")

	for _, by := range []string{"day", "week", "month"} {
		b.Run(by+"/uncached", func(b *testing.B) {
			dash.TTL = -1
			for b.Loop() {
				if code, _ := admin.get("/console/dashboard?by=" + by); code != 200 {
					b.Fatalf("dashboard: %d", code)
				}
			}
		})
		b.Run(by+"/records", func(b *testing.B) {
			w := insight.NewWindow(insight.Period(by), dashNow, jstLoc, 0)
			for b.Loop() {
				if _, err := dash.Source.DashboardRecords(ctx, w.From(), w.To()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(by+"/cached", func(b *testing.B) {
			dash.TTL = time.Hour
			for b.Loop() {
				if code, _ := admin.get("/console/dashboard?by=" + by); code != 200 {
					b.Fatalf("dashboard: %d", code)
				}
			}
		})
	}
}

// seedBusyYear stores a year of records up to dashNow, spread at random (the same every run).
func seedBusyYear(b *testing.B, st *store.Store) {
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 2))
	start := dashNow.AddDate(-1, 0, 0)
	span := dashNow.Sub(start)
	at := func() time.Time { return start.Add(time.Duration(rnd.Int64N(int64(span)))).Truncate(time.Millisecond) }
	intents := []string{"faq.1", "faq.2", "faq.5", "faq.5", "faq.13", "optout", "disclosure", "complaint", "human", "menu", "none", "none"}
	type q struct {
		at     time.Time
		intent string
		fb     string
	}
	qs := make([]q, 6000)
	for i := range qs {
		qs[i] = q{at(), intents[rnd.IntN(len(intents))], []string{"", "", insight.FeedbackHelped, insight.FeedbackNotHelped}[rnd.IntN(4)]}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < len(qs); i += 16 {
				x := qs[i]
				ev := fmt.Sprintf("ev%05d", i)
				if err := st.RecordQuestion(ctx, insight.Question{Key: insight.QuestionKey(x.at, ev), EventID: ev, UserID: "U1", At: x.at,
					Lang: "ja", Text: "質問", Intent: x.intent, Topic: "5.id", Feedback: x.fb, Answer: "x"}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	for i := range 700 {
		created := at()
		e := bot.Escalation{ID: fmt.Sprintf("E%04d", i), UserID: "U", Reason: []string{"complaint", "human", "misses"}[i%3],
			Status: bot.StatusClosed, CreatedAt: created, ClaimedAt: created.Add(time.Duration(rnd.IntN(300)) * time.Minute),
			Rating: []string{"", "good", "ok", "bad"}[i%4], Version: 1}
		e.ClosedAt = e.ClaimedAt.Add(time.Duration(rnd.IntN(600)) * time.Minute)
		if i%50 == 0 {
			e.Status, e.ClaimedAt, e.ClosedAt = bot.StatusQueued, time.Time{}, time.Time{}
		}
		if err := st.CreateEscalation(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1200 {
		a := at()
		if err := st.InsertConsent(ctx, consent.Record{ID: fmt.Sprintf("c%d", i), Seq: int64(i + 1), Subject: consent.LINESubject(fmt.Sprintf("U%d", i)),
			Action: []flows.ConsentAction{flows.ConsentOptOut, flows.ConsentOptIn}[i%2], Channels: flows.Channels(1 + rnd.IntN(127)),
			Source: flows.SourceChat, Reference: "R", At: a, RecordedAt: a}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 300 {
		rcv := at()
		st0 := flows.StatusList()[rnd.IntN(8)]
		if err := st.InsertRequest(ctx, request.Request{ID: fmt.Sprintf("R-%s-%04d", rcv.Format("20060102"), i), UserID: fmt.Sprintf("U%d", i),
			Draft: "d", Kinds: flows.RequestKind(1 << rnd.IntN(9)), Status: st0, ReceivedAt: rcv, DueAt: rcv.AddDate(0, 0, 14), UpdatedAt: rcv,
			History: []request.Change{{What: request.ChangeCreated, At: rcv}}, Version: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
