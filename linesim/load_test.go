package linesim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// stubBot verifies signatures, acknowledges, then answers each text event
// asynchronously through the API: by reply, or by push for every pushEvery-th
// event (0: never), or twice for event text equal to double. With failEvery,
// the first delivery of every failEvery-th event is answered 503, and every
// other one of those is answered all the same (stored after all, as a store
// that answers past the deadline does); redeliveries of an event already
// taken are acknowledged and not answered again.
type stubBot struct {
	t           *testing.T
	api         *messaging_api.MessagingApiAPI
	pushEvery   int
	double      string
	failEvery   int
	wg          sync.WaitGroup
	mu          sync.Mutex
	n           int
	taken       map[string]bool // webhookEventIds answered
	redelivered int             // events that came marked as redeliveries
}

// admit decides what becomes of a delivery of me: whether to answer it, and the status to send.
func (b *stubBot) admit(me webhook.MessageEvent) (answer bool, status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.taken == nil {
		b.taken = map[string]bool{}
	}
	if me.DeliveryContext.IsRedelivery {
		b.redelivered++
	}
	if b.taken[me.WebhookEventId] {
		return false, http.StatusOK
	}
	if !me.DeliveryContext.IsRedelivery {
		b.n++
	}
	if b.failEvery > 0 && b.n%b.failEvery == 0 && !me.DeliveryContext.IsRedelivery {
		storedAnyway := b.n%(2*b.failEvery) == 0
		b.taken[me.WebhookEventId] = storedAnyway
		return storedAnyway, http.StatusServiceUnavailable
	}
	b.taken[me.WebhookEventId] = true
	return true, http.StatusOK
}

func (b *stubBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cb, err := webhook.ParseRequest(testSecret, r)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	status := http.StatusOK
	for _, ev := range cb.Events {
		me, ok := ev.(webhook.MessageEvent)
		if !ok {
			continue
		}
		tm := me.Message.(webhook.TextMessageContent)
		user := me.Source.(webhook.UserSource).UserId
		answer, st := b.admit(me)
		if st != http.StatusOK {
			status = st
		}
		if !answer {
			continue
		}
		b.mu.Lock()
		push := b.pushEvery > 0 && b.n%b.pushEvery == 0
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			msgs := []messaging_api.MessageInterface{messaging_api.TextMessage{Text: "menu for " + tm.Text}}
			times := 1
			if tm.Text == b.double {
				times = 2
			}
			for range times {
				var err error
				if push {
					_, err = b.api.PushMessage(&messaging_api.PushMessageRequest{To: user, Messages: msgs}, uuid.NewString())
				} else {
					_, err = b.api.ReplyMessage(&messaging_api.ReplyMessageRequest{ReplyToken: me.ReplyToken, Messages: msgs})
				}
				if err != nil && times == 1 {
					b.t.Errorf("answer %q: %v", tm.Text, err)
				}
			}
		}()
	}
	w.WriteHeader(status)
}

