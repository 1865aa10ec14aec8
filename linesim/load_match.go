package linesim

import (
	"fmt"
	"net/http"
	"time"
)

// matchAnswers attributes deliveries to events: a reply by its token; pushes
// to a user, in order, to that user's events that got fewer answers than
// expected. What is left over is doubled; acked events without any answer
// are lost.
func matchAnswers(rep *LoadReport, events []*loadEvent, users []string, api *API, per int) {
	byToken := make(map[string]int, len(events))
	perUser := make([][]int, len(users))
	for i, e := range events {
		byToken[e.token] = i
		perUser[e.user] = append(perUser[e.user], i)
	}
	answers := make([]int, len(events))
	first := make([]time.Time, len(events))
	note := func(i int, at time.Time) {
		if answers[i] == 0 {
			first[i] = at
		}
		answers[i]++
	}
	pushes := make([][]time.Time, len(users))
	userIdx := make(map[string]int, len(users))
	for i, u := range users {
		userIdx[u] = i
	}
	seqOf := make([]uint64, len(events)) // the API's order of each event's reply
	answeredAt := make([]time.Time, len(events))
	for _, d := range api.Deliveries("") {
		if d.Via == "reply" {
			rep.Replies++
			if i, ok := byToken[d.ReplyToken]; ok {
				note(i, d.At)
				if seqOf[i] == 0 {
					seqOf[i], answeredAt[i] = d.Seq, d.At
				}
			}
			continue
		}
		rep.Pushes++
		if u, ok := userIdx[d.UserID]; ok {
			pushes[u] = append(pushes[u], d.At)
		}
	}
	for u, ps := range pushes {
		k := 0
		for _, i := range perUser[u] {
			for answers[i] < per && k < len(ps) {
				note(i, ps[k])
				k++
			}
		}
		rep.Doubled += len(ps) - k
	}
	// An answer is out of order when it came before the answer to an earlier event of the same
	// user that was acknowledged (200) before this one was sent: that one was stored first, so any
	// bot must answer it first. (Events sent while an earlier one is still unacknowledged may be
	// stored in either order: the webhook requests race. So may one answered with an error: the bot
	// may have stored it after all, while this one came in.)
	for _, evs := range perUser {
		for k, j := range evs {
			if seqOf[j] == 0 {
				continue // answered by push (matched in order) or not at all
			}
			for _, i := range evs[:k] {
				if seqOf[i] > seqOf[j] && events[i].status == http.StatusOK && !events[i].sentAt.Add(events[i].ack).After(events[j].sentAt) {
					rep.OutOfOrder++
					if len(rep.Disorders) < 10 {
						rep.Disorders = append(rep.Disorders, fmt.Sprintf("user %d: %s answered before %s",
							events[j].user, describe(events, j, answeredAt), describe(events, i, answeredAt)))
					}
					break
				}
			}
		}
	}
	lat := make([]time.Duration, 0, len(events))
	for i, e := range events {
		if answers[i] > 0 {
			rep.Answered++
			lat = append(lat, first[i].Sub(e.sentAt))
		} else if e.status == http.StatusOK {
			rep.Lost++
		}
		if answers[i] > per {
			rep.Doubled += answers[i] - per
		}
	}
	rep.AnswerP50, rep.AnswerP99, rep.AnswerMax = percentiles(lat)
	st := api.Stats()
	rep.InvalidTokens = st.InvalidReplyTokens
	rep.RateLimited = st.RateLimited
	rep.Loadings = st.LoadingStarts
	rep.Faults = st.BadRequests + st.BlockedPushes + st.Unauthorized + st.NotFound + st.DuplicateRetryKeys
}

// describe tells of one event for a disorder: its index, and when (from the first event) it was sent,
// to which instance, acknowledged and answered.
func describe(events []*loadEvent, i int, answeredAt []time.Time) string {
	t0 := events[0].sentAt
	e := events[i]
	ms := func(t time.Time) int64 { return t.Sub(t0).Milliseconds() }
	return fmt.Sprintf("event %d (sent %d ms to instance %d, acknowledged %d ms with %d, answered %d ms)",
		i, ms(e.sentAt), e.via, ms(e.sentAt.Add(e.ack)), e.status, ms(answeredAt[i]))
}
