package insight

import (
	"reflect"
	"testing"
	"time"

	"github.com/enemane/privacybot/flows"
)

// officeHours is open Monday to Friday, 09:00–18:00 in Japan (the figures' business hours).
type officeHours struct{}

func (officeHours) Open(from, to time.Time) time.Duration {
	var total time.Duration
	for d := from.In(tokyo).Truncate(time.Hour); d.Before(to); d = d.Add(time.Minute) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday && d.Hour() >= 9 && d.Hour() < 18 && !d.Before(from) {
			total += time.Minute
		}
	}
	return total
}

// TestComputeFigures counts three days by hand: Sunday 5, Monday 6 and Tuesday 7 April 2026, now
// being Tuesday noon in Japan.
func TestComputeFigures(t *testing.T) {
	now := jt("2026-04-07 12:00")
	w := NewWindow(ByDay, now, tokyo, 3)
	q := func(at, intent, topic, fb string) Question {
		return Question{At: jt(at), Intent: intent, Topic: topic, Feedback: fb}
	}
	recs := Records{Questions: []Question{
		q("2026-04-04 23:59", "faq.1", "1.def", FeedbackHelped), // before the window
		q("2026-04-05 00:00", "faq.5", "5.id", FeedbackHelped),
		q("2026-04-05 09:00", "faq.5", "5.id", FeedbackNotHelped),
		q("2026-04-05 10:00", "none", "", ""),
		q("2026-04-05 11:00", "optout", "", ""),
		q("2026-04-06 09:00", "faq.13", "13.retention", FeedbackHelped),
		q("2026-04-06 10:00", "complaint", "", ""),
		q("2026-04-06 11:00", "none", "", ""),
		q("2026-04-06 12:00", "none", "", ""),
		q("2026-04-06 13:00", "menu", "", ""),
		q("2026-04-06 14:00", "disclosure", "", ""),
		q("2026-04-07 09:00", "faq.5", "5.id", ""),
		q("2026-04-07 10:00", "human", "", ""),
		q("2026-04-08 00:00", "none", "", ""), // after it
	}}
	e := func(id, reason, status, created, claimed, closed, rating string) Escalation {
		x := Escalation{ID: id, Reason: reason, Status: status, Rating: rating, CreatedAt: jt(created)}
		if claimed != "" {
			x.ClaimedAt = jt(claimed)
		}
		if closed != "" {
			x.ClosedAt = jt(closed)
		}
		return x
	}
	e0 := e("E0", "human", EscalationQueued, "2026-04-01 17:00", "", "", "")
	e3 := e("E3", "misses", EscalationAssigned, "2026-04-06 17:00", "2026-04-07 09:20", "", "")
	e5 := e("E5", "complaint", EscalationQueued, "2026-04-07 09:00", "", "", "")
	recs.Escalations = []Escalation{
		e("E1", "complaint", EscalationClosed, "2026-04-05 20:00", "2026-04-06 09:30", "2026-04-06 10:30", RatingGood),
		e("E2", "human", EscalationClosed, "2026-04-06 10:00", "2026-04-06 10:10", "2026-04-06 12:00", RatingBad),
		e3,
		e("E4", "human", EscalationCancelled, "2026-04-06 11:00", "", "2026-04-06 11:05", ""),
		e5,
		e("E6", "human", EscalationClosed, "2026-04-07 08:00", "", "2026-04-07 09:15", RatingOK),
		e("E7", "staff_test", EscalationClosed, "2026-04-06 09:00", "2026-04-06 11:00", "2026-04-06 13:00", ""),
	}
	recs.Open = []Escalation{e0, e3, e5}
	c := func(at string, out bool, ch flows.Channels) ConsentChange {
		return ConsentChange{At: jt(at), OptOut: out, Channels: ch}
	}
	recs.Consent = []ConsentChange{
		c("2026-04-04 12:00", true, flows.ChanPhone),
		c("2026-04-05 12:00", true, flows.ChanPhone|flows.ChanMail),
		c("2026-04-06 12:00", true, flows.ChanLINE),
		c("2026-04-06 13:00", false, flows.ChanMail),
		c("2026-04-06 14:00", true, flows.ChanAll),
		c("2026-04-07 09:00", false, flows.ChanPhone|flows.ChanLINE),
	}
	r := func(id string, kinds flows.RequestKind, st flows.RequestStatus, received, due string) Request {
		return Request{ID: id, Kinds: kinds, Status: st, ReceivedAt: jt(received), DueAt: jt(due)}
	}
	r2 := r("R2", flows.KindDeletion, flows.StatusReceived, "2026-04-06 15:00", "2026-04-09 23:59")
	r3 := r("R3", flows.KindDisclosure, flows.StatusInProgress, "2026-03-20 10:00", "2026-04-03 23:59")
	r4 := r("R4", flows.KindErasure, flows.StatusDocumentsNeeded, "2026-03-30 10:00", "2026-04-10 23:59")
	r7 := r("R7", flows.KindPurposeNotice, flows.StatusReceived, "2026-04-07 10:00", "2026-04-07 11:00")
	recs.Requests = []Request{
		r("R1", flows.KindDisclosure|flows.KindCorrection, flows.StatusCompleted, "2026-04-05 10:00", "2026-04-19 23:59"),
		r2, r3, r4,
		r("R5", flows.KindDisclosure, flows.StatusVerified, "2026-03-31 10:00", "2026-04-14 23:59"),
		r("R6", flows.KindDisclosure, flows.StatusWithdrawn, "2026-04-07 09:00", "2026-04-21 23:59"),
		r7,
	}

	f := Compute(recs, w, now, officeHours{})
	eq := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", what, got, want)
		}
	}
	m := time.Minute
	// Questions: policy, optout, request, staff, other, none.
	fq := f.Questions
	eq("questions by group", fq.ByGroup, [][]int{{2, 1, 0, 0, 0, 1}, {1, 0, 1, 1, 1, 2}, {1, 0, 0, 1, 0, 0}})
	eq("asked", fq.Asked, []int{4, 6, 2})
	eq("unanswered", fq.Unanswered, []Rate{{1, 4}, {2, 6}, {0, 2}})
	eq("helped", fq.Helped, []Rate{{1, 2}, {1, 1}, {0, 0}})
	eq("window", []any{fq.AskedAll, fq.UnansweredAll, fq.HelpedAll}, []any{12, Rate{3, 12}, Rate{2, 3}})
	eq("topics", fq.Topics, []TopicCount{{"5.id", 3, Rate{1, 2}}, {"13.retention", 1, Rate{1, 1}}})

	fe := f.Escalations
	eq("reasons", fe.Reasons, []string{"complaint", "human", "misses", "staff_test"})
	eq("by reason", fe.ByReason, [][]int{{1, 0, 0, 0}, {0, 2, 1, 1}, {1, 1, 0, 0}})
	eq("created", []any{fe.Created, fe.CreatedAll}, []any{[]int{1, 4, 2}, 7})
	// E1 30 min (Sunday closed); E2 10 min, E3 1 h 20 min (Monday 1 h, Tuesday 20 min), E7 2 h; E6 15 min
	// (closed from the queue at 09:15).
	eq("first response", fe.FirstResponse, []Spread{{1, 30 * m, 30 * m}, {3, 80 * m, 120 * m}, {1, 15 * m, 15 * m}})
	eq("first response, window", fe.FirstResponseAll, Spread{5, 30 * m, 120 * m})
	// E1 1 h 30 min; E2 2 h, E7 4 h; E6 15 min.
	eq("resolution", fe.Resolution, []Spread{{1, 90 * m, 90 * m}, {2, 180 * m, 240 * m}, {1, 15 * m, 15 * m}})
	eq("resolution, window", fe.ResolutionAll, Spread{4, 105 * m, 240 * m})
	eq("ratings", fe.Ratings, [][]int{{1, 0, 0}, {0, 0, 1}, {0, 1, 0}})
	eq("satisfied", []any{fe.Satisfied, fe.RatingsAll, fe.SatisfiedAll}, []any{[]Rate{{1, 1}, {0, 1}, {0, 1}}, []int{1, 1, 1}, Rate{1, 3}})
	// Waiting: E0 since Wednesday 17:00 (Wed 1 h, Thu 9, Fri 9, Mon 9, Tue 3) and E5 (3 h).
	eq("now", []any{fe.Waiting, fe.InProgress, fe.LongestWait}, []any{2, 1, 31 * time.Hour})

	// Channels: phone, mail, email, visit, campaign, survey, line.
	fc := f.Consent
	eq("opt-outs", fc.OptOuts, [][]int{{1, 1, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 2}, {0, 0, 0, 0, 0, 0, 0}})
	eq("opt-ins", fc.OptIns, [][]int{{0, 0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0, 1}})
	eq("opt-outs, window", fc.OptOutAll, []int{2, 2, 1, 1, 1, 1, 2})
	eq("opt-ins, window", fc.OptInAll, []int{1, 1, 0, 0, 0, 0, 1})

	// Kinds: disclosure, purpose notice, correction, addition, deletion, suspension, erasure, stop
	// third party, third-party records. Statuses: received, documents needed, verified, rejected, in
	// progress, completed, refused, withdrawn.
	fr := f.Requests
	eq("requests by kind", fr.ByKind, [][]int{{1, 0, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0, 0, 0, 0}})
	eq("received", []any{fr.Received, fr.ReceivedAll}, []any{[]int{1, 1, 2}, 4})
	eq("status of the window's", fr.StatusAll, []int{2, 0, 0, 0, 0, 1, 0, 1})
	eq("disclosure by status", fr.KindStatus[0], []int{0, 0, 0, 0, 0, 1, 0, 1})
	eq("deletion by status", fr.KindStatus[4], []int{1, 0, 0, 0, 0, 0, 0, 0})
	eq("open, due soon, overdue", []int{fr.Open, fr.DueSoon, fr.Overdue}, []int{5, 2, 2})
	eq("attention", fr.Attention, []Request{r3, r7, r2, r4})
}

