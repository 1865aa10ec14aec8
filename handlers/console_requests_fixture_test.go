package handlers_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// The request service is what the console's request pages call.
var _ handlers.RequestDesk = (*request.Service)(nil)

// rqChats is the escalation manager as the chat page sees it: one chat of a customer with an open
// request (E1) and one of a customer without (E2).
type rqChats struct{ esc map[string]bot.Escalation }

func (c rqChats) Queue() []bot.Escalation { return []bot.Escalation{c.esc["E1"], c.esc["E2"]} }
func (c rqChats) Get(_ context.Context, id string) (bot.Escalation, error) {
	if e, ok := c.esc[id]; ok {
		return e, nil
	}
	return bot.Escalation{}, bot.ErrNotFound
}
func (rqChats) Claim(context.Context, string, bot.Actor) (bot.Escalation, error) {
	return bot.Escalation{}, bot.ErrNotAllowed
}
func (rqChats) Reply(context.Context, string, bot.Actor, string, string) error {
	return bot.ErrNotAllowed
}
func (rqChats) Note(context.Context, string, bot.Actor, string, string) error {
	return bot.ErrNotAllowed
}
func (rqChats) HandBack(context.Context, string, bot.Actor) (bot.Escalation, error) {
	return bot.Escalation{}, bot.ErrNotAllowed
}
func (rqChats) Close(context.Context, string, bot.Actor, string, bool) (bot.Escalation, error) {
	return bot.Escalation{}, bot.ErrNotAllowed
}
func (rqChats) MarkRead(context.Context, string) error { return nil }

type rqLive struct{}

func (rqLive) Subscribe() (<-chan bot.Notice, func()) { return make(chan bot.Notice), func() {} }

// rqFixture is the console with a real request service over in-memory doubles (requesttest), seeded
// with requests in several statuses, and an account of every role.
type rqFixture struct {
	*consoleHarness
	svc   *requesttest.Desk // the request service, with its doubles
	now   time.Time
	refs  map[string]string // seed name → reference
	png   []byte            // the stored identity document
	docID string
}

var rqTokyo, _ = time.LoadLocation("Asia/Tokyo")

// rqSeed is a request of the fixture, its due date in days from now.
type rqSeed struct {
	key      string
	status   flows.RequestStatus
	kinds    flows.RequestKind
	req      flows.Requester
	delivery flows.DeliveryMethod
	lang     flows.Lang
	due      int
	name     string
}

var rqSeeds = []rqSeed{
	{"fresh", flows.StatusReceived, flows.KindDisclosure | flows.KindPurposeNotice, flows.RequesterSelf, flows.DeliveryElectronic, flows.Ja, 13, "山田 花子"},
	{"docs", flows.StatusDocumentsNeeded, flows.KindCorrection, flows.RequesterAgent, flows.DeliveryNone, flows.Ja, 2, "佐藤 一郎"},
	{"late", flows.StatusInProgress, flows.KindDeletion | flows.KindErasure, flows.RequesterSelf, flows.DeliveryNone, flows.En, -3, "John Smith"},
	{"post", flows.StatusVerified, flows.KindDisclosure, flows.RequesterLegal, flows.DeliveryPost, flows.En, 10, "Mary Jones"},
	{"done", flows.StatusCompleted, flows.KindDisclosure, flows.RequesterSelf, flows.DeliveryElectronic, flows.Ja, 5, "鈴木 次郎"},
	{"refused", flows.StatusRefused, flows.KindSuspension, flows.RequesterSelf, flows.DeliveryNone, flows.Ja, -10, "田中 三郎"},
	{"fix", flows.StatusInProgress, flows.KindCorrection | flows.KindAddition, flows.RequesterSelf, flows.DeliveryNone, flows.Ja, 9, "高橋 四郎"},
}

// rqUser is the LINE user of a seed.
func rqUser(key string) string { return "U" + fmt.Sprintf("%032x", sha256.Sum256([]byte(key)))[:32] }

