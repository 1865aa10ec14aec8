// Package requesttest provides in-memory doubles of what package request needs (its Store, the
// customer's Holdings, the Raiser, the Outbox, the audit log and a clock) and a Desk, a ready
// Service over them, for the tests of the request service, the console and the APIs.
//
// A desk starts as a restarted one would: with the requests and documents its options store (Seed,
// Documents, SealedDocument), on a clock that stands still until the test moves it (At, Clock.Add).
package requesttest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// Desk is a Service over in-memory doubles, with handles on each.
type Desk struct {
	*request.Service
	Store    *Store
	Holdings *Holdings
	Raiser   *Raiser
	Outbox   *Outbox
	Audit    *Auditor
	Clock    *Clock
	Sealer   *request.Sealer
}

// Tokyo is the desk's time zone in tests.
var Tokyo = time.FixedZone("JST", 9*3600)

// defaultStart is when a desk's clock starts unless At says otherwise.
var defaultStart = time.Date(2026, 12, 4, 10, 0, 0, 0, Tokyo)

// An Option sets a desk up before its service opens. The order of the options does not matter.
type Option func(*setup)

type setup struct {
	start    time.Time
	requests []request.Request
	docs     []request.Document
	sealed   []sealedDoc
}

type sealedDoc struct {
	doc     request.Document
	content []byte
}

// At starts the desk's clock at t.
func At(t time.Time) Option { return func(s *setup) { s.start = t } }

// Seed stores requests as an earlier run of the desk left them, each in the status it names. Their
// zero fields are filled in: the draft key "d-<ID>", the customer as requester, Japanese, the
// summary's wording, received now (the desk's clock), due at the end of that day (in the desk's
// time zone) plus its DueDays, updated when received, status received, version 1, and a history of
// the customer's submission. The ID is required.
func Seed(rs ...request.Request) Option {
	return func(s *setup) { s.requests = append(s.requests, rs...) }
}

// Documents stores identity documents as they are (metadata only, unless Sealed is set).
func Documents(ds ...request.Document) Option {
	return func(s *setup) { s.docs = append(s.docs, ds...) }
}

// SealedDocument stores an identity document whose content was fetched and stored: content sealed
// under the desk's key for doc.ID, with its size and digest; an empty Status becomes stored, an empty
// ContentType is sniffed and a zero StoredAt is CreatedAt.
func SealedDocument(doc request.Document, content []byte) Option {
	return func(s *setup) { s.sealed = append(s.sealed, sealedDoc{doc, content}) }
}

