package insight

import (
	"cmp"
	"slices"
	"time"

	"github.com/enemane/privacybot/flows"
)

// Hours counts open time between two instants (bot.BusinessHours).
type Hours interface {
	Open(from, to time.Time) time.Duration
}

// wallClock counts every minute.
type wallClock struct{}

func (wallClock) Open(from, to time.Time) time.Duration { return max(to.Sub(from), 0) }

// DueSoonDays is how many days before its due date an open request counts as due soon.
const DueSoonDays = 3

// Figures are the dashboard's numbers for one window: per bucket (the slices indexed like
// Window.Buckets) and for the whole window.
type Figures struct {
	Window Window
	Now    time.Time

	Questions   QuestionFigures
	Escalations EscalationFigures
	Consent     ConsentFigures
	Requests    RequestFigures
}

// QuestionFigures: the questions asked, by group; the unanswered share (group none of all) and the
// helped share (helped of the answers the customer judged), both by the time of the question.
type QuestionFigures struct {
	Groups     []string // QuestionGroups
	ByGroup    [][]int  // [bucket][group]
	Asked      []int
	Unanswered []Rate
	Helped     []Rate
	// Window totals.
	AskedAll                 int
	UnansweredAll, HelpedAll Rate
	Topics                   []TopicCount // the policy topics answered, most asked first
}

// TopicCount is how often a policy topic was answered in the window, and how it was judged.
type TopicCount struct {
	Topic  string
	Count  int
	Helped Rate
}

// EscalationFigures: escalations by the time they were created. First response is the time from
// creation to a staff member taking the chat (the customer is told who joined at that moment), or to
// its closing when staff closed it without taking it; cancelled ones have none. Resolution is the
// time from creation to closing (a hand-back closes too); cancelled ones have none. Both count
// business hours. Satisfaction is the ratings of the closed ones.
type EscalationFigures struct {
	Reasons       []string // Reasons, then any other reason seen
	ByReason      [][]int  // [bucket][reason]
	Created       []int
	FirstResponse []Spread
	Resolution    []Spread
	Ratings       [][]int // [bucket][rating] (Ratings order)
	Satisfied     []Rate  // good of rated
	// Window totals.
	CreatedAll                      int
	FirstResponseAll, ResolutionAll Spread
	RatingsAll                      []int
	SatisfiedAll                    Rate
	// Now: queued (waiting for staff) and assigned, and how long the oldest queued one has waited (in
	// business hours).
	Waiting, InProgress int
	LongestWait         time.Duration
}

// ConsentFigures: opt-outs and opt-ins by channel, by the time the customer gave them (a record of
// several channels counts once for each).
type ConsentFigures struct {
	Channels            []flows.Channels // flows.ChannelList
	OptOuts, OptIns     [][]int          // [bucket][channel]
	OptOutAll, OptInAll []int            // [channel]
}

// RequestFigures: personal-data requests received in the window by kind (a request of several kinds
// counts once for each) and their status now; and, of all open requests, those due within
// DueSoonDays days (Japan's calendar days, the due date's day counting as 0) or overdue.
type RequestFigures struct {
	Kinds       []flows.RequestKind   // flows.RequestKindList
	Statuses    []flows.RequestStatus // flows.StatusList
	ByKind      [][]int               // [bucket][kind]
	Received    []int                 // requests (not kinds) per bucket
	ReceivedAll int
	KindStatus  [][]int // [kind][status], requests received in the window
	StatusAll   []int   // [status], requests received in the window
	Open        int
	DueSoon     int
	Overdue     int
	Attention   []Request // the open requests due soon or overdue, soonest due first
}

// Compute counts the dashboard's figures of recs in w at now; durations count the open time of hours
// (nil: every minute).
func Compute(recs Records, w Window, now time.Time, hours Hours) Figures {
	if hours == nil {
		hours = wallClock{}
	}
	return Figures{Window: w, Now: now,
		Questions:   questionFigures(recs.Questions, w),
		Escalations: escalationFigures(recs.Escalations, recs.Open, w, now, hours),
		Consent:     consentFigures(recs.Consent, w),
		Requests:    requestFigures(recs.Requests, w, now)}
}

// grid is a table of counts, rows × cols.
func grid(rows, cols int) [][]int {
	g := make([][]int, rows)
	for i := range g {
		g[i] = make([]int, cols)
	}
	return g
}

func questionFigures(qs []Question, w Window) QuestionFigures {
	groups := QuestionGroups()
	n := len(w.Buckets)
	f := QuestionFigures{Groups: groups, ByGroup: grid(n, len(groups)), Asked: make([]int, n),
		Unanswered: make([]Rate, n), Helped: make([]Rate, n)}
	topics := map[string]*TopicCount{}
	for _, q := range qs {
		b := w.Index(q.At)
		if b < 0 {
			continue
		}
		g := GroupOf(q.Intent)
		f.ByGroup[b][slices.Index(groups, g)]++
		f.Asked[b]++
		f.Unanswered[b].Den++
		if g == GroupNone {
			f.Unanswered[b].Num++
		}
		judged := q.Feedback == FeedbackHelped || q.Feedback == FeedbackNotHelped
		if judged {
			f.Helped[b].Den++
			if q.Feedback == FeedbackHelped {
				f.Helped[b].Num++
			}
		}
		if g == GroupPolicy && q.Topic != "" {
			t := topics[q.Topic]
			if t == nil {
				t = &TopicCount{Topic: q.Topic}
				topics[q.Topic] = t
			}
			t.Count++
			if judged {
				t.Helped.Den++
				if q.Feedback == FeedbackHelped {
					t.Helped.Num++
				}
			}
		}
	}
	for b := range n {
		f.AskedAll += f.Asked[b]
		f.UnansweredAll.add(f.Unanswered[b])
		f.HelpedAll.add(f.Helped[b])
	}
	for _, t := range topics {
		f.Topics = append(f.Topics, *t)
	}
	slices.SortFunc(f.Topics, func(a, b TopicCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Topic, b.Topic))
	})
	return f
}

