package bot

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/flows"
)

// eventually polls cond until it holds (or fails the test after 10 s).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type ownedBy map[string]bool

func (o ownedBy) OwnedByStaff(user string) bool   { return o[user] }
func (o ownedBy) HasOpenRequest(user string) bool { return o[user] }

type procFixture struct {
	j   *memJournal
	m   *memMessenger
	p   *Processor
	now time.Time
}

func newProcFixture(t *testing.T, tweak func(*Config)) *procFixture {
	t.Helper()
	rend, err := NewRenderer(map[string]string{"PolicyURL": "https://example.invalid/policy"})
	if err != nil {
		t.Fatal(err)
	}
	f := &procFixture{j: newMemJournal(), m: newMemMessenger(), now: time.Now()}
	cfg := Config{Journal: f.j, Messenger: f.m, Renderer: rend, Step: flows.Step,
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond, CheckpointEvery: 5 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg)
	}
	f.p = NewProcessor(cfg)
	if err := f.p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.p.Stop(context.Background()) })
	return f
}

func (f *procFixture) text(id, user, text string) Event {
	return Event{ID: id, Kind: EventMessage, Type: "message", UserID: user, Timestamp: f.now, ReceivedAt: f.now,
		ReplyToken: "rt-" + id, MessageType: "text", Text: text}
}

// idle waits until every event handed over is handled and out of the inbox.
func (f *procFixture) idle(t *testing.T) {
	t.Helper()
	eventually(t, "the processor to finish", func() bool {
		s := f.p.Stats()
		return s.QueuedUsers == 0 && s.Unfinished == 0
	})
}

func TestStaffChatMessageSurvivesTranscriptFailures(t *testing.T) {
	f := newProcFixture(t, func(c *Config) { c.Handoff = ownedBy{"Ustaff": true} })
	f.j.mu.Lock()
	f.j.failAppends = 2
	f.j.mu.Unlock()
	ev := f.text("E1", "Ustaff", "担当の方へ：住所が変わりました")
	f.p.Enqueue([]Event{ev})
	f.idle(t)
	line, ok := f.j.line("E1/in")
	if !ok || line.Text != ev.Text {
		t.Fatalf("the customer's message did not reach the transcript staff read: %+v %v", line, ok)
	}
	s := f.p.Stats()
	if s.StoreErrors != 2 || s.Silenced != 1 {
		t.Fatalf("stats %+v: want 2 retried failures and 1 silenced event", s)
	}
	if n := f.m.sends(); n != 0 {
		t.Fatalf("the bot spoke %d times in a chat staff own", n)
	}
}

func TestTranscriptFailureAfterTheStepIsRetriedAndAnsweredOnce(t *testing.T) {
	f := newProcFixture(t, nil)
	f.j.mu.Lock()
	f.j.failAppends = 1
	f.j.mu.Unlock()
	f.p.Enqueue([]Event{f.text("E2", "U2", "メニュー")})
	f.idle(t)
	if _, ok := f.j.line("E2/in"); !ok {
		t.Fatal("the customer's line is missing from the transcript")
	}
	if _, ok := f.j.line("E2/out/0"); !ok {
		t.Fatal("the bot's answer is missing from the transcript")
	}
	if f.m.replies["rt-E2"] != 1 || f.m.sends() != 1 {
		t.Fatalf("replies %v, sends %d: want one answer", f.m.replies, f.m.sends())
	}
}

func TestAnEventHandedOverAgainIsProcessedOnce(t *testing.T) {
	f := newProcFixture(t, func(c *Config) { c.CheckpointEvery = time.Hour }) // handled events stay in the inbox
	ev := f.text("E3", "U3", "メニュー")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); f.p.Enqueue([]Event{ev}) }()
	}
	wg.Wait()
	eventually(t, "the answer", func() bool { return f.m.sends() == 1 })
	eventually(t, "the queue to empty", func() bool { return f.p.Stats().QueuedUsers == 0 })
	f.p.Enqueue([]Event{ev}) // handled, waiting for its checkpoint: still known
	s := f.p.Stats()
	if s.Processed != 1 || s.Duplicates != 0 || s.Unfinished != 1 || s.QueuedUsers != 0 {
		t.Fatalf("stats %+v: want the event processed once and still known", s)
	}
	if f.m.replies["rt-E3"] != 1 {
		t.Fatalf("reply calls %d, want 1", f.m.replies["rt-E3"])
	}
}