// NewDesk returns an opened Service over fresh doubles; cfg's zero fields are filled in (the clock
// starts at 2026-12-04 10:00 JST unless At says otherwise, the time zone is Tokyo, the base URL
// https://desk.example), and opts set up what the desk finds stored.
func NewDesk(t testing.TB, cfg request.Config, opts ...Option) *Desk {
	t.Helper()
	set := setup{start: defaultStart}
	for _, o := range opts {
		o(&set)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	sealer, err := request.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStore()
	d := &Desk{Store: st, Holdings: &Holdings{Data: map[string]request.CustomerData{}}, Raiser: &Raiser{sig: st.sig},
		Outbox: &Outbox{sig: st.sig}, Audit: &Auditor{sig: st.sig}, Clock: NewClock(set.start), Sealer: sealer}
	d.Service = request.New(d.config(cfg))
	d.store(t, set)
	if err := d.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// config fills in cfg's zero fields with the desk's doubles and defaults.
func (d *Desk) config(cfg request.Config) request.Config {
	cfg.Store, cfg.Holdings, cfg.Raiser, cfg.Sealer = d.Store, d.Holdings, d.Raiser, d.Sealer
	if cfg.Outbox == nil {
		cfg.Outbox = d.Outbox
	}
	if cfg.Audit == nil {
		cfg.Audit = d.Audit
	}
	if cfg.Now == nil {
		cfg.Now = d.Clock.Now
	}
	if cfg.Location == nil {
		cfg.Location = Tokyo
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://desk.example"
	}
	if cfg.AlertTo == nil {
		cfg.AlertTo = []string{"staff_webhook"}
	}
	if cfg.BackOfficeTo == "" {
		cfg.BackOfficeTo = "request_webhook"
	}
	return cfg
}

// Twin returns another Service on the desk's doubles, opened now: a second instance of the bot on the
// same store, with the same clock, key, raiser, outbox and audit log. cfg's zero fields are filled
// in as NewDesk does. The twin's background work (Run) is the caller's to start.
func (d *Desk) Twin(t testing.TB, cfg request.Config) *Desk {
	t.Helper()
	twin := *d
	twin.Service = request.New(d.config(cfg))
	if err := twin.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &twin
}

// store writes what the options seed, before the service reads the store.
func (d *Desk) store(t testing.TB, set setup) {
	t.Helper()
	ctx := context.Background()
	for _, r := range set.requests {
		if err := d.Store.InsertRequest(ctx, d.seeded(t, r)); err != nil {
			t.Fatalf("seed %s: %v", r.ID, err)
		}
	}
	for _, sd := range set.sealed {
		doc, err := d.seal(sd.doc, sd.content)
		if err != nil {
			t.Fatal(err)
		}
		set.docs = append(set.docs, doc)
	}
	for _, doc := range set.docs {
		if added, err := d.Store.AddDocument(ctx, doc); err != nil || !added {
			t.Fatalf("seed document %s: added %v, %v", doc.ID, added, err)
		}
	}
}

// seeded fills in the zero fields of a seeded request (Seed).
func (d *Desk) seeded(t testing.TB, r request.Request) request.Request {
	t.Helper()
	if r.ID == "" {
		t.Fatal("requesttest.Seed: a request without an ID")
	}
	if r.Draft == "" {
		r.Draft = "d-" + r.ID
	}
	if r.Requester == "" {
		r.Requester = flows.RequesterSelf
	}
	if r.Lang == "" {
		r.Lang = flows.Ja
	}
	if r.WordingID == "" {
		r.WordingID = "request.summary"
	}
	if r.Status == "" {
		r.Status = flows.StatusReceived
	}
	if r.ReceivedAt.IsZero() {
		r.ReceivedAt = d.Clock.Now()
	}
	if r.DueAt.IsZero() {
		y, m, day := r.ReceivedAt.In(d.Location()).Date()
		r.DueAt = time.Date(y, m, day, 23, 59, 59, 0, d.Location()).AddDate(0, 0, d.DueDays())
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.ReceivedAt
	}
	if r.Version == 0 {
		r.Version = 1
	}
	if r.History == nil {
		r.History = []request.Change{{What: request.ChangeCreated, To: flows.StatusReceived,
			Actor: request.Actor{Kind: request.ActorCustomer}, At: r.ReceivedAt}}
	}
	return r
}

// seal makes doc a stored document with content (SealedDocument).
func (d *Desk) seal(doc request.Document, content []byte) (request.Document, error) {
	sealed, err := d.Sealer.Seal(content, "doc:"+doc.ID)
	if err != nil {
		return doc, err
	}
	sum := sha256.Sum256(content)
	doc.Sealed, doc.KeyID, doc.Size, doc.SHA256 = sealed, d.Sealer.KeyID(), len(content), hex.EncodeToString(sum[:])
	if doc.Status == "" {
		doc.Status = request.DocStored
	}
	if doc.ContentType == "" {
		doc.ContentType = http.DetectContentType(content)
	}
	if doc.StoredAt.IsZero() {
		doc.StoredAt = doc.CreatedAt
	}
	return doc, nil
}

// Submit submits a request as the chat's flow would (an EffectRequest of a step of user's) and
// returns it.
func (d *Desk) Submit(t testing.TB, userID string, sub flows.RequestSubmission) request.Request {
	t.Helper()
	if sub.Draft == "" {
		sub.Draft = fmt.Sprintf("D%d", d.Clock.Now().UnixNano())
	}
	if sub.Kinds == 0 {
		sub.Kinds = flows.KindDisclosure
	}
	if sub.Requester == "" {
		sub.Requester = flows.RequesterSelf
	}
	if sub.DocsBy == "" {
		sub.DocsBy = flows.DocsPost
	}
	if sub.Delivery == "" && sub.Kinds&flows.KindsAnswered != 0 {
		sub.Delivery = flows.DeliveryElectronic
	}
	if sub.Name == "" {
		sub.Name, sub.Address, sub.Phone = "山田 花子", "岡山県岡山市北区1-2-3", "+819012345678"
	}
	if sub.Lang == "" {
		sub.Lang = flows.Ja
	}
	sub.WordingID, sub.At = "request.summary", d.Clock.Now()
	st := bot.Step{EventID: "ev-" + sub.Draft, UserID: userID,
		Effects: []flows.Effect{{Kind: flows.EffectRequest, Request: &sub}}}
	if err := d.Apply(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	for _, r := range d.ForUser(userID) {
		if r.Draft == sub.Draft {
			return r
		}
	}
	t.Fatal("submitted request not found")
	return request.Request{}
}

// Await waits until cond holds, checking it again whenever the service leaves a trace in one of the
// desk's doubles (a store write, a notice raised, an audit entry, an outbox message); the test fails
// after 10 s. The service's background work (fetching documents, automatic moves) is awaited so.
func (d *Desk) Await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	d.Store.Await(t, what, cond)
}
