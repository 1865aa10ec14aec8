package bot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/enemane/privacybot/flows"
)

// conversation returns the customer's cached conversation, loading the checkpoint (and, the first time,
// the profile language) on a miss.
func (p *Processor) conversation(ctx context.Context, ev Event) (Conversation, error) {
	p.mu.Lock()
	e, cached := p.convs[ev.UserID]
	var conv Conversation
	if cached {
		conv = e.conv
	}
	p.mu.Unlock()
	// The profile language is read at first contact and again at every follow (adding or unblocking
	// the account is when a customer is likeliest to have changed phones or settings).
	refresh := ev.Kind == EventFollow
	if cached && !refresh {
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
	dirty := false
	if (conv.ProfileLang == "" || refresh) && ev.Kind != EventUnfollow {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		tag, err := p.cfg.Messenger.ProfileLanguage(pctx, ev.UserID)
		cancel()
		if err != nil {
			p.log.Warn("profile lookup failed; answering in Japanese", "err", err)
		} else if lang := flows.ParseLang(tag); lang != conv.ProfileLang {
			conv.ProfileLang, dirty = lang, true
		}
	}
	p.mu.Lock()
	if e, ok := p.convs[ev.UserID]; ok {
		e.conv.ProfileLang = conv.ProfileLang
		e.dirty = e.dirty || dirty
		conv = e.conv
	} else {
		p.convs[ev.UserID] = &convEntry{conv: conv, dirty: dirty, stored: found}
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
