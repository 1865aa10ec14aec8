package linesim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// MarshalJSON encodes the report with durations in milliseconds (fields
// ending in "Ms") and statuses keyed by their decimal code.
func (r LoadReport) MarshalJSON() ([]byte, error) {
	st := map[string]int{}
	for k, v := range r.Statuses {
		st[fmt.Sprint(k)] = v
	}
	return json.Marshal(map[string]any{
		"offeredRate": r.Offered, "achievedRate": r.Achieved,
		"events": r.Events, "acked": r.Acked, "non200": r.Non200, "errors": r.Errors, "statuses": st,
		"ackP50Ms": ms(r.AckP50), "ackP99Ms": ms(r.AckP99), "ackMaxMs": ms(r.AckMax),
		"answered": r.Answered, "answerP50Ms": ms(r.AnswerP50), "answerP99Ms": ms(r.AnswerP99), "answerMaxMs": ms(r.AnswerMax),
		"lost": r.Lost, "doubled": r.Doubled, "outOfOrder": r.OutOfOrder, "disorders": r.Disorders, "failovers": r.Failovers, "redelivered": r.Redelivered, "replies": r.Replies, "pushes": r.Pushes,
		"invalidReplyTokens": r.InvalidTokens, "rateLimited": r.RateLimited, "loadings": r.Loadings, "apiErrors": r.Faults, "sendTimeMs": ms(r.SendTime), "drainTimeMs": ms(r.DrainTime),
	})
}

// Table renders the report as an aligned two-column table for people.
func (r LoadReport) Table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	codes := make([]int, 0, len(r.Statuses))
	for k := range r.Statuses {
		codes = append(codes, k)
	}
	sort.Ints(codes)
	var st []string
	for _, k := range codes {
		st = append(st, fmt.Sprintf("%d×%d", k, r.Statuses[k]))
	}
	rows := [][2]string{
		{"offered rate", fmt.Sprintf("%.1f ev/s", r.Offered)},
		{"achieved rate", fmt.Sprintf("%.1f ev/s", r.Achieved)},
		{"events sent", fmt.Sprint(r.Events)},
		{"acked (200)", fmt.Sprint(r.Acked)},
		{"non-200", fmt.Sprintf("%d %s", r.Non200, strings.Join(st, " "))},
		{"transport errors", fmt.Sprint(r.Errors)},
		{"ack latency p50/p99/max", fmt.Sprintf("%.1f / %.1f / %.1f ms", ms(r.AckP50), ms(r.AckP99), ms(r.AckMax))},
		{"answered", fmt.Sprint(r.Answered)},
		{"answer latency p50/p99/max", fmt.Sprintf("%.1f / %.1f / %.1f ms", ms(r.AnswerP50), ms(r.AnswerP99), ms(r.AnswerMax))},
		{"replies / pushes", fmt.Sprintf("%d / %d", r.Replies, r.Pushes)},
		{"invalid reply tokens", fmt.Sprint(r.InvalidTokens)},
		{"API 429 (rate limits)", fmt.Sprint(r.RateLimited)},
		{"other API 4xx", fmt.Sprint(r.Faults)},
		{"loading animations", fmt.Sprint(r.Loadings)},
		{"LOST answers", fmt.Sprint(r.Lost)},
		{"DOUBLED answers", fmt.Sprint(r.Doubled)},
		{"answers OUT OF ORDER", fmt.Sprint(r.OutOfOrder)},
		{"failovers (instance down)", fmt.Sprint(r.Failovers)},
		{"redeliveries (after non-200)", fmt.Sprint(r.Redelivered)},
		{"send / drain time", fmt.Sprintf("%s / %s", r.SendTime.Round(time.Millisecond), r.DrainTime.Round(time.Millisecond))},
	}
	for _, d := range r.Disorders {
		rows = append(rows, [2]string{"out of order", d})
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%s\t%s\n", row[0], row[1])
	}
	_ = w.Flush()
	return b.String()
}
