package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// The request service is what the console's request pages call.
var _ handlers.RequestDesk = (*request.Service)(nil)

// rqStore is an in-memory request.Store.
type rqStore struct {
	mu       sync.Mutex
	requests map[string]request.Request
	docs     map[string]request.Document
	files    map[string]request.StoredFile
	numbers  map[string]int
}

func newRQStore() *rqStore {
	return &rqStore{requests: map[string]request.Request{}, docs: map[string]request.Document{},
		files: map[string]request.StoredFile{}, numbers: map[string]int{}}
}

func (s *rqStore) NextRequestNumber(_ context.Context, day string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.numbers[day]++
	return s.numbers[day], nil
}

func (s *rqStore) InsertRequest(_ context.Context, r request.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.requests {
		if x.ID == r.ID || (x.UserID == r.UserID && x.Draft == r.Draft) {
			return bot.ErrDuplicate
		}
	}
	s.requests[r.ID] = r
	return nil
}

func (s *rqStore) UpdateRequest(_ context.Context, r request.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.requests[r.ID]
	if !ok {
		return bot.ErrNotFound
	}
	if cur.Version != r.Version-1 {
		return request.ErrConflict
	}
	s.requests[r.ID] = r
	return nil
}

func (s *rqStore) AllRequests(context.Context) ([]request.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]request.Request, 0, len(s.requests))
	for _, r := range s.requests {
		out = append(out, r)
	}
	return out, nil
}

func (s *rqStore) AddDocument(_ context.Context, d request.Document) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.docs[d.ID]; ok {
		return false, nil
	}
	s.docs[d.ID] = d
	return true, nil
}

func (s *rqStore) SaveDocument(_ context.Context, d request.Document) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[d.ID] = d
	return nil
}

func (s *rqStore) Document(_ context.Context, id string) (request.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[id]
	if !ok {
		return d, bot.ErrNotFound
	}
	return d, nil
}

func (s *rqStore) Documents(_ context.Context, userID, draft string) ([]request.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []request.Document
	for _, d := range s.docs {
		if d.UserID == userID && d.Draft == draft {
			d.Sealed = nil
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b request.Document) int { return a.Seq - b.Seq })
	return out, nil
}

func (s *rqStore) FetchingDocuments(context.Context) ([]request.Document, error) { return nil, nil }

func (s *rqStore) AddFile(_ context.Context, f request.StoredFile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.files[f.ID]; ok {
		return bot.ErrDuplicate
	}
	s.files[f.ID] = f
	return nil
}

func (s *rqStore) PackageFile(_ context.Context, ref, id string) (request.StoredFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	if !ok || f.Request != ref {
		return f, bot.ErrNotFound
	}
	return f, nil
}

func (s *rqStore) get(ref string) request.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[ref]
}

// rqHoldings is what the desk holds about every customer: a short chat.
type rqHoldings struct{ at time.Time }

func (h rqHoldings) CustomerData(_ context.Context, userID string) (request.CustomerData, error) {
	return request.CustomerData{UserID: userID, Profile: request.Profile{Language: "ja", FirstSeen: h.at.Add(-48 * time.Hour)},
		Transcript: []request.TranscriptLine{{At: h.at.Add(-time.Hour), Role: "customer", Kind: "text", Text: "自分の情報を開示してください"},
			{At: h.at.Add(-time.Hour), Role: "bot", Kind: "text", Text: "承知しました。"}},
		Consents:    []request.ConsentRecord{{At: h.at.Add(-2 * time.Hour), Action: "optout", Channels: []string{"phone"}, Source: "line_chat", Reference: "C-1"}},
		Escalations: []request.EscalationRecord{{ID: "E9", Reason: "complaint", Category: "data", Status: "closed", CreatedAt: h.at.Add(-3 * time.Hour)}},
	}, nil
}

func (rqHoldings) EraseCustomer(context.Context, string) (map[string]int64, error) {
	return map[string]int64{"transcript": 2}, nil
}

// rqRaiser records the customer notices the service raises.
type rqRaiser struct {
	mu   sync.Mutex
	data []string
}

func (r *rqRaiser) Raise(_ context.Context, _, _, data string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.data = append(r.data, data)
	return nil
}

func (r *rqRaiser) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.data)
}

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

// rqFixture is the console with a real request service over the in-memory store, seeded with
// requests in several statuses, and an account of every role.
type rqFixture struct {
	*consoleHarness
	svc    *request.Service
	store  *rqStore
	raiser *rqRaiser
	sealer *request.Sealer
	now    time.Time
	refs   map[string]string // seed name → reference
	png    []byte            // the stored identity document
	docID  string
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
	f := &rqFixture{store: newRQStore(), raiser: &rqRaiser{}, now: now, refs: map[string]string{}}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	var err error
	if f.sealer, err = request.NewSealer(key); err != nil {
		t.Fatal(err)
	}
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
			Status: s.status, ReceivedAt: received, DueAt: due, UpdatedAt: received, Version: 1,
			History: []request.Change{{What: request.ChangeCreated, To: flows.StatusReceived, Actor: request.Actor{Kind: request.ActorCustomer}, At: received}}}
		if s.req == flows.RequesterAgent {
			r.RepName = "代理 太郎"
		}
		if s.kinds&flows.KindCorrection != 0 {
			r.Correction = "住所が古いままです"
		}
		if s.key == "done" {
			r.Package = &request.Package{LinkHash: strings.Repeat("ab", 32), ExpiresAt: now.AddDate(0, 0, 14)}
		}
		f.store.requests[ref] = r
	}
	if ref, ok := f.refs["fresh"]; ok {
		f.png = rqPNG(t)
		f.docID = "ev1.abc123.0"
		sealed, err := f.sealer.Seal(f.png, "doc:"+f.docID)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(f.png)
		r := f.store.requests[ref]
		f.store.docs[f.docID] = request.Document{ID: f.docID, UserID: r.UserID, Draft: r.Draft, MessageID: "m1", Seq: 1,
			Status: request.DocStored, ContentType: "image/png", Size: len(f.png), SHA256: hex.EncodeToString(sum[:]),
			Sealed: sealed, KeyID: f.sealer.KeyID(), CreatedAt: now.Add(-23 * time.Hour), StoredAt: now.Add(-23 * time.Hour)}
		f.store.docs["ev2.abc123.0"] = request.Document{ID: "ev2.abc123.0", UserID: r.UserID, Draft: r.Draft, MessageID: "m2",
			Seq: 2, Status: request.DocRejected, Problem: flows.DocNotImage, CreatedAt: now.Add(-22 * time.Hour)}
	}
	f.svc = request.New(request.Config{Store: f.store, Holdings: rqHoldings{at: now}, Sealer: f.sealer, Raiser: f.raiser,
		BaseURL: "https://desk.example", Location: rqTokyo, Now: func() time.Time { return now }, Log: quietLog()})
	if err := f.svc.Open(ctx); err != nil {
		t.Fatal(err)
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
	con := (&handlers.Console{Chats: chats, Live: rqLive{}, Requests: f.svc, Log: quietLog(), HashCost: 4,
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
