// Package consent is marketing consent: the append-only history of opt-outs and opt-ins (each a
// proof: who, which channels, the wording agreed to, when), the current state derived from it, the
// in-memory index marketing and staff read, and the effect sink that records the chat's changes. It
// knows no database: a Store (package store) keeps the history.
package consent

import (
	"math/bits"
	"strings"
	"time"

	"github.com/enemane/privacybot/flows"
)

// Subjects: who a record is about. A customer known by LINE, or a person staff entered by phone,
// e-mail or customer number.
const (
	lineSubjectPrefix  = "line:"
	staffSubjectPrefix = "staff:"
)

// LINESubject is the subject of a LINE customer.
func LINESubject(userID string) string { return lineSubjectPrefix + userID }

// StaffSubject is the subject of a person staff entered, keyed by the identifier they had (a phone
// number in E.164, an e-mail address or a customer number).
func StaffSubject(key string) string { return staffSubjectPrefix + key }

// SubjectKind splits a subject into its kind ("line" or "staff") and its key; kind is "" for
// anything else.
func SubjectKind(subject string) (kind, key string) {
	if k, ok := strings.CutPrefix(subject, lineSubjectPrefix); ok {
		return "line", k
	}
	if k, ok := strings.CutPrefix(subject, staffSubjectPrefix); ok {
		return "staff", k
	}
	return "", subject
}

// Record is one entry of the append-only consent history: the proof of one opt-out or opt-in.
type Record struct {
	// ID is "<event id>/<effect index>" for changes from the chat (so applying a step twice records it
	// once) and "staff/<…>" for staff entries.
	ID string `bson:"_id"`
	// Seq orders the history; the marketing API's cursor is the Seq of the last record read. Seqs
	// increase and are never given twice; they have gaps where the retention sweep deleted records.
	Seq int64 `bson:"seq"`
	// Subject is who the change is about: "line:<LINE user ID>" for changes from LINE, "staff:<phone or
	// e-mail>" for staff entries.
	Subject  string              `bson:"subject"`
	Action   flows.ConsentAction `bson:"action"`
	Channels flows.Channels      `bson:"channels"`
	Name     string              `bson:"name,omitempty"`
	Phone    string              `bson:"phone,omitempty"` // E.164
	Email    string              `bson:"email,omitempty"`
	Postal   string              `bson:"postal,omitempty"`
	Customer string              `bson:"customer,omitempty"`
	Source   flows.ConsentSource `bson:"source"`
	// The wording the customer agreed to: catalog ID, language and the text as rendered when recorded.
	WordingID   string     `bson:"wordingId,omitempty"`
	WordingLang flows.Lang `bson:"wordingLang,omitempty"`
	WordingText string     `bson:"wordingText,omitempty"`
	Reference   string     `bson:"ref"`
	At          time.Time  `bson:"at"`         // when the customer gave it
	RecordedAt  time.Time  `bson:"recordedAt"` // when it was stored
	EventID     string     `bson:"eventId,omitempty"`
	Staff       string     `bson:"staff,omitempty"` // the staff member who entered it
}

// View is a consent record as marketing systems see it, in the API feed and in the webhook.
type View struct {
	ID          string            `json:"id"`
	Subject     string            `json:"subject"`
	Channels    []string          `json:"channels"`
	Identifiers map[string]string `json:"identifiers,omitempty"`
	Source      string            `json:"source"`
	Reference   string            `json:"reference"`
	OccurredAt  time.Time         `json:"occurred_at"`
	RecordedAt  time.Time         `json:"recorded_at"`
	// OptedOutNow is every channel the subject is opted out of after this record.
	OptedOutNow []string `json:"opted_out_now"`
}

// View returns the record as marketing systems see it; optedOutNow is the subject's state after it.
func (r Record) View(optedOutNow flows.Channels) View {
	return View{ID: r.ID, Subject: r.Subject, Channels: names(r.Channels), Identifiers: r.Identifiers(),
		Source: string(r.Source), Reference: r.Reference, OccurredAt: r.At.UTC(), RecordedAt: r.RecordedAt.UTC(),
		OptedOutNow: names(optedOutNow)}
}

// names lists channels for JSON: an empty list, never null.
func names(c flows.Channels) []string {
	if n := c.Names(); n != nil {
		return n
	}
	return []string{}
}

// Identifiers returns the identifiers the customer gave, by their API names (nil when none).
func (r Record) Identifiers() map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"name": r.Name, "phone": r.Phone, "email": r.Email, "postal_code": r.Postal, "customer_number": r.Customer} {
		if v != "" {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// ChannelState is the current state of one channel for one subject, and the record that set it.
type ChannelState struct {
	OptedOut  bool
	At        time.Time
	Reference string
	Seq       int64
}

// State is the current consent of one subject, derived from its history.
type State struct {
	Subject                              string
	Name, Phone, Email, Postal, Customer string // the latest given
	Channels                             [7]ChannelState
	UpdatedAt                            time.Time
	LastSeq                              int64
}

// OptedOut is the set of channels the subject has opted out of.
func (s *State) OptedOut() flows.Channels {
	var c flows.Channels
	for i, ch := range s.Channels {
		if ch.OptedOut {
			c |= 1 << i
		}
	}
	return c
}

// apply folds one record into the state. Per channel the later statement wins; two statements made
// at the same moment resolve to opt-out.
func (s *State) apply(r *Record) {
	for _, v := range []struct {
		dst *string
		src string
	}{{&s.Name, r.Name}, {&s.Phone, r.Phone}, {&s.Email, r.Email},
		{&s.Postal, r.Postal}, {&s.Customer, r.Customer}} {
		if v.src != "" {
			*v.dst = v.src
		}
	}
	out := r.Action == flows.ConsentOptOut
	for c := r.Channels & flows.ChanAll; c != 0; c &= c - 1 {
		i := bits.TrailingZeros16(uint16(c))
		cur := &s.Channels[i]
		if cur.Seq == 0 || r.At.After(cur.At) || (r.At.Equal(cur.At) && out) {
			*cur = ChannelState{OptedOut: out, At: r.At, Reference: r.Reference, Seq: r.Seq}
		}
	}
	s.UpdatedAt, s.LastSeq = r.RecordedAt, r.Seq
}

// holds reports whether the record with this Seq set the state of any of the channels.
func (s *State) holds(seq int64, chans flows.Channels) bool {
	for c := chans & flows.ChanAll; c != 0; c &= c - 1 {
		if s.Channels[bits.TrailingZeros16(uint16(c))].Seq == seq {
			return true
		}
	}
	return false
}
