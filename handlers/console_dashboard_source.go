package handlers

import (
	"context"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// DashboardSource is what the dashboard counts from: the records of the span [from, to) (and what is
// open now).
type DashboardSource interface {
	DashboardRecords(ctx context.Context, from, to time.Time) (insight.Records, error)
}

// DashboardStores reads the dashboard's records from where they live: the questions and the
// escalations in the store, the consent history and the requests in the memory of their services.
// A part left nil counts as none (a deployment without it).
type DashboardStores struct {
	Questions   DashboardQuestions   // the store
	Escalations DashboardEscalations // the store
	Consents    DashboardConsents    // *consent.Consents
	Requests    DashboardRequests    // *request.Service
}

// DashboardQuestions gives the questions asked in [from, to) (insight.QuestionStore: on the embedded
// engine a range of _id, the one index it serves).
type DashboardQuestions interface {
	Questions(ctx context.Context, from, to time.Time) ([]insight.Question, error)
}

// DashboardEscalations gives escalations: created since a time (the search: q "" and no limit), and
// those open now.
type DashboardEscalations interface {
	SearchEscalations(ctx context.Context, q string, since time.Time, limit int) ([]bot.Escalation, error)
	OpenEscalations(ctx context.Context) ([]bot.Escalation, error)
}

// DashboardConsents pages through the consent history in memory, by Seq.
type DashboardConsents interface {
	Since(after int64, limit int) ([]consent.Record, []consent.State, bool)
}

// DashboardRequests lists requests from the request service's memory, newest received first.
type DashboardRequests interface {
	List(f request.Filter) (page []request.Request, next string)
}

var _ DashboardSource = DashboardStores{}

// dashPage is how many records one call to the consent history or the request list returns.
const dashPage = 200

// DashboardRecords implements DashboardSource.
func (s DashboardStores) DashboardRecords(ctx context.Context, from, to time.Time) (insight.Records, error) {
	var r insight.Records
	var err error
	if s.Questions != nil {
		if r.Questions, err = s.Questions.Questions(ctx, from, to); err != nil {
			return r, err
		}
	}
	if s.Escalations != nil {
		es, err := s.Escalations.SearchEscalations(ctx, "", from, 0)
		if err != nil {
			return r, err
		}
		for _, e := range es {
			if e.CreatedAt.Before(to) {
				r.Escalations = append(r.Escalations, dashEscalation(e))
			}
		}
		open, err := s.Escalations.OpenEscalations(ctx)
		if err != nil {
			return r, err
		}
		for _, e := range open {
			r.Open = append(r.Open, dashEscalation(e))
		}
	}
	if s.Consents != nil {
		for after := int64(0); ; {
			recs, _, more := s.Consents.Since(after, dashPage)
			for _, c := range recs {
				if !c.At.Before(from) && c.At.Before(to) {
					r.Consent = append(r.Consent, insight.ConsentChange{At: c.At, OptOut: c.Action == flows.ConsentOptOut, Channels: c.Channels})
				}
				after = c.Seq
			}
			if !more || len(recs) == 0 {
				break
			}
		}
	}
	if s.Requests != nil {
		r.Requests = dashRequests(s.Requests, from, to)
	}
	return r, ctx.Err()
}

// dashRequests lists the requests received in [from, to) and every open one, each once.
func dashRequests(l DashboardRequests, from, to time.Time) []insight.Request {
	seen := map[string]bool{}
	var out []insight.Request
	add := func(x request.Request) {
		if !seen[x.ID] {
			seen[x.ID] = true
			out = append(out, insight.Request{ID: x.ID, Kinds: x.Kinds, Status: x.Status, ReceivedAt: x.ReceivedAt, DueAt: x.DueAt})
		}
	}
	var open []flows.RequestStatus
	for _, st := range flows.StatusList() {
		if st.Open() {
			open = append(open, st)
		}
	}
	for after := ""; ; {
		page, next := l.List(request.Filter{Status: open, After: after, Limit: dashPage})
		for _, x := range page {
			add(x)
		}
		if after = next; next == "" {
			break
		}
	}
	// Newest received first: stop at the first one received before the window.
	for after := ""; ; {
		page, next := l.List(request.Filter{After: after, Limit: dashPage})
		for _, x := range page {
			if x.ReceivedAt.Before(from) {
				return out
			}
			if x.ReceivedAt.Before(to) {
				add(x)
			}
		}
		if after = next; next == "" {
			return out
		}
	}
}

func dashEscalation(e bot.Escalation) insight.Escalation {
	return insight.Escalation{ID: e.ID, Reason: e.Reason, Status: string(e.Status), Rating: e.Rating,
		CreatedAt: e.CreatedAt, ClaimedAt: e.ClaimedAt, ClosedAt: e.ClosedAt}
}
