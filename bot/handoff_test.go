package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/flows"
)

// memEscalations is an in-memory EscalationStore with the store's conditional update.
type memEscalations struct {
	mu    sync.Mutex
	byID  map[string]Escalation
	lines []TranscriptEntry
}

func (m *memEscalations) CreateEscalation(_ context.Context, e Escalation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[e.ID]; ok {
		return ErrDuplicate
	}
	m.byID[e.ID] = e
	return nil
}

func (m *memEscalations) Escalation(_ context.Context, id string) (Escalation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byID[id]
	if !ok {
		return e, ErrNotFound
	}
	return e, nil
}

func (m *memEscalations) OpenEscalations(context.Context) ([]Escalation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Escalation
	for _, e := range m.byID {
		if e.Status.Open() {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memEscalations) UpdateEscalation(_ context.Context, e Escalation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byID[e.ID].Version != e.Version-1 {
		return ErrConflict
	}
	m.byID[e.ID] = e
	return nil
}

func (m *memEscalations) AppendTranscript(_ context.Context, es ...TranscriptEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range es {
		if !slices.ContainsFunc(m.lines, func(l TranscriptEntry) bool { return l.ID == e.ID }) {
			m.lines = append(m.lines, e) // a line whose ID is stored is ignored, as the store does
		}
	}
	return nil
}

// raised records the internal events the manager puts into the inbox.
type raised struct {
	mu  sync.Mutex
	evs []Event
}

func (r *raised) AddToInbox(_ context.Context, evs []Event) ([]Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, evs...)
	return evs, nil
}

func (r *raised) last() Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.evs[len(r.evs)-1]
}

