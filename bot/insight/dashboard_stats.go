package insight

import (
	"slices"
	"time"
)

// Rate is a share: Num of Den.
type Rate struct{ Num, Den int }

// Value is the share as a fraction; ok is false when there is nothing to share (Den 0).
func (r Rate) Value() (v float64, ok bool) {
	if r.Den == 0 {
		return 0, false
	}
	return float64(r.Num) / float64(r.Den), true
}

func (r *Rate) add(o Rate) { r.Num, r.Den = r.Num+o.Num, r.Den+o.Den }

// Spread describes durations: how many, their median and their 90th percentile.
//
// The median is the middle value (the mean of the two middle ones for an even count); the 90th
// percentile is the nearest rank: the smallest value at least 90 % of the durations do not exceed
// (of 10 durations the 9th smallest, of 5 the largest).
type Spread struct {
	N           int
	Median, P90 time.Duration
}

// SpreadOf computes the spread of ds (which it sorts).
func SpreadOf(ds []time.Duration) Spread {
	n := len(ds)
	if n == 0 {
		return Spread{}
	}
	slices.Sort(ds)
	s := Spread{N: n, Median: ds[n/2]}
	if n%2 == 0 {
		s.Median = (ds[n/2-1] + ds[n/2]) / 2
	}
	rank := (9*n + 9) / 10 // ⌈0.9·n⌉
	s.P90 = ds[rank-1]
	return s
}
