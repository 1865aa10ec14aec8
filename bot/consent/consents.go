package consent

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// Consents is the consent history (append-only, kept by a Store) and the current state derived from it
// (in memory, rebuilt from the history at start, kept up to date with what other instances record by
// Refresh). It is the bot.EffectSink of consent effects. Several instances may write one history: Seq
// is unique in the store and given in commit order (Record says why), which keeps the API's cursor
// stable. The retention sweep (Sweep) deletes records that are wholly superseded, so Seqs have gaps; a
// Seq is never given twice.
type Consents struct {
	store    Store
	webhooks WebhookQueue // nil: no outgoing webhook configured
	render   func(lang flows.Lang, id string, data map[string]string) (string, error)
	log      *slog.Logger
	now      func() time.Time

	writeMu sync.Mutex // serialises Record, Sweep and Refresh in this process
	// shared: Refresh was called, so other instances write the history too (until then this process
	// is taken to be the only writer, and Record does not catch up before it picks a Seq: on the
	// embedded engine that query would scan the history). recounted: when Refresh last checked for
	// records another instance swept. Both under writeMu.
	shared    bool
	recounted time.Time

	mu sync.RWMutex
	index
	changed chan struct{} // closed and replaced on every new record (long polling, tests)
}

// index is the history in memory and everything derived from it. Writers change it holding writeMu
// and mu; readers hold mu.
type index struct {
	records  []Record // by Seq (with gaps once records were swept)
	lastSeq  int64    // the highest Seq ever held: the next record gets lastSeq+1, after catching up
	ids      map[string]int64
	subjects map[string]*State
	order    []string // subjects in order of first appearance (the CSV's order)
	byPhone  map[string][]string
	byEmail  map[string][]string
}

var _ bot.EffectSink = (*Consents)(nil)

// Options configures Consents.
type Options struct {
	// Render renders the wording a customer agreed to, so that the record holds the exact text.
	Render func(lang flows.Lang, id string, data map[string]string) (string, error)
	// Webhooks queues every change for the marketing webhook (the outbox, destination
	// MarketingDestination); nil when no webhook is configured.
	Webhooks WebhookQueue
	Log      *slog.Logger
	Now      func() time.Time
}

// Store keeps the consent history.
type Store interface {
	// ConsentHistory returns every record (in any order).
	ConsentHistory(ctx context.Context) ([]Record, error)
	// InsertConsent stores a record; bot.ErrDuplicate when one with its ID is stored.
	InsertConsent(ctx context.Context, r Record) error
	// ConsentByID loads one record.
	ConsentByID(ctx context.Context, id string) (Record, error)
	// ConsentsAfter returns the records with a Seq greater than after, by Seq (what other instances
	// recorded since; served by the unique index on seq).
	ConsentsAfter(ctx context.Context, after int64) ([]Record, error)
	// ConsentCount counts the records with a Seq up to upTo (a deletion by another instance's sweep
	// shows as fewer than this process holds).
	ConsentCount(ctx context.Context, upTo int64) (int64, error)
	// DeleteConsents deletes the records with these IDs (the retention sweep) and returns how many
	// were stored; IDs not stored are ignored.
	DeleteConsents(ctx context.Context, ids []string) (int64, error)
}

// Open loads the consent history of the store and derives the current state.
func Open(ctx context.Context, s Store, o Options) (*Consents, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Consents{store: s, webhooks: o.Webhooks, render: o.Render, log: o.Log, now: o.Now,
		changed: make(chan struct{})}
	recs, err := s.ConsentHistory(ctx)
	if err != nil {
		return nil, fmt.Errorf("load consent history: %w", err)
	}
	sortRecords(recs)
	c.index = derive(recs, 0)
	return c, nil
}

// derive builds the index of recs (sorted by Seq). It is how the state is built at start and after a
// sweep, so both give the same state for the same records. lastSeq is the high-water mark to keep
// (the index's is the greater of it and the highest Seq in recs).
func derive(recs []Record, lastSeq int64) index {
	x := index{records: make([]Record, 0, len(recs)), lastSeq: lastSeq, ids: make(map[string]int64, len(recs)),
		subjects: map[string]*State{}, byPhone: map[string][]string{}, byEmail: map[string][]string{}}
	for i := range recs {
		x.add(recs[i])
	}
	return x
}

// fold adds stored records (by Seq) to the in-memory state and wakes the readers waiting for one.
func (c *Consents) fold(recs ...Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	added := false
	for i := range recs {
		added = c.add(recs[i]) || added
	}
	if added {
		c.wake()
	}
}

