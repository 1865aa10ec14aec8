package bot

import (
	"context"
	"time"
)

// deliver sends a step's messages exactly once. The step records its plan, decided before it was
// stored: a fresh event's reply token is used (free, and LINE ties the answer to the message); an old
// event, or one whose token turns out unusable, is answered by push with a retry key derived from the
// event ID, so that a resend after a crash is deduplicated by LINE.
//
// recovered is set when the step was stored before (a crash or a redelivery). Then a recorded delivery
// ends the matter; otherwise a planned reply may have gone out before the crash, so it is retried with
// the same token rather than pushed: LINE answering "Invalid reply token" means it was used (or expired
// unused within the ambiguous moment between storing the step and calling LINE, the one case where an
// answer can be lost rather than doubled). Successful replies are not recorded, saving a write per
// event on the hot path; pushes and failures are.
func (p *Processor) deliver(ctx context.Context, ev Event, st Step, recovered bool) error {
	if len(st.Out) == 0 {
		return nil
	}
	recorded := false
	if recovered {
		var err error
		if _, recorded, err = p.cfg.Journal.Delivery(ctx, ev.ID); err != nil {
			return err
		}
	}
	how := deliveryStart(st, p.cfg.Now(), p.cfg.ReplyWindow, recovered, recorded)
	if how == startNothing {
		return nil
	}
	d := Delivery{EventID: ev.ID, UserID: ev.UserID}
	if how == startReply || how == startReplyAgain {
		done := p.replyLoop(ctx, st, how == startReply, &d)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if done {
			p.countAnswer(ev, d)
			if d.Status == DeliverySent && d.Via == "reply" {
				return nil
			}
			return p.record(ctx, d)
		}
	}
	p.pushLoop(ctx, st, &d)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.countAnswer(ev, d)
	return p.record(ctx, d)
}

// countAnswer counts a settled delivery, with its latency from the event's receipt when LINE accepted it.
func (p *Processor) countAnswer(ev Event, d Delivery) {
	switch {
	case d.Status == DeliveryFailed:
		p.metrics.answered(answerFailed, ev.ReceivedAt, p.cfg.Now())
	case d.Via == "reply":
		p.metrics.answered(answerReply, ev.ReceivedAt, p.cfg.Now())
	case d.Via == "reply-assumed":
		p.metrics.answered(answerReplyAssumed, ev.ReceivedAt, p.cfg.Now())
	default:
		p.metrics.answered(answerPush, ev.ReceivedAt, p.cfg.Now())
	}
}

// planFor decides, before a step is stored, how its messages are to leave: by the event's reply token
// while it is fresh (younger than window), otherwise by push.
func planFor(replyToken string, eventAt, now time.Time, window time.Duration) string {
	if replyToken != "" && now.Sub(eventAt) < window {
		return PlanReply
	}
	return PlanPush
}

// start is how the delivery of a stored step begins.
type start int

const (
	startNothing    start = iota // nothing to send, or a delivery is already recorded
	startReply                   // use the reply token, the first time
	startReplyAgain              // a reply may have gone out before a crash: try the same token again
	startPush                    // push with the step's retry keys
)

// deliveryStart decides how a step's delivery begins. recovered: the step was stored before (a crash
// or a redelivery); recorded: a delivery outcome is on record. A planned reply is tried while the
// token is fresh; after a crash it is tried again whatever its age, because only LINE knows whether
// the first attempt went out ("Invalid reply token" then means it did), and a push could double it.
func deliveryStart(st Step, now time.Time, window time.Duration, recovered, recorded bool) start {
	switch {
	case len(st.Out) == 0 || recorded:
		return startNothing
	case st.Plan == PlanReply && recovered:
		return startReplyAgain
	case st.Plan == PlanReply && now.Sub(st.EventAt) < window:
		return startReply
	}
	return startPush
}

// replyLoop tries the reply token while it is fresh. It returns true when the matter is settled (sent,
// assumed sent, or refused for good) and false when the push path must take over.
func (p *Processor) replyLoop(ctx context.Context, st Step, first bool, d *Delivery) bool {
	for attempt := 0; ; attempt++ {
		d.Attempts++
		r := p.cfg.Messenger.Reply(ctx, st.ReplyToken, st.Out)
		switch r.Outcome {
		case Accepted:
			d.Status, d.Via, d.RequestIDs = DeliverySent, "reply", []string{r.RequestID}
			return true
		case InvalidToken:
			if !first {
				// Our earlier attempt used the token; its answer was delivered.
				d.Status, d.Via = DeliverySent, "reply-assumed"
				return true
			}
			p.log.Info("reply token refused; pushing instead", "event", st.EventID)
			return false
		case Permanent:
			d.Status, d.Via, d.Detail = DeliveryFailed, "reply", errText(r)
			return true
		case Retryable:
			wait := backoff(p.cfg.RetryBase, p.cfg.RetryMax, attempt, r.RetryAfter)
			if first && p.cfg.Now().Add(wait).Sub(st.EventAt) >= p.cfg.ReplyWindow {
				return false // the token will be stale: push
			}
			p.metrics.LINERetry(EndpointReply)
			p.log.Warn("reply failed; retrying", "event", st.EventID, "status", r.Status, "attempt", attempt+1)
			if !p.sleep(wait) {
				return true
			}
		}
	}
}

// pushLoop pushes the messages (at most five per call, one retry key per call) until LINE accepts,
// refuses for good, or GiveUpAfter passes.
func (p *Processor) pushLoop(ctx context.Context, st Step, d *Delivery) {
	d.Via = "push"
	deadline := p.cfg.Now().Add(p.cfg.GiveUpAfter)
	for chunk := 0; chunk*maxMessagesPerCall < len(st.Out); chunk++ {
		msgs := st.Out[chunk*maxMessagesPerCall : min(len(st.Out), (chunk+1)*maxMessagesPerCall)]
		key := RetryKey(st.EventID, chunk)
		for attempt := 0; ; attempt++ {
			d.Attempts++
			r := p.cfg.Messenger.Push(ctx, st.UserID, key, msgs)
			if r.Outcome == Accepted || r.Outcome == AlreadyDone {
				d.RequestIDs = append(d.RequestIDs, r.RequestID)
				break
			}
			if r.Outcome != Retryable || p.cfg.Now().After(deadline) {
				d.Status, d.Detail = DeliveryFailed, errText(r)
				p.log.Warn("push failed for good", "event", st.EventID, "status", r.Status)
				return
			}
			p.metrics.LINERetry(EndpointPush)
			p.log.Warn("push failed; retrying", "event", st.EventID, "status", r.Status, "attempt", attempt+1)
			if !p.sleep(backoff(p.cfg.RetryBase, p.cfg.RetryMax, attempt, r.RetryAfter)) {
				return
			}
		}
	}
	d.Status = DeliverySent
}

func (p *Processor) record(ctx context.Context, d Delivery) error {
	d.At = p.cfg.Now()
	return p.cfg.Journal.RecordDelivery(ctx, d)
}

func errText(r CallResult) string {
	if r.Err == nil {
		return ""
	}
	s := r.Err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