func escalationFigures(es, open []Escalation, w Window, now time.Time, hours Hours) EscalationFigures {
	n := len(w.Buckets)
	reasons := Reasons()
	for _, e := range es {
		if w.Index(e.CreatedAt) >= 0 && !slices.Contains(reasons, e.Reason) {
			reasons = append(reasons, e.Reason)
		}
	}
	slices.Sort(reasons[len(Reasons()):])
	ratings := Ratings()
	f := EscalationFigures{Reasons: reasons, ByReason: grid(n, len(reasons)), Created: make([]int, n),
		FirstResponse: make([]Spread, n), Resolution: make([]Spread, n), Ratings: grid(n, len(ratings)),
		Satisfied: make([]Rate, n), RatingsAll: make([]int, len(ratings))}
	first, resolved := make([][]time.Duration, n), make([][]time.Duration, n)
	var firstAll, resolvedAll []time.Duration
	for _, e := range es {
		b := w.Index(e.CreatedAt)
		if b < 0 {
			continue
		}
		f.ByReason[b][slices.Index(reasons, e.Reason)]++
		f.Created[b]++
		if e.Status == EscalationCancelled {
			continue
		}
		if answered := firstAnswer(e); !answered.IsZero() {
			d := hours.Open(e.CreatedAt, answered)
			first[b], firstAll = append(first[b], d), append(firstAll, d)
		}
		if e.Status == EscalationClosed && !e.ClosedAt.IsZero() {
			d := hours.Open(e.CreatedAt, e.ClosedAt)
			resolved[b], resolvedAll = append(resolved[b], d), append(resolvedAll, d)
			if r := slices.Index(ratings, e.Rating); r >= 0 {
				f.Ratings[b][r]++
				f.RatingsAll[r]++
				f.Satisfied[b].Den++
				if e.Rating == RatingGood {
					f.Satisfied[b].Num++
				}
			}
		}
	}
	for b := range n {
		f.FirstResponse[b], f.Resolution[b] = SpreadOf(first[b]), SpreadOf(resolved[b])
		f.CreatedAll += f.Created[b]
		f.SatisfiedAll.add(f.Satisfied[b])
	}
	f.FirstResponseAll, f.ResolutionAll = SpreadOf(firstAll), SpreadOf(resolvedAll)
	for _, e := range open {
		switch e.Status {
		case EscalationQueued:
			f.Waiting++
			f.LongestWait = max(f.LongestWait, hours.Open(e.CreatedAt, now))
		case EscalationAssigned:
			f.InProgress++
		}
	}
	return f
}

// firstAnswer is when staff first answered an escalation: when they took it, or when they closed it
// without taking it (zero while neither happened).
func firstAnswer(e Escalation) time.Time {
	if !e.ClaimedAt.IsZero() {
		return e.ClaimedAt
	}
	if e.Status == EscalationClosed {
		return e.ClosedAt
	}
	return time.Time{}
}

func consentFigures(cs []ConsentChange, w Window) ConsentFigures {
	chans := flows.ChannelList()
	n := len(w.Buckets)
	f := ConsentFigures{Channels: chans, OptOuts: grid(n, len(chans)), OptIns: grid(n, len(chans)),
		OptOutAll: make([]int, len(chans)), OptInAll: make([]int, len(chans))}
	for _, c := range cs {
		b := w.Index(c.At)
		if b < 0 {
			continue
		}
		row, all := f.OptIns[b], f.OptInAll
		if c.OptOut {
			row, all = f.OptOuts[b], f.OptOutAll
		}
		for i, ch := range chans {
			if c.Channels.Has(ch) {
				row[i]++
				all[i]++
			}
		}
	}
	return f
}

func requestFigures(rs []Request, w Window, now time.Time) RequestFigures {
	kinds, statuses := flows.RequestKindList(), flows.StatusList()
	n := len(w.Buckets)
	f := RequestFigures{Kinds: kinds, Statuses: statuses, ByKind: grid(n, len(kinds)), Received: make([]int, n),
		KindStatus: grid(len(kinds), len(statuses)), StatusAll: make([]int, len(statuses))}
	for _, r := range rs {
		if b := w.Index(r.ReceivedAt); b >= 0 {
			f.Received[b]++
			f.ReceivedAll++
			s := slices.Index(statuses, r.Status)
			if s >= 0 {
				f.StatusAll[s]++
			}
			for k, kind := range kinds {
				if r.Kinds&kind == 0 {
					continue
				}
				f.ByKind[b][k]++
				if s >= 0 {
					f.KindStatus[k][s]++
				}
			}
		}
		if !r.Status.Open() {
			continue
		}
		f.Open++
		switch {
		case now.After(r.DueAt):
			f.Overdue++
		case DaysLeft(r.DueAt, now, w.Loc) <= DueSoonDays:
			f.DueSoon++
		default:
			continue
		}
		f.Attention = append(f.Attention, r)
	}
	slices.SortFunc(f.Attention, func(a, b Request) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
	})
	return f
}

// DaysLeft is the number of calendar days in loc from now's day to due's day: 0 on the due date,
// negative after it (as the requests page counts them).
func DaysLeft(due, now time.Time, loc *time.Location) int {
	y, m, d := due.In(loc).Date()
	dd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	y, m, d = now.In(loc).Date()
	nd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return int(dd.Sub(nd).Hours() / 24)
}
