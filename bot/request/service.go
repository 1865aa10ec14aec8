package request

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/flows"
)

// Content fetches the content of a message a customer sent (bot.ContentClient).
type Content interface {
	MessageContent(ctx context.Context, messageID string, limit int64) (bot.Content, bot.CallResult)
}

// Raiser puts internal events into the pipeline (bot.Raiser).
type Raiser interface {
	Raise(ctx context.Context, userID, id, data string) error
}

// Queue takes outgoing messages durably (outbox.Outbox).
type Queue interface {
	Enqueue(ctx context.Context, m outbox.Message) error
}

// Auditor records what happens to a request without a staff session (package downloads, the
// customer's withdrawals, the desk's own moves) in the audit log; AuditActor names who did it.
type Auditor interface {
	Audit(ctx context.Context, action, target, detail string) error
}

// The audit actions the service writes itself.
const (
	AuditDownload   = "package.download"          // the customer, through the link
	AuditWithdrawn  = "request.withdrawn"         // the customer, in the chat
	AuditAutomatic  = "request.transition.auto"   // the desk: documents arrived, or none could be used
	AuditErased     = "request.erased"            // the desk, completing a 削除/消去 request
	AuditDocsDelete = "request.documents.deleted" // the desk, on schedule
	// AuditRequestDeleted: the desk deleted a request closed longer than its retention period.
	AuditRequestDeleted = "request.deleted"
)

// AuditActor is the actor the audit log names for an action the service writes.
func AuditActor(action string) string {
	switch action {
	case AuditDownload:
		return "customer:link"
	case AuditWithdrawn:
		return "customer:chat"
	}
	return "system"
}

// audit writes an entry of the service's own (a failure is logged: the change itself stands).
func (s *Service) audit(ctx context.Context, action, target, detail string) {
	if s.cfg.Audit == nil {
		return
	}
	if err := s.cfg.Audit.Audit(ctx, action, target, detail); err != nil {
		s.cfg.Log.Error("audit write failed", "action", action, "err", err)
	}
}

// Config wires a Service.
type Config struct {
	Store    Store
	Holdings Holdings
	Content  Content
	Sealer   *Sealer
	Raiser   Raiser
	// Outbox and the destinations of staff alerts (new requests, the daily digest) and of the back
	// office's webhook (every change).
	Outbox          Queue
	AlertTo         []string
	BackOfficeTo    string
	Audit           Auditor
	BaseURL         string
	Location        *time.Location
	DueDays         int           // default 14
	LinkDays        int           // default 14
	MaxDocumentSize int64         // default 10 MiB
	MaxDocuments    int           // default 10 per request
	FetchFor        time.Duration // how long a document's content is retried (default 3 min)
	FetchBackoff    time.Duration // the first wait between attempts, doubling to 15 s (default 1 s)
	// DigestHour is the hour of the day (Location) of the daily digest to staff (default 9).
	DigestHour int
	// ExternalHTTP fetches content held outside LINE (contentProvider "external").
	ExternalHTTP *http.Client
	Now          func() time.Time
	Log          *slog.Logger
}

// Service is the desk's request handling: the effect sink of the chat's request flow, the staff's and
// the back office's operations, the document fetcher and the data package. Requests are indexed in
// memory (read at start), written through to the store.
type Service struct {
	cfg Config

	upd    sync.Mutex // serialises read-change-write of requests
	mu     sync.RWMutex
	byRef  map[string]*Request
	byKey  map[string]string   // user + "\x00" + draft → ref
	byUser map[string][]string // user → refs (every step of every customer asks: Desk)

	sweepMu sync.Mutex
	fetch   chan Document
	subMu   sync.Mutex
	subs    map[chan string]struct{}
	fetchWG sync.WaitGroup

	// fetching holds the documents this process has queued or is fetching, so that queueing one again
	// (Open after a duplicate, RequeueStranded) does not fetch it twice.
	fetchMu  sync.Mutex
	fetching map[string]bool

	// Refresh's place in the store (shared.go): when its last read began, and the last full read.
	refreshMu sync.Mutex
	seen      time.Time
	fullAt    time.Time
}

var _ bot.EffectSink = (*Service)(nil)

