package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/enemane/privacybot/flows"
)

// Messenger is what the processor needs of the Messaging API.
type Messenger interface {
	Reply(ctx context.Context, token string, msgs []Message) CallResult
	Push(ctx context.Context, to, retryKey string, msgs []Message) CallResult
	ProfileLanguage(ctx context.Context, userID string) (string, error)
}

// Processor handles inbox events after they are acknowledged: one goroutine per customer with pending
// events (so a customer's events run one at a time, in timestamp order, while customers run in
// parallel), each event turned into a stored Step and then delivered exactly once.
type Processor struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	queues map[string]*userQueue
	convs  map[string]*convEntry
	// known holds every event taken and not yet out of the inbox (queued, running, or handled and
	// waiting for its checkpoint), and for one more checkpoint round those just released (a webhook
	// handler may still be between the inbox and Enqueue with a redelivery of one): a second Enqueue
	// of any of them is ignored.
	known    map[string]struct{}
	released []string       // left the inbox at the last checkpoint round; forgotten at the next
	handled  []handledEvent // events fully handled, to leave the inbox after their state is checkpointed
	stopped  bool

	sem     chan struct{}
	wg      sync.WaitGroup
	runCtx  context.Context
	cancel  context.CancelFunc
	ckDone  chan struct{}
	ckStop  chan struct{}
	metrics *Metrics
	// loops are the shared mode's lease renewal and inbox scan, stopped after the last checkpoint.
	loops     sync.WaitGroup
	loopsStop context.CancelFunc
	// active is, in shared mode, when each held customer's last event was handled (releaseIdle).
	active map[string]time.Time
	// acq serialises the lease attempts of a customer (acqLock).
	acq [64]sync.Mutex
	// nudged marks the held customers whose nudges the nudge loop took, until their worker reads the
	// inbox.
	nudged map[string]struct{}
}

type handledEvent struct{ id, user string }

type userQueue struct {
	pending []Event
	running bool
	// gen counts the events handed over.
	gen int
	// fresh and reload (shared mode) ask the worker to read the customer's events from the inbox
	// first: fresh, it has just taken them and drops what it cached of them.
	fresh, reload bool
}

// insert adds ev in timestamp order; equal timestamps keep arrival order.
func (q *userQueue) insert(ev Event) {
	i, _ := slices.BinarySearchFunc(q.pending, ev, func(a, b Event) int {
		return a.Timestamp.Compare(b.Timestamp)
	})
	for i < len(q.pending) && q.pending[i].Timestamp.Equal(ev.Timestamp) {
		i++
	}
	q.pending = slices.Insert(q.pending, i, ev)
	q.gen++
}

type convEntry struct {
	conv   Conversation
	dirty  bool
	stored bool // a checkpoint exists in the store
	// profileTried is when a profile lookup last failed (see profileRetry).
	profileTried time.Time
}

// Start resumes whatever the inbox still holds (events acknowledged before a crash or a stop) and starts
// the checkpointer.
func (p *Processor) Start(ctx context.Context) error {
	if p.shared() {
		// Nothing to resume by itself: the scan takes every customer with events and no live holder.
		lctx, cancel := context.WithCancel(context.Background())
		p.loopsStop = cancel
		p.loops.Go(func() { p.cfg.Leases.RenewEvery(lctx) })
		p.loops.Go(func() { p.scanLoop(lctx) })
		p.loops.Go(func() { p.nudgeLoop(lctx) })
		go p.checkpointLoop()
		return nil
	}
	evs, err := p.cfg.Journal.Inbox(ctx)
	if err != nil {
		return err
	}
	if len(evs) > 0 {
		p.log.Info("resuming unfinished events", "count", len(evs))
	}
	go p.checkpointLoop()
	p.Enqueue(evs)
	return nil
}

