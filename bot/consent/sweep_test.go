package consent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/flows"
)

var sweepCutoff = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// day is a moment n days after the cutoff (before it when n < 0).
func day(n int) time.Time { return sweepCutoff.AddDate(0, 0, n) }

// rec is a record r<seq> of a subject.
func rec(seq int64, subject string, action flows.ConsentAction, chans flows.Channels, at time.Time) Record {
	return Record{ID: fmt.Sprintf("r%d", seq), Seq: seq, Subject: subject, Action: action, Channels: chans,
		Source: flows.SourceStaff, Reference: fmt.Sprintf("OPT-%d", seq), At: at, RecordedAt: at}
}

const (
	out = flows.ConsentOptOut
	in  = flows.ConsentOptIn
)

func TestSupersededIsTheRetentionRule(t *testing.T) {
	a, b := StaffSubject("a@example.jp"), StaffSubject("b@example.jp")
	phone, mail := flows.ChanPhone, flows.ChanMail
	// filler is a record of another subject, recorded last, so that the highest Seq is none of a case's.
	filler := func(seq int64) Record { return rec(seq, StaffSubject("filler"), out, flows.ChanSurvey, day(10)) }
	for _, tc := range []struct {
		name string
		recs []Record
		want []string
	}{
		{"an opt-out in force stays however old",
			[]Record{rec(1, a, out, phone, day(-10000)), filler(2)}, nil},
		{"an opt-out superseded by an opt-in before the cutoff goes",
			[]Record{rec(1, a, out, phone, day(-400)), rec(2, a, in, phone, day(-300)), filler(3)}, []string{"r1"}},
		{"superseded after the cutoff, it stays",
			[]Record{rec(1, a, out, phone, day(-400)), rec(2, a, in, phone, day(1)), filler(3)}, nil},
		{"superseded at the cutoff itself, it stays",
			[]Record{rec(1, a, out, phone, day(-400)), rec(2, a, in, phone, sweepCutoff), filler(3)}, nil},
		{"partly superseded (phone and mail out, mail in again), it stays",
			[]Record{rec(1, a, out, phone|mail, day(-400)), rec(2, a, in, mail, day(-300)), filler(3)}, nil},
		{"superseded channel by channel, it goes",
			[]Record{rec(1, a, out, phone|mail, day(-400)), rec(2, a, in, mail, day(-300)), rec(3, a, in, phone, day(-200)), filler(4)},
			[]string{"r1"}},
		{"one channel superseded before the cutoff, the other after: it stays",
			[]Record{rec(1, a, out, phone|mail, day(-400)), rec(2, a, in, mail, day(-300)), rec(3, a, in, phone, day(5)), filler(4)}, nil},
		{"another subject's statement supersedes nothing",
			[]Record{rec(1, a, out, phone, day(-400)), rec(2, b, in, phone, day(-300)), filler(3)}, nil},
		{"the later statement wins, not the later record: an opt-in said earlier but recorded later goes",
			[]Record{rec(1, a, out, phone, day(-300)), rec(2, a, in, phone, day(-400)), filler(3)}, []string{"r2"}},
		{"and the opt-out it did not undo stays",
			[]Record{rec(1, a, out, phone, day(-300)), rec(2, a, in, phone, day(-400)), rec(3, a, in, phone, day(-350)), filler(4)},
			[]string{"r2", "r3"}},
		{"the same moment resolves to opt-out: the opt-in goes, recorded first or second",
			[]Record{rec(1, a, in, phone, day(-400)), rec(2, a, out, phone, day(-400)), rec(3, a, in, phone, day(-400)), filler(4)},
			[]string{"r1", "r3"}},
		{"the same moment, two opt-outs: the later record wins",
			[]Record{rec(1, a, out, phone, day(-400)), rec(2, a, out, phone, day(-400)), filler(3)}, []string{"r1"}},
		{"the same moment, two opt-ins: the first stays in force (as State.apply has it)",
			[]Record{rec(1, a, in, phone, day(-400)), rec(2, a, in, phone, day(-400)), filler(3)}, []string{"r2"}},
		{"a record made after the cutoff stays even when superseded",
			[]Record{rec(1, a, out, phone, day(2)), rec(2, a, in, phone, day(3)), filler(3)}, nil},
		{"the highest Seq stays even when superseded (no Seq is given twice after a restart)",
			[]Record{rec(1, a, out, phone, day(-300)), rec(2, a, in, phone, day(-400))}, nil},
		{"a record of no known channel stays",
			[]Record{rec(1, a, out, flows.ChanAll+1, day(-400)), filler(2)}, nil},
		{"nothing", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := superseded(tc.recs, sweepCutoff)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("superseded %v, want %v", got, tc.want)
			}
			checkSweepKeepsState(t, tc.recs, got)
		})
	}
}

