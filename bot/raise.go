package bot

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Inboxer stores events durably (the Journal's inbox).
type Inboxer interface {
	AddToInbox(ctx context.Context, events []Event) ([]Event, error)
}

// Raiser puts internal events into the pipeline: the service telling a customer something (a staff
// member joined, a request changed) is stored in the inbox like a webhook event and answered exactly
// once, by push, in the customer's language, in order with the customer's own events.
type Raiser struct {
	Inbox Inboxer
	Now   func() time.Time
	Log   *slog.Logger
	disp  atomic.Pointer[Enqueuer]
}

// SetDispatcher sets the processor that takes raised events (wiring: it is built after the Raiser).
func (r *Raiser) SetDispatcher(d Enqueuer) { r.disp.Store(&d) }

// Raise stores an internal event for a customer and hands it to the processor. id names the event:
// raising the same id again stores and answers nothing new. The change it reports is saved already,
// so a caller that goes away (a browser that reloads) must not leave it untold, and a store that
// fails for a moment is tried again (a stored but unanswered event is handed on again by the inbox,
// so a retry cannot double it). Bounded by raiseTimeout, so a stalled store does not hold a caller
// forever.
func (r *Raiser) Raise(ctx context.Context, userID, id, data string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), raiseTimeout)
	defer cancel()
	now := r.Now()
	ev := Event{ID: id, Kind: EventInternal, Type: "internal", UserID: userID, Timestamp: now, ReceivedAt: now,
		Postback: data}
	for attempt := 0; ; attempt++ {
		fresh, err := r.Inbox.AddToInbox(ctx, []Event{ev})
		if err == nil {
			if d := r.disp.Load(); d != nil {
				err = (*d).Enqueue(fresh) // not placed: stored again (a no-op) and handed on again
			}
			if err == nil {
				return nil
			}
		}
		t := time.NewTimer(backoff(100*time.Millisecond, 2*time.Second, attempt, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			r.Log.Error("internal event not stored or not placed; the customer is not told", "event", id, "err", err)
			return err
		case <-t.C:
		}
	}
}

// raiseTimeout bounds how long Raise keeps trying to store an internal event.
const raiseTimeout = 20 * time.Second
