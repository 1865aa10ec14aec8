package consent

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// recordAttempts bounds how often Record picks a Seq that another instance takes first. Each loss is
// a race that its catch-up makes even again (two round trips against the other writer's two), so 32
// losses in a row take a flood no desk's opt-outs make; the caller retries later.
const recordAttempts = 32

// Apply implements bot.EffectSink: it records the consent effects of a step, once per (event, effect
// index), and queues them for the marketing webhook.
func (c *Consents) Apply(ctx context.Context, st bot.Step) error {
	for i, e := range st.Effects {
		if e.Kind != flows.EffectConsent || e.Consent == nil {
			continue
		}
		ch := e.Consent
		rec := Record{ID: st.EventID + "/" + strconv.Itoa(i), Subject: LINESubject(st.UserID), Action: ch.Action,
			Channels: ch.Channels & flows.ChanAll, Name: ch.Name, Phone: ch.Phone, Email: ch.Email, Postal: ch.Postal,
			Customer: ch.Customer, Source: ch.Source, WordingID: ch.WordingID, WordingLang: ch.Lang,
			Reference: ch.Reference, At: ch.At, EventID: st.EventID}
		if rec.WordingLang == "" {
			rec.WordingLang = st.Lang
		}
		if rec.At.IsZero() {
			rec.At = st.EventAt
		}
		if rec.WordingID != "" && c.render != nil {
			text, err := c.render(rec.WordingLang, rec.WordingID, ch.WordingData)
			if err != nil {
				c.log.Error("rendering consent wording failed", "event", st.EventID, "err", err)
			}
			rec.WordingText = text
		}
		if err := c.Record(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

// ErrInvalid is returned for a record that lacks a subject, an action or channels.
var ErrInvalid = errors.New("consent: subject, action and channels are required")

// Record appends a record to the history (a record whose ID is stored already is not stored again),
// updates the current state and queues the webhook delivery. It is visible to readers when it returns.
//
// Several instances write one history, and the API's cursor (since=Seq) must never pass a record
// that commits later. Seq is unique in the store (a unique index), and a writer picks lastSeq+1 only
// after catching up with the store (folding every record above the Seq it holds: one query on the seq
// index, usually empty), holding writeMu. So a Seq is inserted only after its writer has seen every
// lower Seq committed: Seqs commit in their order, and a reader that has passed Seq N finds every
// later record above N. (A Seq freed by the retention sweep is never picked again: the sweep keeps the
// highest record, and a writer that catches up reads past it.) Two instances that pick the same Seq:
// the second insert fails with a duplicate key, and the writer catches up, which folds what took the
// key: its own ID (stored by an attempt whose answer was lost, or by another instance applying the
// same step: the stored record is adopted) or the Seq (another instance's record: it picks again).
// Before the first Refresh the process takes itself to be the only writer and picks without
// catching up first; a collision still catches up, so this costs a retry at most, never the order.
//
// The webhook is queued after the insert, with the Seq stored. Queued before it (as when one process
// wrote), a Seq taken by another instance meanwhile would leave a payload with a wrong Seq in the
// outbox, which, idempotent by record ID, would never take the corrected one. The gap this opens (a
// record stored, the process gone before queueing) is closed by the caller's retry: the pipeline
// applies a step's effects again until its event is handled, a staff entry is resubmitted with its
// entry ID, and Record, finding the ID held, queues the webhook again (a no-op if it is queued).
func (c *Consents) Record(ctx context.Context, rec Record) error {
	if rec.ID == "" || rec.Subject == "" || rec.Channels == 0 ||
		(rec.Action != flows.ConsentOptOut && rec.Action != flows.ConsentOptIn) {
		return ErrInvalid
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.shared {
		if err := c.catchUp(ctx); err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
	}
	for attempt := 1; ; attempt++ {
		c.mu.RLock()
		_, done := c.ids[rec.ID]
		next := c.lastSeq + 1
		c.mu.RUnlock()
		if done {
			// Recorded by an earlier call (its webhook maybe never queued) or by another instance.
			return c.requeue(ctx, rec.ID)
		}
		rec.Seq, rec.RecordedAt = next, c.now().UTC()
		err := c.store.InsertConsent(ctx, rec)
		if err == nil {
			break
		}
		if !errors.Is(err, bot.ErrDuplicate) {
			return fmt.Errorf("record consent: %w", err)
		}
		// A duplicate key: the ID (stored by an attempt whose answer was lost, or by another instance
		// applying the same step) or the Seq (another instance committed it after this one caught up).
		// Catching up folds either, in Seq order: the ID is then held (the loop adopts the stored
		// record), or lastSeq has moved past the Seq taken and the loop picks again at once.
		if err := c.catchUp(ctx); err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
		c.mu.RLock()
		_, done = c.ids[rec.ID]
		moved := c.lastSeq >= next
		c.mu.RUnlock()
		if !done && !moved {
			// Neither showed (the record with the ID has a Seq this index missed): ask by ID.
			stored, err := c.store.ConsentByID(ctx, rec.ID)
			switch {
			case err == nil:
				c.fold(stored)
				continue
			case !errors.Is(err, bot.ErrNotFound):
				return fmt.Errorf("record consent: %w", err)
			}
		}
		if !done && attempt == recordAttempts {
			return fmt.Errorf("record consent: seq %d taken by another instance; %d attempts: try again", next, attempt)
		}
	}
	c.fold(rec)
	c.log.Info("consent recorded", "id", rec.ID, "seq", rec.Seq, "action", rec.Action, "channels", rec.Channels.Names(),
		"source", rec.Source)
	if c.webhooks == nil {
		return nil
	}
	// Holding writeMu, nothing folds after rec: the subject's state is the one right after it.
	c.mu.RLock()
	now := c.subjects[rec.Subject].OptedOut()
	c.mu.RUnlock()
	return c.queueWebhook(ctx, rec, now)
}

// requeue queues the webhook of a held record again (the outbox ignores it when queued already), with
// the subject's state right after it. Rare (a step applied again), so the scan of the history is fine.
func (c *Consents) requeue(ctx context.Context, id string) error {
	if c.webhooks == nil {
		return nil
	}
	c.mu.RLock()
	seq := c.ids[id]
	i := sort.Search(len(c.records), func(i int) bool { return c.records[i].Seq >= seq })
	if i == len(c.records) || c.records[i].ID != id {
		c.mu.RUnlock()
		return nil
	}
	rec := c.records[i]
	st := State{Subject: rec.Subject}
	for j := 0; j <= i; j++ {
		if c.records[j].Subject == rec.Subject {
			st.apply(&c.records[j])
		}
	}
	c.mu.RUnlock()
	return c.queueWebhook(ctx, rec, st.OptedOut())
}