// TestSupersededAgreesWithTheRuleAsWritten checks superseded against the rule in its own words, over
// random histories with many statements at the same moment: a record goes when, for every channel it
// lists, a later statement (by At, ties to opt-out) of its subject on that channel was made before the
// cutoff; and the current state is the same without what went.
func TestSupersededAgreesWithTheRuleAsWritten(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 2026))
	subjects := []string{LINESubject("U1"), LINESubject("U2"), StaffSubject("+819012345678")}
	beats := func(s, r *Record) bool { // s is the later statement of the two, as State.apply orders them
		switch {
		case !s.At.Equal(r.At):
			return s.At.After(r.At)
		case s.Action != r.Action:
			return s.Action == out
		case s.Action == out:
			return s.Seq > r.Seq // the later record replaces an opt-out of the same moment
		default:
			return s.Seq < r.Seq // and does not replace an opt-in
		}
	}
	for trial := range 300 {
		n := 1 + rnd.IntN(40)
		recs := make([]Record, n)
		for i := range recs {
			action := in
			if rnd.IntN(2) == 0 {
				action = out
			}
			recs[i] = rec(int64(i+1), subjects[rnd.IntN(len(subjects))], action, flows.Channels(1+rnd.IntN(7)), day(rnd.IntN(8)-6))
		}
		got := superseded(recs, sweepCutoff)
		var want []string
		for i := range recs {
			r := &recs[i]
			if r.Seq == int64(n) {
				continue // the highest Seq stays
			}
			gone := true
			for _, ch := range flows.ChannelList() {
				if r.Channels&ch == 0 {
					continue
				}
				found := false
				for j := range recs {
					s := &recs[j]
					if s.Subject == r.Subject && s.Channels&ch != 0 && s.At.Before(sweepCutoff) && beats(s, r) {
						found = true
						break
					}
				}
				gone = gone && found
			}
			if gone {
				want = append(want, r.ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: superseded %v, want %v\nrecords %+v", trial, got, want, recs)
		}
		checkSweepKeepsState(t, recs, got)
	}
}

// checkSweepKeepsState fails when the records left derive another opt-out state than the whole history,
// or lose a subject or the highest Seq.
func checkSweepKeepsState(t *testing.T, recs []Record, gone []string) {
	t.Helper()
	var keep []Record
	for _, r := range recs {
		if !slices.Contains(gone, r.ID) {
			keep = append(keep, r)
		}
	}
	all, left := derive(recs, 0), derive(keep, 0)
	if all.lastSeq != left.lastSeq {
		t.Fatalf("highest Seq %d before, %d after", all.lastSeq, left.lastSeq)
	}
	if len(all.subjects) != len(left.subjects) {
		t.Fatalf("%d subjects before, %d after", len(all.subjects), len(left.subjects))
	}
	for subject, st := range all.subjects {
		if st.Channels != left.subjects[subject].Channels {
			t.Fatalf("%s: channels %+v before, %+v after", subject, st.Channels, left.subjects[subject].Channels)
		}
	}
}

// sweepFixture records a history through Record (as the chat and staff do) and returns it.
func sweepFixture(t *testing.T) (*Consents, *memStore) {
	t.Helper()
	ctx := context.Background()
	store := &memStore{recs: map[string]Record{}}
	c, err := Open(ctx, store, Options{Now: func() time.Time { return day(30) }})
	if err != nil {
		t.Fatal(err)
	}
	a, b, cc, d := LINESubject("UA"), LINESubject("UB"), LINESubject("UC"), LINESubject("UD")
	recs := []Record{
		// 1: A's opt-out, the only record with A's old name, phone and e-mail; wholly superseded by 2.
		{Subject: a, Action: out, Channels: flows.ChanPhone | flows.ChanMail, Name: "旧姓 花子", Phone: "+819011110000",
			Email: "a@example.jp", At: day(-400)},
		{Subject: a, Action: in, Channels: flows.ChanPhone | flows.ChanMail, Name: "新姓 花子", At: day(-300)},
		// 3: B's opt-out, in force for ever.
		{Subject: b, Action: out, Channels: flows.ChanEmail, Email: "b@example.jp", At: day(-10000)},
		// 4, 5: C's opt-out of phone and mail, then mail back: 4 still holds the phone.
		{Subject: cc, Action: out, Channels: flows.ChanPhone | flows.ChanMail, Phone: "+819022220000", At: day(-400)},
		{Subject: cc, Action: in, Channels: flows.ChanMail, At: day(-300)},
		// 6, 7: D's opt-out superseded after the cutoff: it stays.
		{Subject: d, Action: out, Channels: flows.ChanVisit, Phone: "+819033330000", At: day(-400)},
		{Subject: d, Action: in, Channels: flows.ChanVisit, At: day(1)},
		// 8, 9: B's opt-in of LINE said before the opt-out but recorded after it: 9 goes.
		{Subject: b, Action: out, Channels: flows.ChanLINE, At: day(-100)},
		{Subject: b, Action: in, Channels: flows.ChanLINE, Phone: "+819044440000", At: day(-200)},
		// 10: the newest record.
		{Subject: d, Action: out, Channels: flows.ChanCampaign, At: day(-50)},
	}
	for i, r := range recs {
		r.ID, r.Source, r.Reference = fmt.Sprintf("staff/%d", i+1), flows.SourceStaff, fmt.Sprintf("OPT-%d", i+1)
		if err := c.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if c.LastSeq() != 10 {
		t.Fatalf("fixture: last seq %d", c.LastSeq())
	}
	return c, store
}

var sweptInFixture = []string{"staff/1", "staff/9"}

// snapshot is everything the consent state shows readers.
type snapshot struct {
	Records []Record
	States  []State
	Order   []State
	LastSeq int64
}

func snap(t *testing.T, c *Consents) snapshot {
	t.Helper()
	var s snapshot
	s.Records, s.States, _ = c.Since(0, 1000)
	if err := c.Subjects(2, func(st State) error { s.Order = append(s.Order, st); return nil }); err != nil {
		t.Fatal(err)
	}
	s.LastSeq = c.LastSeq()
	return s
}

func seqs(recs []Record) []int64 {
	var out []int64
	for _, r := range recs {
		out = append(out, r.Seq)
	}
	return out
}

func TestSweepDeletesWhatIsWhollySupersededAndDerivesTheStateAgain(t *testing.T) {
	ctx := context.Background()
	c, store := sweepFixture(t)
	if m := c.Match("+819011110000", "a@example.jp"); len(m) != 1 || m[0].Name != "新姓 花子" {
		t.Fatalf("before the sweep: %+v", m)
	}
	before := snap(t, c)

	n, err := c.Sweep(ctx, flows.DataConsent, sweepCutoff)
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d %v, want 2", n, err)
	}
	for _, id := range sweptInFixture {
		if _, ok := store.recs[id]; ok || store.deleted[id] != 1 {
			t.Fatalf("%s: still stored or deleted %d times", id, store.deleted[id])
		}
	}
	if len(store.recs) != 8 {
		t.Fatalf("%d records stored, want 8", len(store.recs))
	}

	// The opt-out state is unchanged; only what the deleted records alone gave is gone.
	after := snap(t, c)
	if len(after.Order) != len(before.Order) {
		t.Fatalf("%d subjects, want %d", len(after.Order), len(before.Order))
	}
	for i, st := range before.Order {
		if after.Order[i].Subject != st.Subject || after.Order[i].Channels != st.Channels {
			t.Fatalf("subject %s: %+v, want channels %+v", st.Subject, after.Order[i], st.Channels)
		}
	}
	for _, phone := range []string{"+819011110000", "+819044440000"} {
		if m := c.Match(phone, ""); len(m) != 0 {
			t.Fatalf("%s, given only by a deleted record, still matches %+v", phone, m)
		}
	}
	if m := c.Match("", "a@example.jp"); len(m) != 0 {
		t.Fatalf("an e-mail given only by a deleted record still matches %+v", m)
	}
	if m := c.Match("+819022220000", "b@example.jp"); len(m) != 2 {
		t.Fatalf("identifiers of kept records: %+v", m)
	}
	if h := c.History(LINESubject("UA")); len(h) != 1 || h[0].ID != "staff/2" {
		t.Fatalf("A's history %+v", h)
	}
	if m := c.Match("+819022220000", ""); len(m) != 1 || m[0].OptedOut() != flows.ChanPhone {
		t.Fatalf("C, partly superseded: %+v", m)
	}

	// The cursor: Seqs have gaps, and Since skips them.
	if got := seqs(after.Records); !slices.Equal(got, []int64{2, 3, 4, 5, 6, 7, 8, 10}) {
		t.Fatalf("history after the sweep: %v", got)
	}
	for _, tc := range []struct {
		after int64
		limit int
		want  []int64
		more  bool
	}{
		{0, 3, []int64{2, 3, 4}, true},
		{1, 1, []int64{2}, true},
		{7, 1, []int64{8}, true},
		{8, 1, []int64{10}, false},
		{8, 5, []int64{10}, false},
		{9, 5, []int64{10}, false},
		{10, 5, nil, false},
		{1 << 62, 5, nil, false},
		{-3, 2, []int64{2, 3}, true},
	} {
		recs, states, more := c.Since(tc.after, tc.limit)
		if got := seqs(recs); !slices.Equal(got, tc.want) || more != tc.more || len(states) != len(recs) {
			t.Errorf("Since(%d, %d): %v more=%v, want %v more=%v", tc.after, tc.limit, got, more, tc.want, tc.more)
		}
	}

	// The highest Seq is kept, so the next record, in this process and after a restart, gets a new one.
	if c.LastSeq() != 10 {
		t.Fatalf("last seq %d after the sweep, want 10", c.LastSeq())
	}
	c2, err := Open(ctx, store, Options{Now: func() time.Time { return day(30) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := snap(t, c2); !reflect.DeepEqual(got, after) {
		t.Fatalf("after a restart:\n%+v\nwant\n%+v", got, after)
	}
	for _, cons := range []*Consents{c, c2} {
		r := Record{ID: "staff/new", Subject: StaffSubject("x@example.jp"), Action: out, Channels: flows.ChanEmail,
			Source: flows.SourceStaff, At: day(20)}
		if err := cons.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
		if h := cons.History(r.Subject); len(h) != 1 || h[0].Seq != 11 || cons.LastSeq() != 11 {
			t.Fatalf("the next record: %+v, last seq %d", h, cons.LastSeq())
		}
		delete(store.recs, r.ID) // for the other one
	}

	// A second sweep deletes nothing and does not ask the store.
	store.failDelete = errors.New("the store must not be asked")
	if n, err := c.Sweep(ctx, flows.DataConsent, sweepCutoff); n != 0 || err != nil {
		t.Fatalf("second sweep: %d %v", n, err)
	}
}

func TestSweepRunsOnceWhenCalledTwiceAtOnce(t *testing.T) {
	c, store := sweepFixture(t)
	start := make(chan struct{})
	var wg sync.WaitGroup
	res := make([]int64, 2)
	errs := make([]error, 2)
	for i := range res {
		wg.Go(func() {
			<-start
			res[i], errs[i] = c.Sweep(context.Background(), flows.DataConsent, sweepCutoff)
		})
	}
	close(start)
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || res[0]+res[1] != 2 || min(res[0], res[1]) != 0 {
		t.Fatalf("two sweeps at once: %v %v", res, errs)
	}
	for _, id := range sweptInFixture {
		if store.deleted[id] != 1 {
			t.Fatalf("%s deleted %d times", id, store.deleted[id])
		}
	}
}

func TestSweepNeverDeletesTheHighestSeq(t *testing.T) {
	ctx := context.Background()
	store := &memStore{recs: map[string]Record{}}
	c, err := Open(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The newest record is an opt-in said before the opt-out recorded ahead of it: wholly superseded, long ago.
	s := LINESubject("U1")
	for i, r := range []Record{
		{Subject: s, Action: out, Channels: flows.ChanEmail, At: day(-300)},
		{Subject: s, Action: in, Channels: flows.ChanEmail, At: day(-400)},
	} {
		r.ID, r.Source = fmt.Sprintf("E%d/1", i), flows.SourceChat
		if err := c.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Sweep(ctx, flows.DataConsent, sweepCutoff); n != 0 || err != nil {
		t.Fatalf("sweep: %d %v, want nothing deleted", n, err)
	}
	if _, ok := store.recs["E1/1"]; !ok || c.LastSeq() != 2 {
		t.Fatalf("the record with the highest Seq went (last seq %d)", c.LastSeq())
	}
	// Once a newer record is there, it goes.
	if err := c.Record(ctx, Record{ID: "E2/1", Subject: LINESubject("U2"), Action: out, Channels: flows.ChanMail,
		Source: flows.SourceChat, At: day(10)}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Sweep(ctx, flows.DataConsent, sweepCutoff); n != 1 || err != nil {
		t.Fatalf("sweep: %d %v, want 1", n, err)
	}
	c2, err := Open(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.LastSeq() != 3 || c2.LastSeq() != 3 {
		t.Fatalf("last seq %d, after a restart %d; want 3", c.LastSeq(), c2.LastSeq())
	}
}

func TestSweepFailsWithoutChangingTheState(t *testing.T) {
	ctx := context.Background()
	c, store := sweepFixture(t)
	before := snap(t, c)
	store.failDelete = errors.New("store down")
	if _, err := c.Sweep(ctx, flows.DataConsent, sweepCutoff); err == nil {
		t.Fatal("a failed deletion must be reported")
	}
	if got := snap(t, c); !reflect.DeepEqual(got, before) {
		t.Fatal("a failed sweep changed the state")
	}
	store.failDelete = nil
	if n, err := c.Sweep(ctx, flows.DataConsent, sweepCutoff); n != 2 || err != nil {
		t.Fatalf("the next sweep: %d %v", n, err)
	}
	if _, err := c.Sweep(ctx, flows.DataTranscript, sweepCutoff); err == nil {
		t.Fatal("another kind must be refused")
	}
}
