package bot

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/flows"
)

// TestConfiguredRetentionReachesEveryInput: the periods in force (Config.Retention) reach the input of
// every step, typed or tapped, and the customer hears them when asking about item 13.
func TestConfiguredRetentionReachesEveryInput(t *testing.T) {
	periods := []flows.Period{
		{Kind: flows.DataTranscript, N: 2, Unit: flows.Years},
		{Kind: flows.DataConversations, N: 90, Unit: flows.Days},
	}
	var mu sync.Mutex
	seen := map[flows.InputKind][]flows.Period{}
	f := newProcFixture(t, func(c *Config) {
		c.Retention = periods
		c.Classify = func(string) flows.Intent {
			return flows.Intent{Name: "faq.13", Confidence: 0.99, Topic: "13.retention"}
		}
		c.Step = func(st flows.State, in flows.Input) flows.Result {
			mu.Lock()
			seen[in.Kind] = in.Retention
			mu.Unlock()
			return flows.Step(st, in)
		}
	})
	f.p.Enqueue([]Event{f.text("R1", "Uret", "保存期間は？")})
	f.idle(t)
	f.p.Enqueue([]Event{{ID: "R2", Kind: EventPostback, Type: "postback", UserID: "Uret", Timestamp: f.now,
		ReceivedAt: f.now, ReplyToken: "rt-R2", Postback: flows.FAQPostback("13.retention")}})
	f.idle(t)

	mu.Lock()
	for _, kind := range []flows.InputKind{flows.InputText, flows.InputPostback} {
		if got, ok := seen[kind]; !ok || !slices.Equal(got, periods) {
			t.Errorf("input kind %d: Retention %v, want %v", kind, got, periods)
		}
	}
	mu.Unlock()

	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	for _, token := range []string{"rt-R1", "rt-R2"} {
		msgs := f.m.sent["reply:"+token]
		if len(msgs) != 1 {
			t.Fatalf("%s: %d messages, want the answer", token, len(msgs))
		}
		for _, want := range []string{"・会話の記録：それぞれのメッセージから2年", "最後のやりとりから90日", "（プライバシーポリシー第13項「保存期間」）"} {
			if !strings.Contains(msgs[0].Text, want) {
				t.Errorf("%s: answer lacks %q:\n%s", token, want, msgs[0].Text)
			}
		}
	}
}

// TestNoRetentionConfiguredLeavesTheInputUnknown: without Config.Retention the input says nothing of
// the periods, and the answer refers the customer to the window.
func TestNoRetentionConfiguredLeavesTheInputUnknown(t *testing.T) {
	var mu sync.Mutex
	var got []flows.Period
	called := false
	f := newProcFixture(t, func(c *Config) {
		c.Classify = func(string) flows.Intent { return flows.Intent{Name: "faq.13", Confidence: 0.99} }
		c.Step = func(st flows.State, in flows.Input) flows.Result {
			mu.Lock()
			got, called = in.Retention, true
			mu.Unlock()
			return flows.Step(st, in)
		}
	})
	f.p.Enqueue([]Event{f.text("R3", "Unone", "保存期間は？")})
	f.idle(t)
	mu.Lock()
	if !called || got != nil {
		t.Errorf("step called %v with Retention %v, want nil", called, got)
	}
	mu.Unlock()
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if msgs := f.m.sent["reply:rt-R3"]; len(msgs) != 1 || !strings.Contains(msgs[0].Text, "第12項の窓口") {
		t.Errorf("answer %+v: want today's answer, referring to the window", msgs)
	}
}

// TestForgetIdleDropsOnlyIdleConversations: the retention sweeper's deletion of a checkpoint is final
// because the processor first forgets the cached copy; conversations written since the cutoff stay
// cached, and a customer who writes again is answered from the store.
func TestForgetIdleDropsOnlyIdleConversations(t *testing.T) {
	f := newProcFixture(t, nil)
	f.p.Enqueue([]Event{f.text("F1", "Ua", "こんにちは"), f.text("F2", "Ub", "こんにちは")})
	f.idle(t)
	if n := f.p.ForgetIdle(time.Now().Add(-time.Hour)); n != 0 {
		t.Fatalf("forgot %d conversations checkpointed after the cutoff", n)
	}
	if n := f.p.ForgetIdle(time.Now().Add(time.Hour)); n != 2 {
		t.Fatalf("forgot %d idle conversations, want 2", n)
	}
	if n := f.p.ForgetIdle(time.Now().Add(time.Hour)); n != 0 || f.p.Stats().CachedUsers != 0 {
		t.Fatalf("a second call forgot %d; cached %d", n, f.p.Stats().CachedUsers)
	}
	f.p.Enqueue([]Event{f.text("F3", "Ua", "こんにちは")})
	f.idle(t)
	if f.p.Stats().CachedUsers != 1 {
		t.Errorf("the customer who wrote again is not cached: %+v", f.p.Stats())
	}
}