// wake tells the readers waiting on Changed that the history grew (mu held).
func (c *Consents) wake() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// add indexes one record (false when its ID is held already).
func (c *index) add(rec Record) bool {
	if _, ok := c.ids[rec.ID]; ok {
		return false
	}
	if n := len(c.records); n == 0 || c.records[n-1].Seq <= rec.Seq {
		c.records = append(c.records, rec)
	} else { // never expected (Seqs commit in order: Record), but Since's search needs the order
		i, _ := slices.BinarySearchFunc(c.records, rec.Seq, func(r Record, seq int64) int { return cmp.Compare(r.Seq, seq) })
		c.records = slices.Insert(c.records, i, rec)
	}
	c.lastSeq = max(c.lastSeq, rec.Seq)
	c.ids[rec.ID] = rec.Seq
	st := c.subjects[rec.Subject]
	if st == nil {
		st = &State{Subject: rec.Subject}
		c.subjects[rec.Subject] = st
		c.order = append(c.order, rec.Subject)
	}
	st.apply(&rec)
	if rec.Phone != "" {
		addSubject(c.byPhone, rec.Phone, rec.Subject)
	}
	if rec.Email != "" {
		addSubject(c.byEmail, rec.Email, rec.Subject)
	}
	return true
}

func addSubject(m map[string][]string, key, subject string) {
	for _, s := range m[key] {
		if s == subject {
			return
		}
	}
	m[key] = append(m[key], subject)
}

// Since returns up to limit records with Seq greater than after, oldest first, each with the current
// state of its subject, and whether more follow. Seqs have gaps where records were swept.
func (c *Consents) Since(after int64, limit int) ([]Record, []State, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	start := sort.Search(len(c.records), func(i int) bool { return c.records[i].Seq > after })
	if start == len(c.records) {
		return nil, nil, false
	}
	end := start + min(max(limit, 0), len(c.records)-start)
	recs := append([]Record(nil), c.records[start:end]...)
	states := make([]State, len(recs))
	for i := range recs {
		states[i] = *c.subjects[recs[i].Subject]
	}
	return recs, states, end < len(c.records)
}

// Changed returns a channel closed at the next new record.
func (c *Consents) Changed() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.changed
}

// Subjects calls fn with the current state of every subject, in order of first appearance, copying
// at most chunk states at a time under the lock (so an export of any size holds constant memory and
// never blocks writers for long). fn's error stops the walk.
func (c *Consents) Subjects(chunk int, fn func(State) error) error {
	buf := make([]State, 0, chunk)
	for i := 0; ; {
		buf = buf[:0]
		c.mu.RLock()
		for ; i < len(c.order) && len(buf) < chunk; i++ {
			buf = append(buf, *c.subjects[c.order[i]])
		}
		c.mu.RUnlock()
		if len(buf) == 0 {
			return nil
		}
		for _, st := range buf {
			if err := fn(st); err != nil {
				return err
			}
		}
	}
}

// Match returns the current states of the subjects known by a phone number (E.164) or an e-mail
// address (lower case).
func (c *Consents) Match(phone, email string) []State {
	c.mu.RLock()
	defer c.mu.RUnlock()
	seen := map[string]bool{}
	var out []State
	for _, subs := range [][]string{c.byPhone[phone], c.byEmail[email]} {
		for _, s := range subs {
			if !seen[s] {
				seen[s] = true
				out = append(out, *c.subjects[s])
			}
		}
	}
	return out
}

// History returns every record of one subject, oldest first.
func (c *Consents) History(subject string) []Record {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Record
	for _, r := range c.records {
		if r.Subject == subject {
			out = append(out, r)
		}
	}
	return out
}

// OptOutCounts returns, by channel name ("phone", "mail", …, every channel present), how many
// subjects are opted out of it now (metrics).
func (c *Consents) OptOutCounts() map[string]int {
	chans := flows.ChannelList()
	n := make([]int, len(chans))
	c.mu.RLock()
	for _, st := range c.subjects {
		out := st.OptedOut()
		for i, ch := range chans {
			if out.Has(ch) {
				n[i]++
			}
		}
	}
	c.mu.RUnlock()
	counts := make(map[string]int, len(chans))
	for i, ch := range chans {
		counts[ch.Name()] = n[i]
	}
	return counts
}

// LastSeq is the Seq of the newest record (0 when there is none): the highest Seq given, which is
// also the highest held (the sweep keeps the record that has it).
func (c *Consents) LastSeq() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.lastSeq
}

func sortRecords(recs []Record) {
	slices.SortFunc(recs, func(a, b Record) int { return cmp.Compare(a.Seq, b.Seq) })
}
