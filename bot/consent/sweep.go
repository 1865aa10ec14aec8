package consent

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/enemane/privacybot/flows"
)

// sweepBatch is how many records one DeleteConsents call deletes at most.
const sweepBatch = 1000

// Sweep implements retention.Target for flows.DataConsent (policy item 13). A record in force is kept
// always: an opt-out must be honoured and its record is the proof. A record that is wholly superseded
// (superseded) goes once it has been superseded since before cutoff. Sweep decides under the lock,
// deletes in the store, then derives the state again from the records left (as Open would), so that
// nothing in memory still holds what only a deleted record gave (a name, a phone number, an e-mail
// address). It runs alone with Record and Refresh (writeMu): a second sweep finds nothing more to
// delete. Other instances drop what it deleted at their next recount (Refresh).
func (c *Consents) Sweep(ctx context.Context, kind flows.DataKind, cutoff time.Time) (int64, error) {
	if kind != flows.DataConsent {
		return 0, fmt.Errorf("consent: cannot sweep %q", kind)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	// Decide on the whole history: other instances may have recorded since this one last caught up.
	if c.shared {
		if err := c.catchUp(ctx); err != nil {
			return 0, err
		}
	}
	// Holding writeMu, nothing else changes the index: it is read without mu from here on.
	ids := superseded(c.records, cutoff)
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	var err error
	gone := make(map[string]bool, len(ids))
	for batch := range slices.Chunk(ids, sweepBatch) {
		if err = ctx.Err(); err != nil {
			break
		}
		k, derr := c.store.DeleteConsents(ctx, batch)
		if derr != nil {
			err = fmt.Errorf("delete consent records: %w", derr)
			break
		}
		n += k
		for _, id := range batch {
			gone[id] = true
		}
	}
	if len(gone) > 0 {
		keep := make([]Record, 0, len(c.records)-len(gone))
		for _, r := range c.records {
			if !gone[r.ID] {
				keep = append(keep, r)
			}
		}
		x := derive(keep, c.lastSeq)
		c.mu.Lock()
		c.index = x
		c.mu.Unlock()
		c.log.Info("consent records swept", "deleted", n, "kept", len(keep))
	}
	return n, err
}

// superseded returns the IDs of the records (sorted by Seq) that may be deleted at cutoff: those of
// which every channel they list has a later statement of the same subject made before cutoff. "Later"
// is State.apply's order (by At, statements at the same moment resolve to opt-out), and it is decided
// by State.apply itself: fold each subject's records made before cutoff; a record no channel of which
// that fold names is superseded, on every channel, by a record made before cutoff. A record made at or
// after cutoff has nothing later made before cutoff, so it stays. What the current state needs stays:
// per channel, the record that wins among all of a subject's records wins among those before cutoff
// too. A record that lists no known channel stays (it supersedes nothing and nothing supersedes it).
//
// The record with the highest Seq stays whatever it says, so that the next Seq after a restart (the
// highest stored, plus one) is never one a cursor has passed: a record can be superseded by one
// recorded earlier but said later (an opt-in sent before a later opt-out, recorded after it).
func superseded(recs []Record, cutoff time.Time) []string {
	var last int64
	old := map[string]*State{}
	for i := range recs {
		r := &recs[i]
		last = max(last, r.Seq)
		if !r.At.Before(cutoff) {
			continue
		}
		st := old[r.Subject]
		if st == nil {
			st = &State{Subject: r.Subject}
			old[r.Subject] = st
		}
		st.apply(r)
	}
	var ids []string
	for i := range recs {
		r := &recs[i]
		chans := r.Channels & flows.ChanAll
		if r.Seq == last || chans == 0 || !r.At.Before(cutoff) {
			continue
		}
		if st := old[r.Subject]; !st.holds(r.Seq, chans) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}