// New returns the service; call Open before the pipeline starts and Run to fetch documents.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.DueDays <= 0 {
		cfg.DueDays = 14
	}
	if cfg.LinkDays <= 0 {
		cfg.LinkDays = 14
	}
	if cfg.MaxDocumentSize <= 0 {
		cfg.MaxDocumentSize = 10 << 20
	}
	if cfg.MaxDocuments <= 0 {
		cfg.MaxDocuments = 10
	}
	if cfg.FetchFor <= 0 {
		cfg.FetchFor = 3 * time.Minute
	}
	if cfg.FetchBackoff <= 0 {
		cfg.FetchBackoff = time.Second
	}
	if cfg.DigestHour == 0 {
		cfg.DigestHour = 9
	}
	if cfg.ExternalHTTP == nil {
		cfg.ExternalHTTP = &http.Client{Timeout: 20 * time.Second}
	}
	return &Service{cfg: cfg, byRef: map[string]*Request{}, byKey: map[string]string{}, byUser: map[string][]string{},
		fetch: make(chan Document, 1024), subs: map[chan string]struct{}{}, fetching: map[string]bool{}}
}

// Open reads the stored requests into the index and queues the documents still waiting for content.
// Several instances on one store each open their own index; Refresh keeps it current.
func (s *Service) Open(ctx context.Context) error {
	if _, err := s.readAll(ctx); err != nil {
		return err
	}
	docs, err := s.cfg.Store.FetchingDocuments(ctx)
	if err != nil {
		return fmt.Errorf("load documents: %w", err)
	}
	for _, d := range docs {
		s.queueFetch(d)
	}
	return nil
}

// index puts r into the index (s.mu held) unless the index has it at the same or a later version: a
// read of the store may return a request older than what this process wrote since. It reports
// whether the index changed.
func (s *Service) index(r *Request) bool {
	cur, ok := s.byRef[r.ID]
	if ok && cur.Version >= r.Version {
		return false
	}
	if !ok {
		s.byUser[r.UserID] = append(s.byUser[r.UserID], r.ID)
	}
	s.byRef[r.ID] = r
	s.byKey[r.UserID+"\x00"+r.Draft] = r.ID
	return true
}

// DueDays is the period a request is answered in.
func (s *Service) DueDays() int { return s.cfg.DueDays }

// Location is the desk's time zone (due dates are days in it).
func (s *Service) Location() *time.Location { return s.cfg.Location }

// Desk is what a step of the customer's conversation knows of their requests (flows.Input.Desk).
func (s *Service) Desk(userID string, fee string) flows.RequestDesk {
	d := flows.RequestDesk{Fee: fee, DueDays: s.cfg.DueDays}
	for _, r := range s.ForUser(userID) {
		d.Requests = append(d.Requests, r.Summary(s.cfg.Location))
	}
	return d
}

// Get returns one request by its reference; bot.ErrNotFound if there is none.
func (s *Service) Get(ref string) (Request, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.byRef[ref]
	if !ok {
		return Request{}, bot.ErrNotFound
	}
	return clone(*r), nil
}

// ForUser returns a customer's requests, newest first.
func (s *Service) ForUser(userID string) []Request {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Request
	for _, ref := range s.byUser[userID] {
		out = append(out, clone(*s.byRef[ref]))
	}
	slices.SortFunc(out, newestFirst)
	return out
}

// HasOpen reports whether a customer has a request still being worked on (what agents see).
func (s *Service) HasOpen(userID string) bool {
	for _, r := range s.ForUser(userID) {
		if r.Open() {
			return true
		}
	}
	return false
}

// clone copies a request deeply enough that the index's copy is never shared.
func clone(r Request) Request {
	r.History = slices.Clone(r.History)
	if r.Package != nil {
		p := *r.Package
		p.Files = slices.Clone(p.Files)
		r.Package = &p
	}
	if r.Erasure != nil {
		e := *r.Erasure
		r.Erasure = &e
	}
	return r
}

// Subscribe returns a channel that receives the reference of every request that changes (the
// console's live queue), and the function that ends the subscription.
func (s *Service) Subscribe() (<-chan string, func()) {
	ch := make(chan string, 16)
	s.subMu.Lock()
	s.subs[ch] = struct{}{}
	s.subMu.Unlock()
	return ch, func() {
		s.subMu.Lock()
		delete(s.subs, ch)
		s.subMu.Unlock()
	}
}

func (s *Service) publish(ref string) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- ref:
		default: // a slow viewer reloads on the next change
		}
	}
}
