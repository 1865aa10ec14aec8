package bot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/bot/outbox/outboxtest"
	"github.com/enemane/privacybot/flows"
)

// groupLINE is the staff group's side of LINE: it records pushes and answers them in turn from
// answers (the last one repeating).
type groupLINE struct {
	mu      sync.Mutex
	pushes  []groupPush
	answers []CallResult
}

type groupPush struct {
	to, retryKey, text string
}

func (g *groupLINE) Push(_ context.Context, to, retryKey string, msgs []Message) CallResult {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pushes = append(g.pushes, groupPush{to, retryKey, msgs[0].Text})
	return g.answers[min(len(g.pushes), len(g.answers))-1]
}

func (g *groupLINE) MarkAsRead(context.Context, string) error { return nil }

func (g *groupLINE) sent() []groupPush {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]groupPush(nil), g.pushes...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestStaffAlertsGoThroughTheOutbox: an escalation's alert is queued for the staff group and the
// staff webhook while the effect is applied (applying it again queues nothing more); the outbox sends
// the webhook (signed, the same JSON as before) and retries the group push LINE answered 500 to, under
// one retry key.
func TestStaffAlertsGoThroughTheOutbox(t *testing.T) {
	const secret = "staff-webhook-secret"
	var mu sync.Mutex
	var hooks []map[string]any
	var headers []http.Header
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !outbox.Verify(secret, body, r.Header.Get(outbox.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		hooks, headers = append(hooks, m), append(headers, r.Header.Clone())
		mu.Unlock()
	}))
	defer recv.Close()
	line := &groupLINE{answers: []CallResult{{Outcome: Retryable, Status: 500}, {Outcome: Accepted, Status: 200}}}
	rend, err := NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	st, clk := outboxtest.NewStore(), outboxtest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ob, err := outbox.Open(context.Background(), outbox.Config{Store: st, Clock: clk, Log: quiet,
		Policy: outbox.Policy{RetryBase: time.Second, Jitter: func(d time.Duration) time.Duration { return d }},
		Destinations: map[string]outbox.Destination{
			StaffLINEDestination:    &GroupAlerter{LINE: line, GroupID: "Cstaff", Renderer: rend},
			StaffWebhookDestination: &outbox.Webhook{URL: recv.URL, Secret: secret},
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ob.Run(ctx) }()
	defer func() { cancel(); <-done }()

	h := NewHandoffs(HandoffConfig{BaseURL: "https://desk.example", Log: quiet, Alerters: []Alerter{
		&OutboxAlerter{Outbox: ob, Destination: StaffLINEDestination},
		&OutboxAlerter{Outbox: ob, Destination: StaffWebhookDestination}}})
	e := Escalation{ID: EscalationID("ev1", 0), UserID: "U1", Lang: flows.En, Reason: flows.ReasonComplaint, Category: "billing",
		Priority: flows.PriorityHigh, Description: "my address is 住所", CreatedAt: time.Date(2026, 12, 1, 8, 59, 0, 0, time.UTC)}
	for range 2 { // the effect applied again after a crash
		if err := h.alert(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if adds, _, _ := st.Counts(); adds != 2 {
		t.Fatalf("%d deliveries queued, want 2 (group and webhook)", adds)
	}

	waitUntil(t, "the webhook", func() bool { mu.Lock(); defer mu.Unlock(); return len(hooks) == 1 })
	want := map[string]any{"type": "escalation.created", "id": e.ID, "reason": string(e.Reason), "category": "billing",
		"priority": string(e.Priority), "lang": "en", "createdAt": "2026-12-01T08:59:00Z", "url": "https://desk.example/console/chats/" + e.ID}
	if len(hooks[0]) != len(want) {
		t.Fatalf("webhook payload %v, want %v", hooks[0], want)
	}
	for k, v := range want {
		if hooks[0][k] != v {
			t.Fatalf("webhook payload %s = %v, want %v", k, hooks[0][k], v)
		}
	}
	if headers[0].Get(outbox.DeliveryHeader) != e.ID {
		t.Fatalf("delivery header %q, want the escalation ID", headers[0].Get(outbox.DeliveryHeader))
	}

	waitUntil(t, "the group push to fail and wait", func() bool { return len(line.sent()) == 1 && len(clk.Timers()) == 1 })
	clk.Advance(time.Second)
	waitUntil(t, "the group alert", func() bool { return len(ob.Delivered(StaffLINEDestination)) == 1 })
	pushes := line.sent()
	if len(pushes) != 2 || pushes[0] != pushes[1] {
		t.Fatalf("pushes %+v: want the same push twice", pushes)
	}
	if p := pushes[0]; p.to != "Cstaff" || p.retryKey != RetryKey(e.ID+"/alert", 0) ||
		!strings.Contains(p.text, "https://desk.example/console/chats/"+e.ID) || strings.Contains(p.text, "住所") {
		t.Fatalf("push %+v", p)
	}
	if d := ob.Delivered(StaffLINEDestination)[0]; d.Attempts != 2 || d.Key != e.ID {
		t.Fatalf("delivered %+v", d)
	}
}

// TestAlertThatCannotBeQueuedFailsTheEffect: with the outbox's store down, alert returns the error,
// so the pipeline applies the escalation effect again.
func TestAlertThatCannotBeQueuedFailsTheEffect(t *testing.T) {
	st := outboxtest.NewStore()
	ob, err := outbox.Open(context.Background(), outbox.Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Destinations: map[string]outbox.Destination{StaffWebhookDestination: &outbox.Webhook{URL: "http://127.0.0.1:1/"}}})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandoffs(HandoffConfig{Alerters: []Alerter{&OutboxAlerter{Outbox: ob, Destination: StaffWebhookDestination}}})
	st.Fail(errors.New("store down"))
	if err := h.alert(context.Background(), Escalation{ID: "e1"}); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("alert with the store down: %v", err)
	}
	st.Fail(nil)
	if err := h.alert(context.Background(), Escalation{ID: "e1"}); err != nil {
		t.Fatal(err)
	}
	if p := ob.Pending(""); len(p) != 1 || p[0].Key != "e1" {
		t.Fatalf("pending %+v", p)
	}
}

func TestGroupAlerterOutcomes(t *testing.T) {
	rend, err := NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := AlertPayload(Alert{ID: "e1", Reason: string(flows.ReasonHuman), Priority: string(flows.PriorityNormal), Lang: "ja"})
	d := outbox.Delivery{Message: outbox.Message{Destination: StaffLINEDestination, Type: AlertType, Key: "e1", Payload: body}}
	for _, c := range []struct {
		name            string
		answer          CallResult
		ok, permanent   bool
		retryAfter      time.Duration
		wrongType, junk bool
	}{
		{name: "accepted", answer: CallResult{Outcome: Accepted, Status: 200}, ok: true},
		{name: "accepted before (409)", answer: CallResult{Outcome: AlreadyDone, Status: 409}, ok: true},
		{name: "429 with Retry-After", answer: CallResult{Outcome: Retryable, Status: 429, RetryAfter: 7 * time.Second}, retryAfter: 7 * time.Second},
		{name: "refused (400)", answer: CallResult{Outcome: Permanent, Status: 400, Err: errors.New("bad group")}, permanent: true},
		{name: "not an alert", answer: CallResult{Outcome: Accepted}, permanent: true, wrongType: true},
		{name: "not JSON of an alert", answer: CallResult{Outcome: Accepted}, permanent: true, junk: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			line := &groupLINE{answers: []CallResult{c.answer}}
			d := d
			if c.wrongType {
				d.Type = "request.created"
			}
			if c.junk {
				d.Payload = []byte(`[1]`)
			}
			r := (&GroupAlerter{LINE: line, GroupID: "C1", Renderer: rend}).Deliver(context.Background(), d)
			if (r.Err == nil) != c.ok || r.Permanent != c.permanent || r.RetryAfter != c.retryAfter {
				t.Fatalf("result %+v", r)
			}
			if n := len(line.sent()); (n == 1) != !(c.wrongType || c.junk) {
				t.Fatalf("%d pushes", n)
			}
		})
	}
}
