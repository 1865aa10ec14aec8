package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// The request service is what the requests API is written against.
var _ handlers.RequestsAPIService = (*request.Service)(nil)

// flakyTokens is the store's token verifier that can be made to fail (a store that does not answer).
type flakyTokens struct {
	*store.Tokens
	down atomic.Bool
}

func (f *flakyTokens) Verify(ctx context.Context, token string) (account.APIToken, error) {
	if f.down.Load() {
		return account.APIToken{}, errors.New("store down")
	}
	return f.Tokens.Verify(ctx, token)
}

// fakeDeliveries are the marketing webhook's deliveries: one of each state.
type fakeDeliveries struct{ down atomic.Bool }

func (f *fakeDeliveries) Pending(string) []outbox.Delivery {
	return []outbox.Delivery{{Message: outbox.Message{Key: "ev1/0", Payload: []byte(`{"seq":3}`),
		CreatedAt: seedNow.Add(-time.Hour)}, State: outbox.Pending, Attempts: 2, LastStatus: 503,
		LastError: "HTTP 503", NextAttempt: seedNow.Add(time.Minute)}}
}

func (f *fakeDeliveries) Delivered(string) []outbox.Delivery {
	return []outbox.Delivery{{Message: outbox.Message{Key: "ev0/0", Payload: []byte(`{"seq":2}`),
		CreatedAt: seedNow.Add(-2 * time.Hour)}, State: outbox.Delivered, Attempts: 1, LastStatus: 200,
		DoneAt: seedNow.Add(-2 * time.Hour)}}
}

func (f *fakeDeliveries) Failed(context.Context, string) ([]outbox.Delivery, error) {
	if f.down.Load() {
		return nil, errors.New("store down")
	}
	return []outbox.Delivery{{Message: outbox.Message{Key: "ev9/0", Payload: []byte(`{"seq":1}`),
		CreatedAt: seedNow.Add(-48 * time.Hour)}, State: outbox.Failed, Attempts: 9, LastStatus: 410,
		LastError: "HTTP 410", DoneAt: seedNow.Add(-47 * time.Hour)}}, nil
}

// seedNow is the desk's clock in these tests: 2026-12-04 12:00 in Tokyo.
var seedNow = time.Date(2026, 12, 4, 12, 0, 0, 0, requesttest.Tokyo)

// seed are the requests the API tests start with, oldest first.
var seed = []struct {
	day, n    int // received on 2026-12-<day>, the day's number n
	hour      int // received at this hour (JST)
	user      string
	kinds     flows.RequestKind
	requester flows.Requester
	status    flows.RequestStatus
	delivery  flows.DeliveryMethod
	lang      flows.Lang
	docs      int // identity documents stored
	updated   time.Duration
}{
	{1, 1, 9, "U1", flows.KindDisclosure, flows.RequesterSelf, flows.StatusReceived, flows.DeliveryElectronic, flows.Ja, 2, 0},
	{1, 2, 10, "U2", flows.KindCorrection, flows.RequesterAgent, flows.StatusDocumentsNeeded, flows.DeliveryNone, flows.En, 0, 1},
	{2, 1, 9, "U3", flows.KindDeletion | flows.KindErasure, flows.RequesterSelf, flows.StatusVerified, flows.DeliveryNone, flows.Ja, 1, 26},
	{2, 2, 11, "U4", flows.KindDisclosure | flows.KindThirdPartyRecords, flows.RequesterLegal, flows.StatusInProgress, flows.DeliveryElectronic, flows.Ja, 1, 48},
	{3, 1, 9, "U5", flows.KindSuspension, flows.RequesterSelf, flows.StatusCompleted, flows.DeliveryNone, flows.En, 1, 50},
	{3, 2, 15, "U6", flows.KindPurposeNotice, flows.RequesterSelf, flows.StatusInProgress, flows.DeliveryPost, flows.Ja, 1, 51},
	{4, 1, 8, "U7", flows.KindStopThirdParty, flows.RequesterSelf, flows.StatusReceived, flows.DeliveryNone, flows.En, 0, 0},
}