// Enqueue schedules events for processing. Events of one customer are processed in timestamp order.
// An event the processor already has (queued, running, or handled but still in the inbox) is ignored,
// so the inbox may hand an event over again whenever it cannot tell whether it was dispatched. With
// several instances, it returns ErrNotPlaced when a customer's events could neither be taken here nor
// their holder told: they must not be acknowledged.
func (p *Processor) Enqueue(evs []Event) error {
	if p.shared() {
		return p.enqueueShared(evs) // takes leases (store calls, outside p.mu); checks stopped itself
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil // they are in the inbox and resume at the next start
	}
	for _, ev := range evs {
		if _, ok := p.known[ev.ID]; ok {
			continue
		}
		p.known[ev.ID] = struct{}{}
		q := p.queues[ev.UserID]
		if q == nil {
			q = &userQueue{}
			p.queues[ev.UserID] = q
		}
		q.insert(ev)
		if !q.running {
			q.running = true
			p.wg.Add(1)
			go p.work(ev.UserID)
		}
	}
	return nil
}

func (p *Processor) work(user string) {
	defer p.wg.Done()
	p.sem <- struct{}{}
	defer func() { <-p.sem }()
	if p.shared() {
		p.workShared(user)
		return
	}
	for {
		p.mu.Lock()
		q := p.queues[user]
		if p.stopped || len(q.pending) == 0 {
			q.running = false
			if len(q.pending) == 0 {
				delete(p.queues, user)
			}
			p.mu.Unlock()
			return
		}
		ev := q.pending[0]
		q.pending = q.pending[1:]
		p.mu.Unlock()

		if !p.handleRetrying(ev, nil) {
			return
		}
	}
}

// handleRetrying handles ev, retrying while the store fails. It returns false when the worker must
// stop (the processor is stopping, or held() turned false: the event stays in the inbox).
func (p *Processor) handleRetrying(ev Event, held func() bool) bool {
	for attempt := 0; ; attempt++ {
		err := p.handle(p.runCtx, ev)
		if err == nil {
			return true
		}
		if p.runCtx.Err() != nil {
			return false // stopping: the event stays in the inbox
		}
		if held != nil && !held() {
			return false
		}
		p.metrics.processingError()
		p.log.Warn("event processing failed; retrying", "event", ev.ID, "attempt", attempt+1, "err", err)
		if !p.sleep(backoff(p.cfg.RetryBase, p.cfg.RetryMax, attempt, 0)) {
			return false
		}
	}
}

// Stop stops taking events, lets the events in progress finish until ctx ends (then interrupts them:
// they stay in the inbox and resume at the next start), and writes the last checkpoint.
func (p *Processor) Stop(ctx context.Context) {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		p.cancel()
		<-done
	}
	p.cancel()
	close(p.ckStop)
	<-p.ckDone
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if p.shared() {
		// Hand the customers over now rather than at their leases' expiry: their unfinished events are
		// in the inbox, and the other instances' scans take them within a second.
		p.loopsStop()
		p.loops.Wait()
		held := p.cfg.Leases.Held()
		if err := p.cfg.Leases.Release(sctx, held); err != nil {
			p.log.Warn("customer leases not released; other instances take them when they expire", "err", err)
		} else {
			p.metrics.leasesReleased(len(held))
			p.log.Info("customer leases handed over", "customers", len(held))
		}
	}
	if err := p.cfg.Journal.SealInbox(sctx); err != nil {
		p.log.Warn("inbox not sealed; the next start resumes and skips the handled events", "err", err)
	}
}

func (p *Processor) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.runCtx.Done():
		return false
	}
}