// TestComputeEmpty: no records give zeros (and no rates), with every bucket present.
func TestComputeEmpty(t *testing.T) {
	f := Compute(Records{}, NewWindow(ByMonth, jt("2026-04-07 12:00"), tokyo, 0), jt("2026-04-07 12:00"), nil)
	if len(f.Questions.Asked) != 12 || len(f.Escalations.FirstResponse) != 12 || len(f.Consent.OptOuts) != 12 || len(f.Requests.ByKind) != 12 {
		t.Fatalf("buckets missing: %+v", f)
	}
	if _, ok := f.Questions.UnansweredAll.Value(); ok || f.Escalations.FirstResponseAll.N != 0 || f.Requests.Open != 0 {
		t.Errorf("figures from nothing: %+v", f)
	}
}

// TestWallClock: without business hours a duration is wall time.
func TestWallClock(t *testing.T) {
	now := jt("2026-04-07 12:00")
	recs := Records{Escalations: []Escalation{{ID: "E", Reason: "human", Status: EscalationClosed,
		CreatedAt: jt("2026-04-06 20:00"), ClaimedAt: jt("2026-04-07 08:00"), ClosedAt: jt("2026-04-07 09:00")}}}
	f := Compute(recs, NewWindow(ByDay, now, tokyo, 0), now, nil)
	if f.Escalations.FirstResponseAll.Median != 12*time.Hour || f.Escalations.ResolutionAll.Median != 13*time.Hour {
		t.Errorf("wall time: %+v %+v", f.Escalations.FirstResponseAll, f.Escalations.ResolutionAll)
	}
}