func seedRef(i int) string {
	return request.Reference(time.Date(2026, 12, seed[i].day, 0, 0, 0, 0, time.UTC), seed[i].n)
}

// apiFixture is the API under /api/v1 on a router: the marketing API over a real consent history and
// the requests API over a real request service (over requesttest's doubles), tokens and audit log in
// the real store (the package's embedded engine).
type apiFixture struct {
	router   *gin.Engine
	srv      *httptest.Server
	st       *store.Store
	database string
	tokens   *flakyTokens
	consents *consent.Consents
	svc      *requesttest.Desk // the request service, with its doubles
	hooks    *fakeDeliveries
	optouts  string // a token with the scope optouts
	requests string // a token with the scope requests, named "backoffice"
	both     string // a token with both scopes
	revoked  string // a revoked token with both scopes
	legacy   string // a token stored by an earlier version: scope marketing:read, no list of scopes
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	ctx := context.Background()
	f := &apiFixture{database: fmt.Sprintf("api%d_%d", time.Now().UnixNano()%1e6, dbSeq.Add(1))}
	var err error
	if f.st, err = store.Open(ctx, store.Config{URI: engineURI, Database: f.database, Log: quietLog()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close(context.Background()) })
	if f.consents, err = consent.Open(ctx, f.st, consent.Options{Log: quietLog()}); err != nil {
		t.Fatal(err)
	}
	f.tokens = &flakyTokens{Tokens: store.NewTokens(f.st)}
	for _, tk := range []struct {
		to     *string
		name   string
		scopes []string
	}{{&f.optouts, "crm", []string{account.ScopeOptouts}}, {&f.requests, "backoffice", []string{account.ScopeRequests}},
		{&f.both, "both", []string{"optouts,requests"}}, {&f.revoked, "old", []string{account.ScopeOptouts, account.ScopeRequests}}} {
		if *tk.to, err = f.tokens.Add(ctx, tk.name, tk.scopes...); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.tokens.Revoke(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	f.legacy = f.insertLegacyToken(t, "legacy-crm")

	f.hooks = &fakeDeliveries{}
	opts := []requesttest.Option{requesttest.At(seedNow),
		// A rejected photo does not count.
		requesttest.Documents(request.Document{ID: "U1.bad", UserID: "U1", Draft: "dU1", Seq: 3,
			Status: request.DocRejected, Problem: flows.DocNotImage})}
	for i, s := range seed {
		// Due, by default, at the end of the 14th day after the day of receipt.
		received := time.Date(2026, 12, s.day, s.hour, 0, 0, 0, seedNow.Location())
		r := request.Request{ID: seedRef(i), UserID: s.user, Draft: "d" + s.user, Kinds: s.kinds, Requester: s.requester,
			Name: "山田 花子", Phone: "+819012345678", DocsBy: flows.DocsChat, Delivery: s.delivery, Lang: s.lang,
			WordingID: "request.confirm", Status: s.status, ReceivedAt: received, UpdatedAt: received.Add(s.updated * time.Hour)}
		opts = append(opts, requesttest.Seed(r))
		for n := range s.docs {
			opts = append(opts, requesttest.Documents(request.Document{ID: fmt.Sprintf("%s.%d", r.ID, n), UserID: s.user,
				Draft: r.Draft, Seq: n + 1, Status: request.DocStored, CreatedAt: received}))
		}
	}
	f.svc = requesttest.NewDesk(t, request.Config{Log: quietLog()}, opts...)
	f.router = handlers.NewRouter(quietLog(), handlers.Routes{
		Marketing:   &handlers.Marketing{Tokens: f.tokens, Consents: f.consents, Webhooks: f.hooks},
		RequestsAPI: &handlers.RequestsAPI{Tokens: f.tokens, Service: f.svc.Service, Audit: f.st, Log: quietLog()},
	})
	f.srv = httptest.NewServer(f.router)
	t.Cleanup(f.srv.Close)
	return f
}

// insertLegacyToken stores a token the way versions before scopes did (scope marketing:read, no
// scopes field) and returns it.
func (f *apiFixture) insertLegacyToken(t *testing.T, name string) string {
	t.Helper()
	tok, hash, err := account.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(engineURI))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	if _, err := client.Database(f.database).Collection("api_tokens").InsertOne(context.Background(),
		bson.D{{Key: "_id", Value: hash}, {Key: "name", Value: name}, {Key: "scope", Value: "marketing:read"},
			{Key: "createdAt", Value: time.Now().UTC()}}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request with the token ("" for none) and a body (nil for none).
func (f *apiFixture) do(t *testing.T, method, path, token string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

type requestPage struct {
	Requests []request.View `json:"requests"`
	Next     *string        `json:"next"`
}

func (f *apiFixture) list(t *testing.T, query string) requestPage {
	t.Helper()
	code, body, _ := f.do(t, http.MethodGet, "/api/v1/requests"+query, f.requests, nil)
	if code != http.StatusOK {
		t.Fatalf("GET requests%s: %d %s", query, code, body)
	}
	var p requestPage
	if err := json.Unmarshal(body, &p); err != nil || p.Requests == nil || p.Next == nil {
		t.Fatalf("GET requests%s: %v %s", query, err, body)
	}
	return p
}

func ids(vs []request.View) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

// refs lists the references of seed entries by index.
func refs(is ...int) []string {
	out := make([]string, len(is))
	for i, n := range is {
		out[i] = seedRef(n)
	}
	return out
}

func wantError(t *testing.T, code int, body []byte, wantCode int, wantError string) {
	t.Helper()
	var e struct{ Error, Message string }
	if code != wantCode || json.Unmarshal(body, &e) != nil || e.Error != wantError || e.Message == "" {
		t.Fatalf("got %d %s, want %d with error %q", code, body, wantCode, wantError)
	}
}

func TestRequestsAPIPagesWithCursor(t *testing.T) {
	f := newAPIFixture(t)
	all := refs(6, 5, 4, 3, 2, 1, 0) // newest first
	p := f.list(t, "")
	if !slices.Equal(ids(p.Requests), all) || *p.Next != "" {
		t.Fatalf("one page: %v next %q", ids(p.Requests), *p.Next)
	}
	var got []string
	cursor, pages := "", 0
	for {
		q := "?limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		p := f.list(t, q)
		pages++
		if len(p.Requests) > 3 {
			t.Fatalf("page of %d", len(p.Requests))
		}
		got = append(got, ids(p.Requests)...)
		if *p.Next == "" {
			break
		}
		if *p.Next != p.Requests[len(p.Requests)-1].ID {
			t.Fatalf("next %q is not the page's last request", *p.Next)
		}
		cursor = *p.Next
	}
	if !slices.Equal(got, all) || pages != 3 {
		t.Fatalf("paged %v in %d pages, want %v in 3", got, pages, all)
	}
	// Every field of a request, documents counted (stored ones only).
	v := f.list(t, "?limit=200").Requests[6]
	want := request.View{ID: seedRef(0), LineUserID: "U1", Kinds: []string{"disclosure"}, Requester: "self",
		Status: "received", ReceivedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Add(-9 * time.Hour),
		DueAt: time.Date(2026, 12, 15, 23, 59, 59, 0, seedNow.Location()), Delivery: "electronic", Documents: 2, Language: "ja"}
	want.UpdatedAt = want.ReceivedAt
	if v.ID != want.ID || v.LineUserID != want.LineUserID || !slices.Equal(v.Kinds, want.Kinds) ||
		v.Requester != want.Requester || v.Status != want.Status || !v.ReceivedAt.Equal(want.ReceivedAt) ||
		!v.DueAt.Equal(want.DueAt) || !v.UpdatedAt.Equal(want.UpdatedAt) || v.Delivery != want.Delivery ||
		v.Documents != want.Documents || v.Language != want.Language {
		t.Fatalf("view %+v\nwant %+v", v, want)
	}
	// The cursor with a filter pages the filtered list.
	p = f.list(t, "?status=received,in_progress&limit=2")
	if !slices.Equal(ids(p.Requests), refs(6, 5)) || *p.Next != seedRef(5) {
		t.Fatalf("filtered first page %v next %q", ids(p.Requests), *p.Next)
	}
	p = f.list(t, "?status=received,in_progress&limit=2&cursor="+*p.Next)
	if !slices.Equal(ids(p.Requests), refs(3, 0)) || *p.Next != "" {
		t.Fatalf("filtered second page %v next %q", ids(p.Requests), *p.Next)
	}
}

// TestRequestsAPICursorOfAMovedRequest: the request a cursor names left the status filter between two
// pages (staff moved it on); the next page still holds every other request once.
func TestRequestsAPICursorOfAMovedRequest(t *testing.T) {
	f := newAPIFixture(t)
	p := f.list(t, "?status=received,in_progress&limit=1")
	if !slices.Equal(ids(p.Requests), refs(6)) || *p.Next != seedRef(6) {
		t.Fatalf("first page %v next %q", ids(p.Requests), *p.Next)
	}
	if code, body := f.transition(t, seedRef(6), map[string]string{"to": "verified"}); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	var got []string
	for cursor := *p.Next; cursor != ""; {
		p = f.list(t, "?status=received,in_progress&limit=2&cursor="+cursor)
		got, cursor = append(got, ids(p.Requests)...), *p.Next
	}
	if want := refs(5, 3, 0); !slices.Equal(got, want) {
		t.Fatalf("after the moved cursor: %v, want %v", got, want)
	}
	// The same with a page size that ends exactly at the last request, and with one that holds all.
	for _, limit := range []string{"3", "200"} {
		p = f.list(t, "?status=received,in_progress&limit="+limit+"&cursor="+seedRef(6))
		if !slices.Equal(ids(p.Requests), refs(5, 3, 0)) || *p.Next != "" {
			t.Fatalf("limit %s: %v next %q", limit, ids(p.Requests), *p.Next)
		}
	}
	p = f.list(t, "?status=received&limit=5&cursor="+seedRef(6))
	if !slices.Equal(ids(p.Requests), refs(0)) || *p.Next != "" {
		t.Fatalf("received after the moved cursor: %v next %q", ids(p.Requests), *p.Next)
	}
}

func TestRequestsAPIFilters(t *testing.T) {
	f := newAPIFixture(t)
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"?status=received", refs(6, 0)},
		{"?status=received&status=verified", refs(6, 2, 0)},
		{"?status=received,verified", refs(6, 2, 0)},
		{"?status=received,%20verified&status=received", refs(6, 2, 0)},
		{"?status=withdrawn", []string{}},
		{"?kind=disclosure", refs(3, 0)},
		{"?kind=erasure", refs(2)},
		{"?kind=disclosure,purpose_notice&kind=suspension", refs(5, 4, 3, 0)},
		{"?kind=disclosure&status=in_progress", refs(3)},
		// updated_since: updated at or after (U4 at 12-02 11:00 JST + 48 h = 12-04 11:00 JST).
		{"?updated_since=2026-12-04T11:00:00%2B09:00", refs(5, 4, 3)},
		{"?updated_since=2026-12-04T02:00:01Z", refs(5, 4)},
		{"?updated_since=2026-12-04T02:00:00.5Z&status=in_progress", refs(5)},
		{"?updated_since=2027-01-01T00:00:00Z", []string{}},
	} {
		p := f.list(t, c.query)
		if !slices.Equal(ids(p.Requests), c.want) || *p.Next != "" {
			t.Errorf("%s: %v next %q, want %v", c.query, ids(p.Requests), *p.Next, c.want)
		}
	}
}

func TestRequestsAPIBadQueries(t *testing.T) {
	f := newAPIFixture(t)
	for _, c := range []struct{ query, code string }{
		{"?status=open", "bad_status"},
		{"?status=received,nope", "bad_status"},
		{"?kind=everything", "bad_kind"},
		{"?updated_since=yesterday", "bad_updated_since"},
		{"?updated_since=2026-12-04", "bad_updated_since"},
		{"?updated_since=2026-12-04T11:00:00+09:00", "bad_updated_since"}, // the + arrives as a space
		{"?limit=0", "bad_limit"},
		{"?limit=201", "bad_limit"},
		{"?limit=ten", "bad_limit"},
		{"?cursor=R-19990101-0001", "bad_cursor"},
	} {
		code, body, _ := f.do(t, http.MethodGet, "/api/v1/requests"+c.query, f.requests, nil)
		wantError(t, code, body, http.StatusBadRequest, c.code)
	}
	// The limits themselves are fine.
	if p := f.list(t, "?limit=1"); len(p.Requests) != 1 || *p.Next != seedRef(6) {
		t.Fatalf("limit=1: %v %q", ids(p.Requests), *p.Next)
	}
	if p := f.list(t, "?limit=200"); len(p.Requests) != len(seed) {
		t.Fatalf("limit=200: %v", ids(p.Requests))
	}
}

func TestRequestsAPIGet(t *testing.T) {
	f := newAPIFixture(t)
	code, body, hdr := f.do(t, http.MethodGet, "/api/v1/requests/"+seedRef(3), f.requests, nil)
	var v request.View
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil || v.ID != seedRef(3) ||
		!slices.Equal(v.Kinds, []string{"disclosure", "third_party_records"}) || v.Requester != "legal_representative" ||
		v.Documents != 1 || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s %v", code, body, hdr)
	}
	code, body, _ = f.do(t, http.MethodGet, "/api/v1/requests/R-20991231-0001", f.requests, nil)
	wantError(t, code, body, http.StatusNotFound, "not_found")
	// The store not answering is a 503, never a view with a wrong count.
	f.svc.Store.SetFail(errors.New("store down"))
	code, body, _ = f.do(t, http.MethodGet, "/api/v1/requests/"+seedRef(3), f.requests, nil)
	wantError(t, code, body, http.StatusServiceUnavailable, "store_unavailable")
	code, body, _ = f.do(t, http.MethodGet, "/api/v1/requests", f.requests, nil)
	wantError(t, code, body, http.StatusServiceUnavailable, "store_unavailable")
}

func (f *apiFixture) transition(t *testing.T, ref string, body any) (int, []byte) {
	t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	code, res, _ := f.do(t, http.MethodPost, "/api/v1/requests/"+ref+"/transition", f.requests, b)
	return code, res
}

// notices returns the customer notices the service raised, oldest first; each must have been raised
// once, and as a request notice.
func (f *apiFixture) notices(t *testing.T) []requesttest.Raised {
	t.Helper()
	ev := f.svc.Raiser.Events()
	if n := f.svc.Raiser.Calls(); n != len(ev) {
		t.Fatalf("%d notices raised in %d calls: one was repeated or not a request notice", len(ev), n)
	}
	return ev
}

func TestRequestsAPITransition(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	ref := seedRef(0) // U1, received, electronic disclosure

	code, body := f.transition(t, ref, map[string]string{"to": "documents_needed", "reason": "運転免許証の裏面",
		"note": "表面のみ受領"})
	var v request.View
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil || v.ID != ref || v.Status != "documents_needed" ||
		!v.UpdatedAt.Equal(seedNow) || v.Documents != 2 {
		t.Fatalf("documents_needed: %d %s", code, body)
	}
	// The customer is told, in the chat, exactly as from the console: an internal event for U1 keyed by
	// the request and the change.
	ev := f.notices(t)
	if len(ev) != 1 || ev[0].UserID != "U1" || ev[0].ID != "req-"+ref+"-2" || ev[0].Notice.What != flows.NoticeStatus ||
		ev[0].Notice.Ref != ref || ev[0].Notice.Status != flows.StatusDocumentsNeeded || ev[0].Notice.Reason != "運転免許証の裏面" {
		t.Fatalf("notices %+v", ev)
	}
	// The change is the API's, named by the token.
	r, err := f.svc.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	last := r.History[len(r.History)-1]
	if last.Actor != (request.Actor{Kind: request.ActorAPI, ID: "backoffice"}) || last.From != flows.StatusReceived ||
		last.To != flows.StatusDocumentsNeeded || last.Note != "表面のみ受領" || r.Missing != "運転免許証の裏面" {
		t.Fatalf("history %+v missing %q", last, r.Missing)
	}
	// Audited like the console's transitions, by "api:<token name>".
	entries, err := f.st.AuditLog(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Actor != "api:backoffice" || entries[0].Action != "request.transition" ||
		entries[0].Target != ref || entries[0].Detail != "from=received to=documents_needed" || entries[0].IP == "" {
		t.Fatalf("audit %+v", entries)
	}

	// On through the lifecycle to completion: the package link reaches the customer.
	for _, to := range []string{"verified", "in_progress", "completed"} {
		if code, body := f.transition(t, ref, map[string]string{"to": to}); code != http.StatusOK ||
			!strings.Contains(string(body), `"status":"`+to+`"`) {
			t.Fatalf("%s: %d %s", to, code, body)
		}
	}
	ev = f.notices(t)
	if len(ev) != 4 || ev[3].Notice.Status != flows.StatusCompleted || !strings.HasPrefix(ev[3].Notice.Link, "https://desk.example/package/") {
		t.Fatalf("notices %+v", ev)
	}
	if entries, _ := f.st.AuditLog(ctx, 10); len(entries) != 4 {
		t.Fatalf("audit %+v", entries)
	}

	// A refusal carries its reason to the customer; the outcome of a completion too.
	code, body = f.transition(t, seedRef(5), map[string]string{"to": "refused", "reason": "業務の適正な実施に著しい支障"})
	if code != http.StatusOK || !strings.Contains(string(body), `"status":"refused"`) {
		t.Fatalf("refused: %d %s", code, body)
	}
	if n := f.notices(t)[4].Notice; n.Status != flows.StatusRefused || n.Reason != "業務の適正な実施に著しい支障" {
		t.Fatalf("refusal notice %+v", n)
	}
}

func TestRequestsAPITransitionErrors(t *testing.T) {
	f := newAPIFixture(t)
	long := strings.Repeat("あ", 2001)
	for _, c := range []struct {
		name   string
		ref    string
		body   any
		status int
		code   string
	}{
		{"final status", seedRef(4), map[string]string{"to": "verified"}, 409, "transition_not_allowed"},
		{"skipping a step", seedRef(0), map[string]string{"to": "completed"}, 409, "transition_not_allowed"},
		{"same status", seedRef(0), map[string]string{"to": "received"}, 409, "transition_not_allowed"},
		{"refusal without reason", seedRef(3), map[string]string{"to": "refused"}, 400, "reason_required"},
		{"rejection with a blank reason", seedRef(0), map[string]string{"to": "rejected", "reason": "  \n "}, 400, "reason_required"},
		{"documents_needed without reason", seedRef(0), map[string]string{"to": "documents_needed"}, 400, "reason_required"},
		{"reason too long", seedRef(0), map[string]string{"to": "rejected", "reason": long}, 400, "too_long"},
		{"note too long", seedRef(0), map[string]string{"to": "verified", "note": long}, 400, "too_long"},
		{"unknown status", seedRef(0), map[string]string{"to": "approved"}, 400, "bad_status"},
		{"no status", seedRef(0), map[string]string{"note": "x"}, 400, "bad_status"},
		{"malformed JSON", seedRef(0), []byte(`{"to": "verified"`), 400, "invalid_json"},
		{"not an object", seedRef(0), []byte(`["verified"]`), 400, "invalid_json"},
		{"empty body", seedRef(0), []byte(``), 400, "invalid_json"},
		{"unknown field", seedRef(0), []byte(`{"to":"rejected","reasons":"typo"}`), 400, "invalid_json"},
		{"two objects", seedRef(0), []byte(`{"to":"verified"}{"to":"rejected"}`), 400, "invalid_json"},
		{"over 64 KiB", seedRef(0), []byte(`{"to":"verified","note":"` + strings.Repeat("a", 64<<10) + `"}`), 413, "body_too_large"},
		{"unknown request", "R-20991231-0001", map[string]string{"to": "verified"}, 404, "not_found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := f.transition(t, c.ref, c.body)
			wantError(t, code, body, c.status, c.code)
		})
	}
	// Someone else changed the request between the read and the write.
	f.svc.Store.SetConflict(true)
	code, body := f.transition(t, seedRef(0), map[string]string{"to": "verified"})
	wantError(t, code, body, http.StatusConflict, "conflict")
	// Nothing of it changed anything or told anyone.
	if ev := f.notices(t); len(ev) != 0 {
		t.Fatalf("notices after refusals: %+v", ev)
	}
	if entries, _ := f.st.AuditLog(context.Background(), 10); len(entries) != 0 {
		t.Fatalf("audit after refusals: %+v", entries)
	}
	for i := range seed {
		if r, _ := f.svc.Get(seedRef(i)); r.Status != seed[i].status || r.Version != 1 {
			t.Fatalf("%s changed: %s v%d", r.ID, r.Status, r.Version)
		}
	}
	// The 409 says what the lifecycle allows.
	_, body = f.transition(t, seedRef(0), map[string]string{"to": "completed"})
	if !strings.Contains(string(body), "verified, documents_needed, rejected, withdrawn") {
		t.Fatalf("409 without the allowed statuses: %s", body)
	}
}

func TestAPIScopes(t *testing.T) {
	f := newAPIFixture(t)
	reqs, opts := "/api/v1/requests", "/api/v1/optouts"
	for _, c := range []struct {
		name, path, token string
		want              int
		code              string
	}{
		{"requests token on requests", reqs, f.requests, 200, ""},
		{"optouts token on requests", reqs, f.optouts, 403, "insufficient_scope"},
		{"legacy token on requests", reqs, f.legacy, 403, "insufficient_scope"},
		{"both on requests", reqs, f.both, 200, ""},
		{"no token on requests", reqs, "", 401, "missing_token"},
		{"unknown token on requests", reqs, "pbm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401, "invalid_token"},
		{"revoked token on requests", reqs, f.revoked, 401, "invalid_token"},
		{"requests token on optouts", opts, f.requests, 403, "insufficient_scope"},
		{"requests token on one request", reqs + "/" + seedRef(0), f.requests, 200, ""},
		{"optouts token on one request", reqs + "/" + seedRef(0), f.optouts, 403, "insufficient_scope"},
		{"optouts token on the CSV", "/api/v1/optouts.csv", f.optouts, 200, ""},
		{"requests token on the CSV", "/api/v1/optouts.csv", f.requests, 403, "insufficient_scope"},
		{"requests token on deliveries", "/api/v1/webhook-deliveries", f.requests, 403, "insufficient_scope"},
		{"optouts token on optouts", opts, f.optouts, 200, ""},
		{"legacy token on optouts", opts, f.legacy, 200, ""},
		{"both on optouts", opts, f.both, 200, ""},
		{"no token on the document", handlers.OpenAPIPath, "", 200, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body, hdr := f.do(t, http.MethodGet, c.path, c.token, nil)
			if c.code != "" {
				wantError(t, code, body, c.want, c.code)
			} else if code != c.want {
				t.Fatalf("%d %s", code, body)
			}
			if code == 403 && !strings.Contains(hdr.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
				t.Fatalf("403 WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
			}
			if code == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	// A transition with a token of the wrong scope changes nothing.
	code, body, _ := f.do(t, http.MethodPost, reqs+"/"+seedRef(0)+"/transition", f.optouts, []byte(`{"to":"verified"}`))
	wantError(t, code, body, http.StatusForbidden, "insufficient_scope")
	if r, _ := f.svc.Get(seedRef(0)); r.Status != flows.StatusReceived || len(f.notices(t)) != 0 {
		t.Fatalf("changed by a 403: %s", r.Status)
	}
	// The store's list shows the legacy token as optouts, the others as made.
	list, err := f.tokens.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tk := range list {
		got[tk.Name] = strings.Join(tk.Granted(), ",")
	}
	want := map[string]string{"crm": "optouts", "backoffice": "requests", "both": "optouts,requests",
		"old": "optouts,requests", "legacy-crm": "optouts"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("scopes %v, want %v", got, want)
	}
	// A token must have a known scope.
	if _, err := f.tokens.Add(context.Background(), "x", "marketing:write"); err == nil {
		t.Fatal("unknown scope accepted")
	}
	if _, err := f.tokens.Add(context.Background(), "y"); err == nil {
		t.Fatal("token without scope accepted")
	}
}
