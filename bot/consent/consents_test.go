package consent

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// memStore is an in-memory Store.
type memStore struct {
	mu   sync.Mutex
	recs map[string]Record
	// deleted counts the deletions of each ID (DeleteConsents); failDelete makes DeleteConsents fail.
	deleted    map[string]int
	failDelete error
}

func (m *memStore) ConsentHistory(context.Context) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, r := range m.recs {
		out = append(out, r)
	}
	return out, nil
}

func (m *memStore) InsertConsent(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.recs[r.ID]; ok {
		return bot.ErrDuplicate
	}
	for _, o := range m.recs {
		if o.Seq == r.Seq { // the store's unique index on seq
			return bot.ErrDuplicate
		}
	}
	m.recs[r.ID] = r
	return nil
}

func (m *memStore) ConsentByID(_ context.Context, id string) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	if !ok {
		return r, bot.ErrNotFound
	}
	return r, nil
}

func (m *memStore) ConsentsAfter(_ context.Context, after int64) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, r := range m.recs {
		if r.Seq > after {
			out = append(out, r)
		}
	}
	sortRecords(out)
	return out, nil
}

func (m *memStore) ConsentCount(_ context.Context, upTo int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, r := range m.recs {
		if r.Seq <= upTo {
			n++
		}
	}
	return n, nil
}

func (m *memStore) DeleteConsents(_ context.Context, ids []string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failDelete != nil {
		return 0, m.failDelete
	}
	if m.deleted == nil {
		m.deleted = map[string]int{}
	}
	var n int64
	for _, id := range ids {
		if _, ok := m.recs[id]; ok {
			delete(m.recs, id)
			m.deleted[id]++
			n++
		}
	}
	return n, nil
}

func chatStep(eventID, user string, at time.Time, ch *flows.ConsentChange) bot.Step {
	return bot.Step{EventID: eventID, UserID: user, Lang: flows.Ja, EventAt: at,
		Effects: []flows.Effect{{Kind: flows.EffectEscalate}, {Kind: flows.EffectConsent, Consent: ch}}}
}

func TestStateFollowsTheLaterStatementPerChannel(t *testing.T) {
	ctx := context.Background()
	store := &memStore{recs: map[string]Record{}}
	c, err := Open(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	out := &flows.ConsentChange{Action: flows.ConsentOptOut, Channels: flows.ChanPhone | flows.ChanMail, Phone: "+81862397675",
		Source: flows.SourceChat, Reference: "R1", At: t0}
	st := chatStep("E1", "U1", t0, out)
	for range 2 { // applied twice (a crash, a retry): recorded once
		if err := c.Apply(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	// An opt-in of mail made earlier but recorded later does not undo the later opt-out.
	in := &flows.ConsentChange{Action: flows.ConsentOptIn, Channels: flows.ChanMail, Source: flows.SourceChat, Reference: "R0", At: t0.Add(-time.Hour)}
	if err := c.Apply(ctx, chatStep("E0", "U1", t0.Add(-time.Hour), in)); err != nil {
		t.Fatal(err)
	}
	// The same moment: opt-out wins.
	tie := &flows.ConsentChange{Action: flows.ConsentOptIn, Channels: flows.ChanPhone, Source: flows.SourceChat, Reference: "R2", At: t0}
	if err := c.Apply(ctx, chatStep("E2", "U1", t0, tie)); err != nil {
		t.Fatal(err)
	}
	states := c.Match("+81862397675", "")
	if len(states) != 1 || states[0].Subject != LINESubject("U1") || states[0].OptedOut() != flows.ChanPhone|flows.ChanMail {
		t.Fatalf("state %+v: want phone and mail opted out", states)
	}
	if n := c.OptOutCounts(); len(n) != len(flows.ChannelList()) || n["phone"] != 1 || n["mail"] != 1 || n["line"] != 0 || n["email"] != 0 {
		t.Fatalf("opt-outs by channel %v: want phone and mail 1, every other channel 0", n)
	}
	if c.LastSeq() != 3 || len(store.recs) != 3 || store.recs["E1/1"].Seq != 1 {
		t.Fatalf("history: last seq %d, %d stored, first %+v", c.LastSeq(), len(store.recs), store.recs["E1/1"])
	}
	// A restart rebuilds the same state from the store.
	c2, err := Open(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Match("+81862397675", ""); len(got) != 1 || got[0].OptedOut() != states[0].OptedOut() {
		t.Fatalf("after a restart: %+v", got)
	}
}

func TestRecordRefusesWhatIsNoConsent(t *testing.T) {
	c, err := Open(context.Background(), &memStore{recs: map[string]Record{}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{
		{ID: "x", Subject: StaffSubject("+81862397675"), Action: flows.ConsentOptOut},                  // no channels
		{ID: "x", Channels: flows.ChanMail, Action: flows.ConsentOptOut},                               // no subject
		{ID: "x", Subject: StaffSubject("a@example.jp"), Channels: flows.ChanMail, Action: "maybe"},    // no action
		{Subject: StaffSubject("a@example.jp"), Channels: flows.ChanMail, Action: flows.ConsentOptOut}, // no ID
	} {
		if err := c.Record(context.Background(), r); err != ErrInvalid {
			t.Errorf("%+v: %v, want ErrInvalid", r, err)
		}
	}
}

func TestSubjects(t *testing.T) {
	for subject, want := range map[string][2]string{
		LINESubject("U123"):      {"line", "U123"},
		StaffSubject("+8186239"): {"staff", "+8186239"},
		"somebody":               {"", "somebody"},
	} {
		if kind, key := SubjectKind(subject); kind != want[0] || key != want[1] {
			t.Errorf("%q: %q %q, want %v", subject, kind, key, want)
		}
	}
}
