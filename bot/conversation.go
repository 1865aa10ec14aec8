package bot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/enemane/privacybot/flows"
)

// Profile lookups: the language of a customer's LINE profile is read at first contact, at every
// follow (adding or unblocking the account is when a customer is likeliest to have changed phones or
// settings), and again at the first event after profileMaxAge, since LINE tells nobody when a profile
// changes: a customer who switched their phone to English is answered in English within the hour
// instead of never. A failed lookup is tried again at an event after profileRetry, not at every
// event (each try can wait 3 s for LINE).
const (
	profileMaxAge = time.Hour
	profileRetry  = time.Minute
)

// conversation returns the customer's cached conversation, loading the checkpoint on a miss, and
// reading the profile language when it is due (see profileMaxAge).
func (p *Processor) conversation(ctx context.Context, ev Event) (Conversation, error) {
	now := p.cfg.Now()
	p.mu.Lock()
	e, cached := p.convs[ev.UserID]
	var conv Conversation
	var tried time.Time
	if cached {
		conv, tried = e.conv, e.profileTried
	}
	p.mu.Unlock()
	due := func(c Conversation) bool {
		if ev.Kind == EventUnfollow {
			return false
		}
		stale := c.ProfileLang == "" || now.Sub(c.ProfileAt) >= profileMaxAge
		return ev.Kind == EventFollow || (stale && now.Sub(tried) >= profileRetry)
	}
	if cached && !due(conv) {
		return conv, nil
	}
	found := cached
	if !cached {
		var err error
		if conv, found, err = p.cfg.Journal.Conversation(ctx, ev.UserID); err != nil {
			return Conversation{}, err
		}
		if !found {
			conv = Conversation{UserID: ev.UserID}
		}
	}
	dirty, failed := false, false
	if due(conv) {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		tag, err := p.cfg.Messenger.ProfileLanguage(pctx, ev.UserID)
		cancel()
		if err != nil {
			failed = true
			p.log.Warn("profile lookup failed; answering in the language known", "err", err)
		} else {
			if lang := flows.ParseLang(tag); lang != conv.ProfileLang {
				conv.ProfileLang, dirty = lang, true
			}
			conv.ProfileAt = now
		}
	}
	p.mu.Lock()
	entry, ok := p.convs[ev.UserID]
	if ok {
		entry.conv.ProfileLang, entry.conv.ProfileAt = conv.ProfileLang, conv.ProfileAt
		entry.dirty = entry.dirty || dirty
		conv = entry.conv
	} else {
		entry = &convEntry{conv: conv, dirty: dirty, stored: found}
		p.convs[ev.UserID] = entry
	}
	if failed {
		entry.profileTried = now
	}
	p.mu.Unlock()
	return conv, nil
}

func (p *Processor) applyStep(user string, st Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.convs[user]
	if e == nil || st.Seq <= e.conv.Seq {
		return // an old step redelivered: newer state stands
	}
	if e.conv.State != st.State {
		e.dirty = true
	}
	e.conv.State, e.conv.Seq = st.State, st.Seq
}

func (p *Processor) writeTranscript(ctx context.Context, ev Event, st Step) error {
	entries := make([]TranscriptEntry, 0, 1+len(st.Out))
	in := TranscriptEntry{ID: ev.ID + "/in", UserID: ev.UserID, Role: RoleCustomer, Kind: string(ev.Kind), EventID: ev.ID, At: ev.Timestamp}
	switch ev.Kind {
	case EventMessage:
		in.Kind, in.Text = ev.MessageType, ev.Text
	case EventPostback, EventInternal:
		in.Text = ev.Postback
	}
	entries = append(entries, in)
	for i, m := range st.Out {
		entries = append(entries, TranscriptEntry{ID: ev.ID + "/out/" + strconv.Itoa(i), UserID: ev.UserID, Role: RoleBot,
			Kind: "text", Text: m.Text, EventID: ev.ID, At: st.At.Add(time.Duration(i) * time.Microsecond)})
	}
	if err := p.cfg.Journal.AppendTranscript(ctx, entries...); err != nil {
		return fmt.Errorf("transcript: %w", err)
	}
	if p.cfg.OnTranscript != nil {
		p.cfg.OnTranscript(ev.UserID)
	}
	return nil
}

// ForgetIdle drops from the cache the conversations last checkpointed before cutoff that have
// nothing queued, running or unsaved, so that the retention sweeper's deletion of their checkpoints
// is final (a cached copy would otherwise be written back at the customer's next message). It
// returns how many it dropped. A customer who writes again starts afresh from the store.
func (p *Processor) ForgetIdle(cutoff time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for user, e := range p.convs {
		if e.dirty || !e.conv.UpdatedAt.Before(cutoff) {
			continue
		}
		if q := p.queues[user]; q != nil && (q.running || len(q.pending) > 0) {
			continue
		}
		delete(p.convs, user)
		n++
	}
	return n
}