func startStub(t *testing.T, pushEvery int, double string) (*stubBot, *httptest.Server, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := messaging_api.NewMessagingApiAPI(testToken, messaging_api.WithEndpoint("http://"+ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	b := &stubBot{t: t, api: c, pushEvery: pushEvery, double: double}
	srv := httptest.NewServer(b)
	t.Cleanup(func() { b.wg.Wait(); srv.Close() })
	return b, srv, ln
}

func TestRunLoadNoLossNoDoubles(t *testing.T) {
	_, srv, ln := startStub(t, 3, "")
	rep, err := RunLoad(context.Background(), LoadConfig{
		BotURL: srv.URL, Secret: testSecret, Token: testToken, Listener: ln,
		Rate: 400, Users: 7, MaxEvents: 120, Duration: 5 * time.Second, Drain: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 120 || rep.Acked != 120 || rep.Answered != 120 || rep.Replies != 80 || rep.Pushes != 40 {
		t.Errorf("report:\n%s", rep.Table())
	}
	if err := rep.Check(); err != nil {
		t.Errorf("%v\n%s", err, rep.Table())
	}
	var js map[string]any
	b, _ := json.Marshal(rep)
	if err := json.Unmarshal(b, &js); err != nil || js["lost"] != float64(0) || js["statuses"].(map[string]any)["200"] != float64(120) {
		t.Errorf("json %s %v", b, err)
	}
}

// With Redeliveries, an event answered 503 is sent again as LINE's redelivery would, marked as one,
// until it is acknowledged; whether the bot had taken it before or not, it is answered once.
func TestRunLoadRedeliversRefusedEvents(t *testing.T) {
	b, srv, ln := startStub(t, 0, "")
	b.failEvery = 4
	rep, err := RunLoad(context.Background(), LoadConfig{
		BotURL: srv.URL, Secret: testSecret, Token: testToken, Listener: ln,
		Rate: 400, Users: 5, MaxEvents: 40, Drain: 10 * time.Second,
		Redeliveries: 3, RedeliveryDelay: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 40 || rep.Acked != 40 || rep.Non200 != 0 || rep.Redelivered != 10 || rep.Answered != 40 {
		t.Errorf("report:\n%s", rep.Table())
	}
	if err := rep.Check(); err != nil {
		t.Errorf("%v\n%s", err, rep.Table())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.redelivered != 10 {
		t.Errorf("the bot saw %d events marked as redeliveries, want 10", b.redelivered)
	}

	// Without redelivery the refused ones stay refused, and are not counted lost.
	b2, srv2, ln2 := startStub(t, 0, "")
	b2.failEvery = 4
	rep, err = RunLoad(context.Background(), LoadConfig{
		BotURL: srv2.URL, Secret: testSecret, Token: testToken, Listener: ln2,
		Rate: 400, Users: 5, MaxEvents: 40, Drain: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Acked != 30 || rep.Statuses[503] != 10 || rep.Redelivered != 0 || rep.Lost != 0 {
		t.Errorf("no redelivery:\n%s", rep.Table())
	}
}

func TestRunLoadDetectsDoublesAndLoss(t *testing.T) {
	_, srv, ln := startStub(t, 0, "load 5")
	rep, err := RunLoad(context.Background(), LoadConfig{
		BotURL: srv.URL, Secret: "wrong-secret", Token: testToken, Listener: ln,
		Rate: 500, Users: 3, MaxEvents: 10, Drain: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A wrong secret: every event is refused with 400, none answered, none lost.
	if rep.Non200 != 10 || rep.Statuses[400] != 10 || rep.Lost != 0 {
		t.Errorf("wrong secret:\n%s", rep.Table())
	}

	_, srv2, ln2 := startStub(t, 0, "load 5")
	rep, err = RunLoad(context.Background(), LoadConfig{
		BotURL: srv2.URL, Secret: testSecret, Token: testToken, Listener: ln2,
		Rate: 500, Users: 3, MaxEvents: 10, Drain: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	// "load 5" is answered twice with the same token: the second is refused.
	if rep.InvalidTokens != 1 || rep.Doubled != 0 || rep.Lost != 0 {
		t.Errorf("double reply:\n%s", rep.Table())
	}
}

func TestMatchAnswersCountsExactly(t *testing.T) {
	api := NewAPI(APIOptions{AccessToken: testToken})
	srv := httptest.NewServer(api)
	defer srv.Close()
	users := []string{"Ua", "Ub"}
	var events []*loadEvent
	for i := range 4 {
		events = append(events, &loadEvent{user: i % 2, token: api.IssueReplyToken(users[i%2]), sentAt: time.Now(), status: 200})
	}
	reply := func(tok string) {
		r, _ := http.NewRequest("POST", srv.URL+"/v2/bot/message/reply", strings.NewReader(`{"replyToken":"`+tok+`","messages":[{"type":"text","text":"x"}]}`))
		r.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	push := func(to string) {
		r, _ := http.NewRequest("POST", srv.URL+"/v2/bot/message/push", bytes.NewReader([]byte(`{"to":"`+to+`","messages":[{"type":"text","text":"x"}]}`)))
		r.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	reply(events[0].token) // Ua event 0
	push("Ua")             // Ua event 2
	push("Ua")             // Ua: one too many -> doubled
	push("Ub")             // Ub event 1; Ub event 3 lost
	var rep LoadReport
	matchAnswers(&rep, events, users, api, 1)
	if rep.Answered != 3 || rep.Lost != 1 || rep.Doubled != 1 || rep.Replies != 1 || rep.Pushes != 3 {
		t.Errorf("%+v", rep)
	}
}

// An answer that overtakes the answer to an earlier event of the same user is out of order only when
// that earlier event was acknowledged with 200 before this one was sent.
func TestMatchAnswersOrder(t *testing.T) {
	api := NewAPI(APIOptions{AccessToken: testToken})
	srv := httptest.NewServer(api)
	defer srv.Close()
	t0 := time.Now()
	for _, tc := range []struct {
		name       string
		firstState int
		want       int
	}{
		{"acknowledged first", http.StatusOK, 1},
		{"refused first (may have been stored later)", http.StatusServiceUnavailable, 0},
	} {
		users := []string{"U" + tc.name}
		first := &loadEvent{token: api.IssueReplyToken(users[0]), sentAt: t0, ack: time.Millisecond, status: tc.firstState}
		second := &loadEvent{token: api.IssueReplyToken(users[0]), sentAt: t0.Add(time.Second), ack: time.Millisecond, status: http.StatusOK}
		for _, tok := range []string{second.token, first.token} { // the later event's answer first
			r, _ := http.NewRequest("POST", srv.URL+"/v2/bot/message/reply", strings.NewReader(`{"replyToken":"`+tok+`","messages":[{"type":"text","text":"x"}]}`))
			r.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		var rep LoadReport
		matchAnswers(&rep, []*loadEvent{first, second}, users, api, 1)
		if rep.OutOfOrder != tc.want || len(rep.Disorders) != tc.want {
			t.Errorf("%s: %d out of order, want %d", tc.name, rep.OutOfOrder, tc.want)
		}
	}
}

func TestRunLoadRefusesNonLoopback(t *testing.T) {
	for _, cfg := range []LoadConfig{
		{BotURL: "http://example.com/callback", APIAddr: "127.0.0.1:0"},
		{BotURL: "http://127.0.0.1:1/callback", APIAddr: "0.0.0.0:9091"},
		{BotURL: "http://127.0.0.1:1/callback", APIAddr: ":9091"},
	} {
		if _, err := RunLoad(context.Background(), cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
