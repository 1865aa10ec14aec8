package request

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/enemane/privacybot/flows"
	"golang.org/x/text/unicode/norm"
)

// Filter selects requests for the queue and the API.
type Filter struct {
	Status  []flows.RequestStatus // any of them (none: every status)
	Kind    flows.RequestKind     // requests with any of these kinds (0: every kind)
	Overdue bool                  // open and past the due date
	// Query matches the reference, the LINE user ID, the name or the phone (digits).
	Query        string
	UpdatedSince time.Time
	// After is the cursor: the last reference of the previous page (order: received, newest first).
	After string
	Limit int // default 50, at most 200
}

// List returns one page of the requests that match f, newest first, and the cursor of the next page
// ("" on the last).
func (s *Service) List(f Filter) (page []Request, next string) {
	now := s.cfg.Now()
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	q := searchForm(f.Query)
	s.mu.RLock()
	var all []Request
	for _, r := range s.byRef {
		if f.match(r, q, now) {
			all = append(all, *r)
		}
	}
	// The cursor is a place in the order, not a member of the page: the request it names may have
	// left the filter since (verified while paging through "received").
	var cursor *Request
	if f.After != "" {
		if c, ok := s.byRef[f.After]; ok {
			cursor = &Request{ID: c.ID, ReceivedAt: c.ReceivedAt}
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(all, newestFirst)
	start := 0
	switch {
	case cursor != nil:
		start, _ = slices.BinarySearchFunc(all, *cursor, newestFirst)
		if start < len(all) && all[start].ID == cursor.ID {
			start++
		}
	case f.After != "":
		start = len(all) // an unknown cursor: nothing after it
	}
	all = all[start:]
	if len(all) > limit {
		next = all[limit-1].ID
		all = all[:limit]
	}
	for i := range all {
		all[i] = clone(all[i])
	}
	return all, next
}

func (f Filter) match(r *Request, q string, now time.Time) bool {
	if len(f.Status) > 0 && !slices.Contains(f.Status, r.Status) {
		return false
	}
	if f.Kind != 0 && r.Kinds&f.Kind == 0 {
		return false
	}
	if f.Overdue && (!r.Open() || !now.After(r.DueAt)) {
		return false
	}
	if !f.UpdatedSince.IsZero() && r.UpdatedAt.Before(f.UpdatedSince) {
		return false
	}
	if q == "" {
		return true
	}
	digits := strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' {
			return c
		}
		return -1
	}, q)
	return strings.Contains(strings.ToLower(r.ID), q) || strings.ToLower(r.UserID) == q ||
		strings.Contains(searchForm(r.Name), q) || strings.Contains(searchForm(r.RepName), q) ||
		(len(digits) >= 4 && strings.Contains(r.Phone, strings.TrimPrefix(digits, "0")))
}

// searchForm is how names are compared: NFKC (full-width letters and digits folded), lower case, and
// no spaces of any width (「岡山　花子」, 「岡山花子」 and 「岡山 花子」 are one name).
func searchForm(s string) string {
	return strings.Map(func(c rune) rune {
		if unicode.IsSpace(c) {
			return -1
		}
		return c
	}, strings.ToLower(norm.NFKC.String(s)))
}

// Counts returns how many requests are open and how many of them are overdue (metrics, the console's
// navigation).
func (s *Service) Counts() (open, overdue int) {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.byRef {
		if r.Open() {
			open++
			if now.After(r.DueAt) {
				overdue++
			}
		}
	}
	return open, overdue
}

func newestFirst(a, b Request) int {
	if c := b.ReceivedAt.Compare(a.ReceivedAt); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}
