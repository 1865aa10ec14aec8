package bot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gathered returns the registry's metrics by family name.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// metric finds the metric of a family whose labels are exactly the given name=value pairs.
func metric(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	for _, m := range fams[name].GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		ok := true
		for i, lp := range m.GetLabel() {
			ok = ok && lp.GetName() == labels[2*i] && lp.GetValue() == labels[2*i+1]
		}
		if ok {
			return m
		}
	}
	return nil
}

// scriptedMessenger answers from memMessenger, except that a push to a user in refuse is refused
// for good and the first replyFailures replies are answered 500.
type scriptedMessenger struct {
	*memMessenger
	mu             sync.Mutex
	refuse         map[string]bool
	replyFailures  int
	replyAttempted int
}

func (s *scriptedMessenger) Reply(ctx context.Context, token string, msgs []Message) CallResult {
	s.mu.Lock()
	s.replyAttempted++
	fail := s.replyAttempted <= s.replyFailures
	s.mu.Unlock()
	if fail {
		return CallResult{Outcome: Retryable, Status: 500}
	}
	return s.memMessenger.Reply(ctx, token, msgs)
}

func (s *scriptedMessenger) Push(ctx context.Context, to, key string, msgs []Message) CallResult {
	if s.refuse[to] {
		return CallResult{Outcome: Permanent, Status: 400}
	}
	return s.memMessenger.Push(ctx, to, key, msgs)
}

// TestProcessorMetrics: each way an event ends is counted once, an answer's latency is measured from
// the event's receipt, and Stats reads the same instruments.
func TestProcessorMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	sm := &scriptedMessenger{memMessenger: newMemMessenger(), refuse: map[string]bool{"Urefused": true}, replyFailures: 2}
	f := newProcFixture(t, func(c *Config) { c.Metrics = NewMetrics(reg); c.Messenger = sm })

	fresh := f.text("Efresh", "Ufresh", "メニュー") // replied after two 500s
	old := f.text("Eold", "Uold", "メニュー")       // too old for its reply token: pushed
	old.Timestamp, old.ReceivedAt = f.now.Add(-90*time.Second), f.now.Add(-90*time.Second)
	refused := f.text("Erefused", "Urefused", "メニュー") // pushed (no token) and refused
	refused.ReplyToken = ""
	standby := f.text("Estandby", "Ustandby", "メニュー") // another channel's standby event: not answered
	standby.Standby = true
	f.p.Enqueue([]Event{fresh, old, refused, standby})
	f.idle(t)

	fams := gathered(t, reg)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"privacybot_events_handled_total", []string{"result", "processed"}, 3},
		{"privacybot_events_handled_total", []string{"result", "ignored"}, 1},
		{"privacybot_answers_total", []string{"result", "reply"}, 1},
		{"privacybot_answers_total", []string{"result", "push"}, 1},
		{"privacybot_answers_total", []string{"result", "failed"}, 1},
		{"privacybot_line_api_retries_total", []string{"endpoint", "reply"}, 2},
		{"privacybot_line_api_retries_total", []string{"endpoint", "push"}, 0},
	} {
		if got := metric(fams, c.name, c.labels...).GetCounter().GetValue(); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The pushed answer waited 90 s since its receipt: in the bucket up to 120 s, not the one up to 50 s.
	push := metric(fams, "privacybot_answer_latency_seconds", "via", "push").GetHistogram()
	if push.GetSampleCount() != 1 || push.GetSampleSum() < 90 {
		t.Fatalf("push latency %v", push)
	}
	for _, b := range push.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 120 {
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if n := metric(fams, "privacybot_answer_latency_seconds", "via", "reply").GetHistogram().GetSampleCount(); n != 1 {
		t.Errorf("reply latency observations %d, want 1", n)
	}
	s := f.p.Stats()
	if s.Processed != 3 || s.Ignored != 1 || s.Replies != 1 || s.Pushes != 1 || s.Failures != 1 || s.Retries != 2 || s.AvgAnswerMs < 45000 {
		t.Errorf("Stats %+v does not read the instruments", s)
	}
	if n := f.p.Backlog(); n != 0 {
		t.Errorf("backlog %d after every event was handled", n)
	}
}

// TestLINEClientCountsEveryCall: the instrumented client counts each call by endpoint kind and
// outcome; an uninstrumented one counts nothing and works the same.
func TestLINEClientCountsEveryCall(t *testing.T) {
	status := map[string]int{"/v2/bot/message/reply": 400, "/v2/bot/message/push": 409, "/v2/bot/profile/U1": 200,
		"/v2/bot/profile/U404": 404, "/v2/bot/message/123/content": 503}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := status[r.URL.Path]
		w.WriteHeader(code)
		switch {
		case strings.HasSuffix(r.URL.Path, "/reply"):
			_, _ = w.Write([]byte(`{"message":"Invalid reply token"}`))
		case code == 200:
			_, _ = w.Write([]byte(`{"userId":"U1","displayName":"x","language":"en"}`))
		default:
			_, _ = w.Write([]byte(`{"message":"x"}`))
		}
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	l := NewLINE("tok", srv.URL, nil).Instrument(m)
	content := NewContentClient("tok", srv.URL, nil).Instrument(m)
	ctx := context.Background()
	l.Reply(ctx, "rt", []Message{{Text: "hi"}})
	l.Push(ctx, "U1", RetryKey("e", 0), []Message{{Text: "hi"}})
	if lang, err := l.ProfileLanguage(ctx, "U1"); err != nil || lang != "en" {
		t.Fatalf("profile %q %v", lang, err)
	}
	if _, err := l.ProfileLanguage(ctx, "U404"); err == nil {
		t.Fatal("a 404 profile gave no error")
	}
	content.MessageContent(ctx, "123", 1<<20)
	content.MessageContent(ctx, "../x", 1<<20) // refused before any call: not counted

	fams := gathered(t, reg)
	for _, c := range [][3]string{
		{"reply", "invalid-reply-token", "1"}, {"push", "already-accepted", "1"}, {"profile", "accepted", "1"},
		{"profile", "permanent", "1"}, {"content", "retryable", "1"}, {"content", "permanent", "0"}, {"reply", "accepted", "0"},
	} {
		got := metric(fams, "privacybot_line_api_calls_total", "endpoint", c[0], "outcome", c[1]).GetCounter().GetValue()
		if want := map[string]float64{"0": 0, "1": 1}[c[2]]; got != want {
			t.Errorf("calls{%s,%s} = %v, want %v", c[0], c[1], got, want)
		}
	}
	if r := NewLINE("tok", srv.URL, nil).Push(ctx, "U1", RetryKey("e", 0), nil); r.Outcome != AlreadyDone {
		t.Errorf("uninstrumented client: %v", r.Outcome)
	}
}
