package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/linesim"
)

const metricsToken = "metrics-test-token-0123456789"

// scrape GETs a /metrics URL with an optional Authorization header and parses the text format.
func scrape(t *testing.T, url, auth string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics is not in the text format: %v", err)
	}
	return res.StatusCode, fams
}

// sample finds the metric of a family with the given labels (name=value pairs); nil when absent.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// counter is a counter's value (-1 when absent).
func counter(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := sample(fams, name, labels...)
	if m == nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestMetricsCountWhatThePipelineDid runs events through /callback, the real processor and the
// simulator as LINE (answering two replies 500 first), then scrapes /metrics with the bearer token
// and checks that each counter moved by what was done and the histograms observed every answer.
func TestMetricsCountWhatThePipelineDid(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarness(t, harnessOpts{metrics: reg, metricsToken: metricsToken})
	url, auth := h.bot.URL+"/metrics", "Bearer "+metricsToken
	h.api.SetFault(linesim.Fault{Status: http.StatusInternalServerError, Count: 2, PathPrefix: "/v2/bot/message/reply"})

	users := []string{"Umetrics1", "Umetrics2", "Umetrics3"}
	for _, text := range []string{"メニュー", "プライバシーポリシーについて"} {
		for _, u := range users {
			if code := h.send(h.sender.TextEvent(u, text)); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
		}
	}
	if code := h.send(h.sender.FollowEvent("Umetrics4", false)); code != http.StatusOK {
		t.Fatalf("follow: status %d", code)
	}
	// Two events in one request: one request, two events.
	if code := h.send(h.sender.TextEvent("Umetrics5", "メニュー"), h.sender.TextEvent("Umetrics5", "こんにちは")); code != http.StatusOK {
		t.Fatalf("batch: status %d", code)
	}
	// LINE's verification request: a 200 with no events, so no acknowledgement latency.
	verify := []byte(`{"destination":"Ubot","events":[]}`)
	if code, err := h.sender.SendRaw(context.Background(), verify, linesim.Sign(testSecret, verify)); err != nil || code != http.StatusOK {
		t.Fatalf("verification: %d %v", code, err)
	}
	if code, err := h.sender.SendRaw(context.Background(), verify, "bm90IGEgc2lnbmF0dXJl"); err != nil || code != http.StatusBadRequest {
		t.Fatalf("forged: %d %v", code, err)
	}
	const events, requests = 9, 8 // events (8 messages, 1 follow), all answered; 200s that carried events
	h.settle()

	var fams map[string]*dto.MetricFamily
	waitFor(t, "every answer counted", func() bool {
		_, fams = scrape(t, url, auth)
		return counter(fams, "privacybot_answers_total", "result", "reply") == events
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"privacybot_webhook_requests_total", []string{"code", "200"}, requests + 1},
		{"privacybot_webhook_requests_total", []string{"code", "400"}, 1},
		{"privacybot_webhook_events_total", []string{"type", "message"}, events - 1},
		{"privacybot_webhook_events_total", []string{"type", "follow"}, 1},
		{"privacybot_events_handled_total", []string{"result", "processed"}, events},
		{"privacybot_events_handled_total", []string{"result", "reprocessed"}, 0},
		{"privacybot_answers_total", []string{"result", "failed"}, 0},
		{"privacybot_line_api_calls_total", []string{"endpoint", "reply", "outcome", "accepted"}, events},
		{"privacybot_line_api_calls_total", []string{"endpoint", "reply", "outcome", "retryable"}, 2},
		{"privacybot_line_api_calls_total", []string{"endpoint", "push", "outcome", "accepted"}, 0},
		{"privacybot_line_api_calls_total", []string{"endpoint", "profile", "outcome", "accepted"}, 5}, // one per new customer
		{"privacybot_line_api_retries_total", []string{"endpoint", "reply"}, 2},
	} {
		if got := counter(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	ack := sample(fams, "privacybot_webhook_ack_latency_seconds").GetHistogram()
	if ack.GetSampleCount() != requests || ack.GetSampleSum() <= 0 {
		t.Errorf("ack latency: %d observations (sum %v), want %d", ack.GetSampleCount(), ack.GetSampleSum(), requests)
	}
	answer := sample(fams, "privacybot_answer_latency_seconds", "via", "reply").GetHistogram()
	if answer.GetSampleCount() != events || answer.GetSampleSum() <= 0 {
		t.Errorf("answer latency: %d observations (sum %v), want %d", answer.GetSampleCount(), answer.GetSampleSum(), events)
	}
	if b := answer.GetBucket(); len(b) == 0 || b[len(b)-1].GetCumulativeCount() != events {
		t.Errorf("answer latency buckets %v: the widest must hold every answer", b)
	}
	if s := h.proc.Stats(); s.Processed != events || s.Replies != events || s.Retries != 2 {
		t.Errorf("Stats %+v does not read the same counters", s)
	}

	// The bearer token: required, and compared exactly.
	for _, a := range []string{"", "Bearer wrong-token-0123456789", "Basic " + metricsToken, metricsToken, "Bearer " + metricsToken + "x"} {
		if code, _ := scrape(t, url, a); code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", a, code)
		}
	}
}

// TestMetricsEndpointRules: 404 on the main port without METRICS_TOKEN, 401 without the right
// bearer token, 200 with it, and the loopback listener's open endpoint.
func TestMetricsEndpointRules(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "privacybot_test_total", Help: "A test counter."}))
	serve := func(ep *handlers.MetricsEndpoint) string {
		srv := httptest.NewServer(handlers.NewRouter(quietLog(), handlers.Routes{Extra: map[string]http.Handler{"/metrics": ep}}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	unset := serve(&handlers.MetricsEndpoint{Registry: reg})
	for _, a := range []string{"", "Bearer "} {
		if code, _ := scrape(t, unset+"/metrics", a); code != http.StatusNotFound {
			t.Errorf("no METRICS_TOKEN, Authorization %q: status %d, want 404", a, code)
		}
	}
	withToken := serve(&handlers.MetricsEndpoint{Registry: reg, Token: metricsToken})
	if code, _ := scrape(t, withToken+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: status %d, want 401", code)
	}
	code, fams := scrape(t, withToken+"/metrics", "bearer "+metricsToken)
	if code != http.StatusOK || counter(fams, "privacybot_test_total") != 0 {
		t.Errorf("the right token: status %d, families %v", code, fams)
	}
	if code, _ := scrape(t, withToken+"/metrics/more", "Bearer "+metricsToken); code != http.StatusNotFound {
		t.Errorf("/metrics/more: status %d, want 404", code)
	}
	res, err := http.Post(withToken+"/metrics", "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", res.StatusCode)
	}
	open := serve(&handlers.MetricsEndpoint{Registry: reg, Open: true})
	if code, fams := scrape(t, open+"/metrics", ""); code != http.StatusOK || fams["privacybot_test_total"] == nil {
		t.Errorf("the loopback listener's endpoint: status %d", code)
	}
}
