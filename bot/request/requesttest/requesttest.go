// Package requesttest provides in-memory doubles of what package request needs (its Store, the
// customer's Holdings, the Raiser, LINE's content and the audit log) and a ready Service over them,
// for the tests of the request service, the console and the APIs.
package requesttest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// Store is an in-memory request.Store.
type Store struct {
	mu       sync.Mutex
	counters map[string]int
	requests map[string]request.Request
	docs     map[string]request.Document
	files    map[string]request.StoredFile
	// Fail, when set, is returned by every call (a store that is down).
	Fail error
}

var _ request.Store = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{counters: map[string]int{}, requests: map[string]request.Request{},
		docs: map[string]request.Document{}, files: map[string]request.StoredFile{}}
}

func (s *Store) lock() error {
	s.mu.Lock()
	if s.Fail != nil {
		s.mu.Unlock()
		return s.Fail
	}
	return nil
}

// NextRequestNumber implements request.Store.
func (s *Store) NextRequestNumber(_ context.Context, day string) (int, error) {
	if err := s.lock(); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	s.counters[day]++
	return s.counters[day], nil
}

// InsertRequest implements request.Store.
func (s *Store) InsertRequest(_ context.Context, r request.Request) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, x := range s.requests {
		if x.ID == r.ID || (x.UserID == r.UserID && x.Draft == r.Draft) {
			return bot.ErrDuplicate
		}
	}
	s.requests[r.ID] = r
	return nil
}

// UpdateRequest implements request.Store.
func (s *Store) UpdateRequest(_ context.Context, r request.Request) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cur, ok := s.requests[r.ID]
	if !ok || cur.Version != r.Version-1 {
		return request.ErrConflict
	}
	s.requests[r.ID] = r
	return nil
}

// AllRequests implements request.Store.
func (s *Store) AllRequests(context.Context) ([]request.Request, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []request.Request
	for _, r := range s.requests {
		out = append(out, r)
	}
	return out, nil
}

// AddDocument implements request.Store.
func (s *Store) AddDocument(_ context.Context, d request.Document) (bool, error) {
	if err := s.lock(); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	if _, ok := s.docs[d.ID]; ok {
		return false, nil
	}
	s.docs[d.ID] = d
	return true, nil
}

// SaveDocument implements request.Store.
func (s *Store) SaveDocument(_ context.Context, d request.Document) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.docs[d.ID] = d
	return nil
}

// Document implements request.Store.
func (s *Store) Document(_ context.Context, id string) (request.Document, error) {
	if err := s.lock(); err != nil {
		return request.Document{}, err
	}
	defer s.mu.Unlock()
	d, ok := s.docs[id]
	if !ok {
		return d, bot.ErrNotFound
	}
	return d, nil
}

// Documents implements request.Store.
func (s *Store) Documents(_ context.Context, userID, draft string) ([]request.Document, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
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

// FetchingDocuments implements request.Store.
func (s *Store) FetchingDocuments(context.Context) ([]request.Document, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []request.Document
	for _, d := range s.docs {
		if d.Status == request.DocFetching {
			out = append(out, d)
		}
	}
	return out, nil
}

// Docs returns every stored document with its sealed bytes (for checks).
func (s *Store) Docs() []request.Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []request.Document
	for _, d := range s.docs {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b request.Document) int { return a.Seq - b.Seq })
	return out
}

// AddFile implements request.Store.
func (s *Store) AddFile(_ context.Context, f request.StoredFile) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.files[f.ID]; ok {
		return bot.ErrDuplicate
	}
	s.files[f.ID] = f
	return nil
}

// PackageFile implements request.Store.
func (s *Store) PackageFile(_ context.Context, req, id string) (request.StoredFile, error) {
	if err := s.lock(); err != nil {
		return request.StoredFile{}, err
	}
	defer s.mu.Unlock()
	f, ok := s.files[id]
	if !ok || f.Request != req {
		return f, bot.ErrNotFound
	}
	return f, nil
}

// Holdings is an in-memory request.Holdings: what the desk holds, per customer.
type Holdings struct {
	mu     sync.Mutex
	Data   map[string]request.CustomerData
	Erased []string
}

var _ request.Holdings = (*Holdings)(nil)

// CustomerData implements request.Holdings.
func (h *Holdings) CustomerData(_ context.Context, userID string) (request.CustomerData, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.Data[userID]
	d.UserID = userID
	return d, nil
}

// EraseCustomer implements request.Holdings.
func (h *Holdings) EraseCustomer(_ context.Context, userID string) (map[string]int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := int64(len(h.Data[userID].Transcript))
	delete(h.Data, userID)
	h.Erased = append(h.Erased, userID)
	return map[string]int64{"transcript": n}, nil
}

// Raised is one internal event a Raiser took.
type Raised struct {
	UserID, ID string
	Notice     flows.RequestNotice
	Data       string
}

// Raiser records the internal events raised (each ID once, like the inbox).
type Raiser struct {
	mu     sync.Mutex
	events []Raised
	seen   map[string]bool
}

// Raise implements request.Raiser.
func (r *Raiser) Raise(_ context.Context, userID, id, data string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[id] {
		return nil
	}
	r.seen[id] = true
	p, _ := flows.DecodeInternalPostback(data)
	r.events = append(r.events, Raised{UserID: userID, ID: id, Notice: p.Notice, Data: data})
	return nil
}

// Events returns the events raised so far.
func (r *Raiser) Events() []Raised {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Last returns the last event raised (zero when none).
func (r *Raiser) Last() Raised {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return Raised{}
	}
	return r.events[len(r.events)-1]
}

// LinkToken returns the package token of a link in a notice ("" when none).
func LinkToken(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return path(u.Path)
}

func path(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// Outbox records the messages queued.
type Outbox struct {
	mu   sync.Mutex
	Msgs []outbox.Message
}

// Enqueue implements request.Queue.
func (o *Outbox) Enqueue(_ context.Context, m outbox.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, x := range o.Msgs {
		if x.Destination == m.Destination && x.Key == m.Key {
			return nil
		}
	}
	o.Msgs = append(o.Msgs, m)
	return nil
}

// Messages returns the messages queued so far.
func (o *Outbox) Messages() []outbox.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.Msgs)
}

// Auditor records audit calls.
type Auditor struct {
	mu      sync.Mutex
	Entries []string // "action target detail"
}

// Audit implements request.Auditor.
func (a *Auditor) Audit(_ context.Context, action, target, detail string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Entries = append(a.Entries, fmt.Sprintf("%s %s %s", action, target, detail))
	return nil
}

// Count returns how many entries have the action.
func (a *Auditor) Count(action string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.Entries {
		if len(e) > len(action) && e[:len(action)+1] == action+" " {
			n++
		}
	}
	return n
}

// Clock is a clock the test moves.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

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

// NewDesk returns an opened Service over fresh doubles; cfg's zero fields are filled in (the clock
// starts at 2026-12-04 10:00 JST).
func NewDesk(t testing.TB, cfg request.Config) *Desk {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	sealer, err := request.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	d := &Desk{Store: NewStore(), Holdings: &Holdings{Data: map[string]request.CustomerData{}}, Raiser: &Raiser{},
		Outbox: &Outbox{}, Audit: &Auditor{}, Clock: NewClock(time.Date(2026, 12, 4, 10, 0, 0, 0, Tokyo)), Sealer: sealer}
	cfg.Store, cfg.Holdings, cfg.Raiser, cfg.Sealer = d.Store, d.Holdings, d.Raiser, sealer
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
	d.Service = request.New(cfg)
	if err := d.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
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