func TestDeliveryPlan(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	const window = 50 * time.Second
	young, old := now.Add(-10*time.Second), now.Add(-2*time.Minute)
	if got := planFor("rt", young, now, window); got != PlanReply {
		t.Errorf("fresh token: %s", got)
	}
	for name, c := range map[string]struct {
		token string
		at    time.Time
	}{"stale token": {"rt", old}, "no token (internal event)": {"", young}} {
		if got := planFor(c.token, c.at, now, window); got != PlanPush {
			t.Errorf("%s: %s, want push", name, got)
		}
	}
	out := []Message{{Text: "回答"}}
	cases := []struct {
		name                string
		st                  Step
		recovered, recorded bool
		want                start
	}{
		{"nothing to say", Step{Plan: PlanReply, EventAt: young}, false, false, startNothing},
		{"fresh reply", Step{Out: out, Plan: PlanReply, EventAt: young}, false, false, startReply},
		{"reply planned but the token went stale while storing", Step{Out: out, Plan: PlanReply, EventAt: old}, false, false, startPush},
		{"push planned", Step{Out: out, Plan: PlanPush, EventAt: young}, false, false, startPush},
		{"after a crash: the same token again, whatever its age", Step{Out: out, Plan: PlanReply, EventAt: old}, true, false, startReplyAgain},
		{"after a crash: a push again (its retry key dedupes)", Step{Out: out, Plan: PlanPush, EventAt: old}, true, false, startPush},
		{"delivery on record", Step{Out: out, Plan: PlanReply, EventAt: young}, true, true, startNothing},
	}
	for _, c := range cases {
		if got := deliveryStart(c.st, now, window, c.recovered, c.recorded); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestInternalEventsAreAnsweredWhileStaffOwnTheChat(t *testing.T) {
	f := newProcFixture(t, func(c *Config) { c.Handoff = ownedBy{"Uowned": true} })
	ev := Event{ID: "esc-1-joined", Kind: EventInternal, Type: "internal", UserID: "Uowned", Timestamp: f.now,
		ReceivedAt: f.now, Postback: flows.JoinedPostback("高橋")}
	f.p.Enqueue([]Event{ev})
	f.idle(t)
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	var sent []Message
	for _, msgs := range f.m.sent {
		sent = append(sent, msgs...)
	}
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "高橋") {
		t.Fatalf("joined notice %+v: want one push naming the staff member", sent)
	}
}

// TestAReleasedEventIsStillKnownForOneRound: a webhook handler may hold a redelivery between the inbox
// and Enqueue while the checkpoint releases the event; the processor still ignores it for one round.
func TestAReleasedEventIsStillKnownForOneRound(t *testing.T) {
	f := newProcFixture(t, func(c *Config) { c.CheckpointEvery = time.Hour }) // rounds run by hand below
	ev := f.text("E4", "U4", "メニュー")
	f.p.Enqueue([]Event{ev})
	eventually(t, "the answer", func() bool { return f.p.Stats().Processed == 1 && f.p.Stats().QueuedUsers == 0 })
	f.p.checkpoint(time.Second) // released from the inbox
	if s := f.p.Stats(); s.Unfinished != 0 {
		t.Fatalf("after its release: %+v, want nothing unfinished", s)
	}
	f.p.Enqueue([]Event{ev}) // the late Enqueue of a redelivery
	if s := f.p.Stats(); s.QueuedUsers != 0 || s.Processed != 1 {
		t.Fatalf("a just-released event was taken again: %+v", s)
	}
	f.p.checkpoint(time.Second) // the next round forgets it
	f.p.mu.Lock()
	_, known := f.p.known["E4"]
	f.p.mu.Unlock()
	if known {
		t.Fatal("a released event is remembered past the next round")
	}
}

// TestAHandBackStoredByTheEarlierVersionIsStillInternal: the previous version stored the hand-back as a
// postback with type "internal"; one still in the inbox at an upgrade hands the chat back as before.
func TestAHandBackStoredByTheEarlierVersionIsStillInternal(t *testing.T) {
	f := newProcFixture(t, nil)
	f.j.mu.Lock()
	f.j.convs["Uold"] = Conversation{UserID: "Uold", State: flows.State{Flow: flows.FlowStaff}}
	f.j.mu.Unlock()
	ev := Event{ID: "esc-1-handback", Kind: EventPostback, Type: "internal", UserID: "Uold", Timestamp: f.now,
		ReceivedAt: f.now, Postback: flows.ResumePostback("handback", "1", false)}
	f.p.Enqueue([]Event{ev})
	f.idle(t)
	st, err := f.j.Step(context.Background(), ev.ID)
	if err != nil || st.State.Flow != flows.FlowIdle || len(st.Out) != 2 {
		t.Fatalf("step %+v %v: want the customer back with the bot, told so and shown the menu", st, err)
	}
}

// TestACustomerLeftInTheStaffFlowIsAnsweredAgain: the close of the customer's request never reached
// the bot (its internal event was lost); with no request open, the next message is answered.
func TestACustomerLeftInTheStaffFlowIsAnsweredAgain(t *testing.T) {
	f := newProcFixture(t, func(c *Config) { c.Handoff = ownedBy{} })
	f.j.mu.Lock()
	f.j.convs["Ustuck"] = Conversation{UserID: "Ustuck", State: flows.State{Flow: flows.FlowStaff, Handoff: flows.HandoffState{Noted: true}}}
	f.j.mu.Unlock()
	f.p.Enqueue([]Event{f.text("E5", "Ustuck", "もしもし")})
	f.idle(t)
	st, err := f.j.Step(context.Background(), "E5")
	if err != nil || st.State.Flow == flows.FlowStaff || len(st.Out) == 0 {
		t.Fatalf("step %+v %v: want the bot to answer and the staff flow left", st, err)
	}
}