// handle processes one event to the end: step stored, messages delivered (or recorded as failed).
// An error means the store failed; the caller retries the same event.
func (p *Processor) handle(ctx context.Context, ev Event) error {
	start := p.cfg.Now()
	if !ev.Answerable() && ev.Kind != EventUnfollow {
		p.markHandled(ev)
		p.metrics.eventHandled(handledIgnored)
		return nil
	}
	// Internal events (a staff member joined, the chat was handed back) are the service talking, not
	// the customer: they are answered even while staff own the chat.
	if p.cfg.Handoff != nil && ev.Kind != EventUnfollow && ev.Kind != EventInternal && p.cfg.Handoff.OwnedByStaff(ev.UserID) {
		// Staff own the chat: the message joins the transcript (and so the escalation); the bot
		// says nothing. The transcript is how the message reaches staff, so a failed write is retried
		// like any other processing failure.
		if err := p.writeTranscript(ctx, ev, Step{}); err != nil {
			return err
		}
		p.markHandled(ev)
		p.metrics.eventHandled(handledSilenced)
		return nil
	}
	conv, err := p.conversation(ctx, ev)
	if err != nil {
		return err
	}
	lang := answerLang(conv, ev)
	in := p.input(ev, lang)
	res := p.cfg.Step(conv.State, in)
	conv.State = res.State
	if conv.State.Lang != "" {
		lang = conv.State.Lang // chosen in the chat (now, or before)
	}
	var out []Message
	if ev.Kind != EventUnfollow {
		out, err = p.cfg.Renderer.Render(lang, res.Replies)
		if err != nil {
			p.log.Error("rendering replies failed", "event", ev.ID, "err", err)
			out, _ = p.cfg.Renderer.Render(lang, []flows.Reply{{ID: "error.generic"}})
		}
	}
	seq := max(conv.Seq+1, p.cfg.Now().UnixNano())
	st := Step{EventID: ev.ID, UserID: ev.UserID, Seq: seq, State: res.State, Lang: lang, Out: out,
		Effects: res.Effects, ReplyToken: ev.ReplyToken, EventAt: ev.Timestamp, At: p.cfg.Now(),
		Plan: planFor(ev.ReplyToken, ev.Timestamp, p.cfg.Now(), p.cfg.ReplyWindow)}
	err = p.cfg.Journal.CommitStep(ctx, st)
	dup := errors.Is(err, ErrDuplicate)
	switch {
	case dup:
		// Processed before (a crash after the step, or a redelivery): the stored outcome stands.
		if st, err = p.cfg.Journal.Step(ctx, ev.ID); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	// Lines are keyed by the event, so writing them again after a crash or a failure is harmless.
	if err := p.writeTranscript(ctx, ev, st); err != nil {
		return err
	}
	p.applyStep(ev.UserID, st)
	if len(st.Effects) > 0 {
		if p.cfg.Effects == nil {
			p.log.Error("step has effects but no effect sink is wired", "event", ev.ID)
		} else if err := p.cfg.Effects.Apply(ctx, st); err != nil {
			return err
		}
	}
	if err := p.deliver(ctx, ev, st, dup); err != nil {
		return err
	}
	p.markHandled(ev)
	if dup {
		p.metrics.eventHandled(handledReprocessed)
	} else {
		p.metrics.eventHandled(handledProcessed)
	}
	p.log.Debug("event handled", "event", ev.ID, "kind", ev.Kind, "messages", len(st.Out),
		"ms", p.cfg.Now().Sub(start).Milliseconds(), "duplicate", dup)
	return nil
}

func (p *Processor) markHandled(ev Event) {
	p.mu.Lock()
	p.handled = append(p.handled, handledEvent{id: ev.ID, user: ev.UserID})
	if p.shared() {
		p.active[ev.UserID] = p.cfg.Now()
	}
	p.mu.Unlock()
}

func backoff(base, maxD time.Duration, attempt int, hint time.Duration) time.Duration {
	d := base << min(attempt, 16)
	if d > maxD || d <= 0 {
		d = maxD
	}
	// Jitter in [d/2, d) keeps retries of many customers from marching in step.
	d = d/2 + time.Duration(time.Now().UnixNano()%int64(d/2+1))
	return max(d, hint)
}