func newTestHandoffs(t *testing.T) (*Handoffs, *memEscalations, *raised) {
	t.Helper()
	store, inbox := &memEscalations{byID: map[string]Escalation{}}, &raised{}
	rend, err := NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandoffs(HandoffConfig{Store: store, Inbox: inbox, Renderer: rend,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return h, store, inbox
}

func escalateStep(eventID, user string) Step {
	return Step{EventID: eventID, UserID: user, Lang: flows.Ja, At: time.Now(),
		Effects: []flows.Effect{{Kind: flows.EffectEscalate, Escalation: &flows.EscalationRequest{Reason: flows.ReasonHuman}}}}
}

func TestHandoffTransitions(t *testing.T) {
	ctx := context.Background()
	h, store, inbox := newTestHandoffs(t)
	alex := Actor{ID: "alex@example.jp", Name: "高橋"}
	sam := Actor{ID: "sam@example.jp", Name: "佐藤"}

	// Escalating opens one queued escalation per customer, idempotently.
	st := escalateStep("E1", "U1")
	for range 2 {
		if err := h.Apply(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Apply(ctx, escalateStep("E2", "U1")); err != nil {
		t.Fatal(err)
	}
	q := h.Queue()
	if len(q) != 1 || q[0].Status != StatusQueued || q[0].Priority != flows.PriorityNormal {
		t.Fatalf("queue %+v: want one queued escalation", q)
	}
	id := q[0].ID
	if queued, assigned := h.Counts(); queued != 1 || assigned != 0 {
		t.Fatalf("counts %d queued, %d assigned: want 1, 0", queued, assigned)
	}
	if h.OwnedByStaff("U1") {
		t.Fatal("a queued chat is owned by staff")
	}
	if err := h.Reply(ctx, id, alex, "m1", "こんにちは"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("reply before claiming: %v, want ErrNotAllowed", err)
	}

	// Claiming: one staff member wins, the customer is told who joined by an internal event.
	if _, err := h.Claim(ctx, id, alex); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Claim(ctx, id, sam); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("second claim: %v, want ErrNotAllowed", err)
	}
	if !h.OwnedByStaff("U1") {
		t.Fatal("an assigned chat is not owned by staff")
	}
	if queued, assigned := h.Counts(); queued != 0 || assigned != 1 {
		t.Fatalf("counts %d queued, %d assigned: want 0, 1", queued, assigned)
	}
	joined := inbox.last()
	if p, ok := flows.DecodePostback(joined.Postback); joined.Kind != EventInternal || !ok || p.Do != flows.ActJoined || p.Name != "高橋" {
		t.Fatalf("joined event %+v", joined)
	}

	// The customer cannot withdraw an assigned request; another staff member cannot hand it back.
	if err := h.Apply(ctx, Step{EventID: "E3", UserID: "U1", EventAt: time.Now(), Effects: []flows.Effect{{Kind: flows.EffectCancelEscalation}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.HandBack(ctx, id, sam); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("hand-back by someone else: %v, want ErrNotAllowed", err)
	}
	// The assignee hands it back: closed, the bot resumes through an internal event.
	e, err := h.HandBack(ctx, id, alex)
	if err != nil || e.Status != StatusClosed || h.OwnedByStaff("U1") || len(h.Queue()) != 0 {
		t.Fatalf("after hand-back: %+v %v", e, err)
	}
	if queued, assigned := h.Counts(); queued != 0 || assigned != 0 {
		t.Fatalf("counts %d queued, %d assigned after the hand-back", queued, assigned)
	}
	if p, _ := flows.DecodePostback(inbox.last().Postback); p.Do != flows.ActResume || p.Why != "handback" || p.Ticket != id {
		t.Fatalf("resume event %+v", inbox.last())
	}
	// Every system line says what happened as data, for the console to word.
	var notes []string
	store.mu.Lock()
	for _, l := range store.lines {
		if l.Role == RoleSystem && l.System != nil {
			notes = append(notes, l.System.What+":"+l.System.Who)
		}
	}
	store.mu.Unlock()
	if want := "escalated: claimed:高橋 handback:高橋"; strings.Join(notes, " ") != want {
		t.Fatalf("system notes %q, want %q", strings.Join(notes, " "), want)
	}
	// A rating counts only for the customer's own closed escalation.
	rate := func(user string) {
		if err := h.Apply(ctx, Step{EventID: "R-" + user, UserID: user, Effects: []flows.Effect{{Kind: flows.EffectRateEscalation,
			Escalation: &flows.EscalationRequest{Ticket: id, Rating: flows.RatingGood}}}}); err != nil {
			t.Fatal(err)
		}
	}
	rate("U2")
	if got, _ := store.Escalation(ctx, id); got.Rating != "" {
		t.Fatalf("another customer rated the escalation: %q", got.Rating)
	}
	rate("U1")
	if got, _ := store.Escalation(ctx, id); got.Rating != flows.RatingGood {
		t.Fatalf("rating %q", got.Rating)
	}
}

func TestCustomerWithdrawsAQueuedRequest(t *testing.T) {
	ctx := context.Background()
	h, store, _ := newTestHandoffs(t)
	if err := h.Apply(ctx, escalateStep("E1", "U9")); err != nil {
		t.Fatal(err)
	}
	id := h.Queue()[0].ID
	cancelStep := func(eventID string, at time.Time) Step {
		return Step{EventID: eventID, UserID: "U9", EventAt: at, At: at, Effects: []flows.Effect{{Kind: flows.EffectCancelEscalation}}}
	}
	// A cancel tapped before this request was made (an old step applied again after a redelivery or a
	// restart) leaves it alone.
	if err := h.Apply(ctx, cancelStep("E0", time.Now().Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Escalation(ctx, id); got.Status != StatusQueued {
		t.Fatalf("an older cancel withdrew a newer request: %s", got.Status)
	}
	if err := h.Apply(ctx, cancelStep("E2", time.Now())); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Escalation(ctx, id); got.Status != StatusCancelled || len(h.Queue()) != 0 {
		t.Fatalf("after withdrawal: %+v, queue %d", got, len(h.Queue()))
	}
	if _, err := h.Claim(ctx, id, Actor{ID: "a@example.jp", Name: "A"}); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("claiming a withdrawn request: %v, want ErrNotAllowed", err)
	}
}
