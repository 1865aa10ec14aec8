package bot

import (
	"context"
	"errors"
	"sync"
)

// memJournal is an in-memory Journal for unit tests of the processor, with failures to inject.
type memJournal struct {
	mu          sync.Mutex
	inbox       map[string]Event
	handled     map[string]bool
	steps       map[string]Step
	deliveries  map[string]Delivery
	convs       map[string]Conversation
	transcript  map[string]TranscriptEntry
	failAppends int // the next failAppends AppendTranscript calls fail
	appendCalls int
}

var errInjected = errors.New("injected store failure")

func newMemJournal() *memJournal {
	return &memJournal{inbox: map[string]Event{}, handled: map[string]bool{}, steps: map[string]Step{},
		deliveries: map[string]Delivery{}, convs: map[string]Conversation{}, transcript: map[string]TranscriptEntry{}}
}

func (j *memJournal) AddToInbox(_ context.Context, evs []Event) ([]Event, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Event
	for _, ev := range evs {
		if j.handled[ev.ID] {
			continue
		}
		j.inbox[ev.ID] = ev
		out = append(out, ev)
	}
	return out, nil
}

func (j *memJournal) Inbox(context.Context) ([]Event, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Event
	for _, ev := range j.inbox {
		out = append(out, ev)
	}
	return out, nil
}

func (j *memJournal) RemoveFromInbox(_ context.Context, ids []string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range ids {
		delete(j.inbox, id)
		j.handled[id] = true
	}
	return nil
}

func (j *memJournal) SealInbox(context.Context) error { return nil }

func (j *memJournal) CommitStep(_ context.Context, s Step) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.steps[s.EventID]; ok {
		return ErrDuplicate
	}
	j.steps[s.EventID] = s
	return nil
}

func (j *memJournal) Step(_ context.Context, id string) (Step, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	s, ok := j.steps[id]
	if !ok {
		return s, ErrNotFound
	}
	return s, nil
}

func (j *memJournal) RecordDelivery(_ context.Context, d Delivery) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.deliveries[d.EventID]; !ok {
		j.deliveries[d.EventID] = d
	}
	return nil
}

func (j *memJournal) Delivery(_ context.Context, id string) (Delivery, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	d, ok := j.deliveries[id]
	return d, ok, nil
}

func (j *memJournal) Conversation(_ context.Context, user string) (Conversation, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	c, ok := j.convs[user]
	return c, ok, nil
}

func (j *memJournal) InsertConversations(ctx context.Context, cs []Conversation) error {
	return j.SaveConversations(ctx, cs)
}

func (j *memJournal) SaveConversations(_ context.Context, cs []Conversation) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		j.convs[c.UserID] = c
	}
	return nil
}

func (j *memJournal) AppendTranscript(_ context.Context, es ...TranscriptEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.appendCalls++
	if j.failAppends > 0 {
		j.failAppends--
		return errInjected
	}
	for _, e := range es {
		if _, ok := j.transcript[e.ID]; !ok {
			j.transcript[e.ID] = e
		}
	}
	return nil
}

func (j *memJournal) line(id string) (TranscriptEntry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.transcript[id]
	return e, ok
}

// memMessenger records what the processor sends; every call is accepted.
type memMessenger struct {
	mu      sync.Mutex
	replies map[string]int // reply token -> calls
	pushes  map[string]int // retry key -> calls
	sent    map[string][]Message
}

func newMemMessenger() *memMessenger {
	return &memMessenger{replies: map[string]int{}, pushes: map[string]int{}, sent: map[string][]Message{}}
}

func (m *memMessenger) Reply(_ context.Context, token string, msgs []Message) CallResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.replies[token]++
	if m.replies[token] > 1 {
		return CallResult{Outcome: InvalidToken, Status: 400}
	}
	m.sent["reply:"+token] = msgs
	return CallResult{Outcome: Accepted, Status: 200}
}

func (m *memMessenger) Push(_ context.Context, to, key string, msgs []Message) CallResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pushes[key]++
	if m.pushes[key] > 1 {
		return CallResult{Outcome: AlreadyDone, Status: 409}
	}
	m.sent["push:"+to+":"+key] = append(m.sent["push:"+to+":"+key], msgs...)
	return CallResult{Outcome: Accepted, Status: 200}
}

func (m *memMessenger) ProfileLanguage(context.Context, string) (string, error) { return "ja", nil }

// sends counts the calls that delivered something (first acceptances).
func (m *memMessenger) sends() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}
