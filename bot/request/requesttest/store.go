package requesttest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
)

// Store is an in-memory request.Store that answers as store.Store does: bot.ErrDuplicate for a
// request or file stored before, bot.ErrNotFound for one that is not there, request.ErrConflict for an
// update of another version.
type Store struct {
	mu       sync.Mutex
	counters map[string]int
	requests map[string]request.Request
	docs     map[string]request.Document
	files    map[string]request.StoredFile
	conflict bool
	sig      *signal // fired by every write (and by the desk's other doubles): Await wakes on it
	// Fail, when set, is returned by every call (a store that is down). Set it before the service
	// is in use, or call SetFail.
	Fail error
}

var _ request.Store = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{counters: map[string]int{}, requests: map[string]request.Request{},
		docs: map[string]request.Document{}, files: map[string]request.StoredFile{}, sig: newSignal()}
}

// wrote wakes the waiters of Await (called after a write).
func (s *Store) wrote() { s.sig.fire() }

// signal wakes waiters whenever one of the doubles records something: a store write, a raised
// notice, an audit entry, an outbox message.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

// fire wakes every waiter (nil: nobody waits).
func (g *signal) fire() {
	if g == nil {
		return
	}
	g.mu.Lock()
	close(g.ch)
	g.ch = make(chan struct{})
	g.mu.Unlock()
}

// await waits until cond holds, checking it again whenever the signal fires; the test fails after
// 10 s.
func (g *signal) await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		g.mu.Lock()
		next := g.ch
		g.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-next:
		case <-timeout.C:
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// Await waits until cond holds, checking it again after every write to the store; the test fails
// after 10 s.
func (s *Store) Await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	s.sig.await(t, what, cond)
}

// SetFail makes every later call return err (a store that stopped answering); nil heals it.
func (s *Store) SetFail(err error) {
	s.mu.Lock()
	s.Fail = err
	s.mu.Unlock()
}

// SetConflict(true) makes the next UpdateRequest fail with request.ErrConflict, as if someone else
// had changed the request between the service's read and its write; SetConflict(false) takes that
// back if no update came.
func (s *Store) SetConflict(on bool) {
	s.mu.Lock()
	s.conflict = on
	s.mu.Unlock()
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
	s.wrote()
	return nil
}

// UpdateRequest implements request.Store.
func (s *Store) UpdateRequest(_ context.Context, r request.Request) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cur, ok := s.requests[r.ID]
	if !ok {
		return bot.ErrNotFound
	}
	if s.conflict || cur.Version != r.Version-1 {
		s.conflict = false
		return request.ErrConflict
	}
	s.requests[r.ID] = r
	s.wrote()
	return nil
}

// AllRequests implements request.Store.
func (s *Store) AllRequests(context.Context) ([]request.Request, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]request.Request, 0, len(s.requests))
	for _, r := range s.requests {
		out = append(out, r)
	}
	return out, nil
}

// RequestsUpdatedSince implements request.Store.
func (s *Store) RequestsUpdatedSince(_ context.Context, t time.Time) ([]request.Request, error) {
	return s.requestsWhere(func(r request.Request) bool { return !r.UpdatedAt.Before(t) })
}

// UserRequests implements request.Store.
func (s *Store) UserRequests(_ context.Context, userID string) ([]request.Request, error) {
	return s.requestsWhere(func(r request.Request) bool { return r.UserID == userID })
}

func (s *Store) requestsWhere(match func(request.Request) bool) ([]request.Request, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := []request.Request{}
	for _, r := range s.requests {
		if match(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Request returns the stored request id (the zero Request when there is none), for checks of what
// the service wrote through.
func (s *Store) Request(id string) request.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[id]
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
	s.wrote()
	return true, nil
}

// SaveDocument implements request.Store.
func (s *Store) SaveDocument(_ context.Context, d request.Document) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.docs[d.ID] = d
	s.wrote()
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
	s.wrote()
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
		return request.StoredFile{}, bot.ErrNotFound
	}
	return f, nil
}

// DocumentsBefore implements request.Store.
func (s *Store) DocumentsBefore(_ context.Context, t time.Time) ([]request.Document, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []request.Document
	for _, d := range s.docs {
		if d.CreatedAt.Before(t) {
			d.Sealed = nil
			out = append(out, d)
		}
	}
	return out, nil
}

// DeleteDocuments implements request.Store.
func (s *Store) DeleteDocuments(_ context.Context, userID, draft string) (int64, error) {
	if err := s.lock(); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	var n int64
	for id, d := range s.docs {
		if d.UserID == userID && d.Draft == draft {
			delete(s.docs, id)
			n++
		}
	}
	s.wrote()
	return n, nil
}

// DeletePackageFiles implements request.Store.
func (s *Store) DeletePackageFiles(_ context.Context, req string) (int64, error) {
	if err := s.lock(); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	var n int64
	for id, f := range s.files {
		if f.Request == req {
			delete(s.files, id)
			n++
		}
	}
	s.wrote()
	return n, nil
}

// DeleteRequest implements request.Store.
func (s *Store) DeleteRequest(_ context.Context, id string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.requests, id)
	s.wrote()
	return nil
}

// Files returns the number of stored package files (for checks).
func (s *Store) Files() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}