func newRQFixture(t *testing.T, seeds []rqSeed) *rqFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().In(rqTokyo).Truncate(time.Second)
	f := &rqFixture{now: now, refs: map[string]string{}}
	opts := []requesttest.Option{requesttest.At(now)}
	for i, s := range seeds {
		ref := request.Reference(now, i+1)
		f.refs[s.key] = ref
		received := now.Add(-24 * time.Hour)
		due := now.AddDate(0, 0, s.due)
		if s.due > 0 {
			received = due.AddDate(0, 0, -14)
		}
		r := request.Request{ID: ref, UserID: rqUser(s.key), Draft: "d-" + s.key, Kinds: s.kinds, Requester: s.req,
			Name: s.name, Address: "岡山県岡山市北区今1-2-3", Phone: "+81901234" + fmt.Sprintf("%04d", i), DocsBy: flows.DocsChat,
			Delivery: s.delivery, Lang: s.lang, WordingID: "request.confirm", WordingData: map[string]string{"kinds": "開示"},
			Status: s.status, ReceivedAt: received, DueAt: due}
		if s.req == flows.RequesterAgent {
			r.RepName = "代理 太郎"
		}
		if s.kinds&flows.KindCorrection != 0 {
			r.Correction = "住所が古いままです"
		}
		if s.key == "done" {
			r.Package = &request.Package{LinkHash: strings.Repeat("ab", 32), ExpiresAt: now.AddDate(0, 0, 14)}
		}
		opts = append(opts, requesttest.Seed(r))
	}
	if _, ok := f.refs["fresh"]; ok {
		f.png = rqPNG(t)
		f.docID = "ev1.abc123.0"
		user, draft := rqUser("fresh"), "d-fresh"
		opts = append(opts, requesttest.SealedDocument(request.Document{ID: f.docID, UserID: user, Draft: draft,
			MessageID: "m1", Seq: 1, ContentType: "image/png", CreatedAt: now.Add(-23 * time.Hour)}, f.png),
			requesttest.Documents(request.Document{ID: "ev2.abc123.0", UserID: user, Draft: draft, MessageID: "m2",
				Seq: 2, Status: request.DocRejected, Problem: flows.DocNotImage, CreatedAt: now.Add(-22 * time.Hour)}))
	}
	f.svc = requesttest.NewDesk(t, request.Config{Location: rqTokyo, Log: quietLog()}, opts...)
	// What the desk holds about every customer: a short chat.
	for _, s := range seeds {
		f.svc.Holdings.Set(rqUser(s.key), request.CustomerData{
			Profile: request.Profile{Language: "ja", FirstSeen: now.Add(-48 * time.Hour)},
			Transcript: []request.TranscriptLine{{At: now.Add(-time.Hour), Role: "customer", Kind: "text", Text: "自分の情報を開示してください"},
				{At: now.Add(-time.Hour), Role: "bot", Kind: "text", Text: "承知しました。"}},
			Consents:    []request.ConsentRecord{{At: now.Add(-2 * time.Hour), Action: "optout", Channels: []string{"phone"}, Source: "line_chat", Reference: "C-1"}},
			Escalations: []request.EscalationRecord{{ID: "E9", Reason: "complaint", Category: "data", Status: "closed", CreatedAt: now.Add(-3 * time.Hour)}},
		})
	}

	st, err := store.Open(ctx, store.Config{URI: engineURI, Database: fmt.Sprintf("rq%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1)), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	chats := rqChats{esc: map[string]bot.Escalation{
		"E1": {ID: "E1", UserID: rqUser("fresh"), Name: "山田", Status: bot.StatusQueued, Reason: "human", Priority: "normal", Lang: flows.Ja, CreatedAt: now},
		"E2": {ID: "E2", UserID: "Unobody0000000000000000000000000", Name: "他人", Status: bot.StatusQueued, Reason: "human", Priority: "normal", Lang: flows.Ja, CreatedAt: now},
	}}
	if err := st.CreateEscalation(ctx, chats.esc["E1"]); err != nil {
		t.Fatal(err)
	}
	con := (&handlers.Console{Chats: chats, Live: rqLive{}, Requests: f.svc.Service, Log: quietLog(), HashCost: 4,
		Now: func() time.Time { return now }}).UseBackend(st)
	srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{Console: con}))
	t.Cleanup(func() {
		srv.Close()
		st.Close(context.Background())
	})
	f.consoleHarness = &consoleHarness{harness: &harness{t: t, st: st, bot: srv}, console: con}
	f.addStaff("admin@x.example", "管理者", "admin")
	f.addStaff("privacy@x.example", "保護管理者", "privacy")
	f.addStaffLang("privacy-en@x.example", "Privacy", "privacy", "en")
	f.addStaff("agent@x.example", "担当", "agent")
	f.addStaff("mkt@x.example", "マーケ", "marketing")
	return f
}

// rqPNG is a small PNG image (an identity document as far as the tests go).
func rqPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 3))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// audits returns the audit log's entries of an action, newest first.
func (f *rqFixture) audits(action string) []string {
	f.t.Helper()
	log, err := f.st.AuditLog(context.Background(), 200)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range log {
		if e.Action == action {
			out = append(out, e.Actor+" "+e.Target+" "+e.Detail)
		}
	}
	return out
}
