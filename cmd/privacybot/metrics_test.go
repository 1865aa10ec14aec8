package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/enemane/privacybot/linesim"
)

func TestMetricsConfig(t *testing.T) {
	const token = "a-metrics-token-of-24-ch"
	for _, c := range []struct {
		addr, token string
		want        string // the address in force; "!" = refused
	}{
		{"", "", defaultMetricsAddr},
		{"off", "", ""},
		{"127.0.0.1:9500", "", "127.0.0.1:9500"},
		{"localhost:9500", "", "localhost:9500"},
		{"[::1]:9500", "", "[::1]:9500"},
		{"0.0.0.0:9464", "", "!"},
		{":9464", "", "!"},
		{"10.0.0.5:9464", "", "!"},
		{"0.0.0.0:9464", token, "0.0.0.0:9464"},
		{":9464", token, ":9464"},
		{"127.0.0.1:9464", "short", "!"},
		{"127.0.0.1", "", "!"},
	} {
		t.Setenv("METRICS_ADDR", c.addr)
		t.Setenv("METRICS_TOKEN", c.token)
		addr, _, err := loadMetricsConfig()
		switch {
		case c.want == "!" && err == nil:
			t.Errorf("METRICS_ADDR=%q METRICS_TOKEN=%q accepted (%q)", c.addr, c.token, addr)
		case c.want == "!":
			if !strings.Contains(err.Error(), "METRICS_") {
				t.Errorf("METRICS_ADDR=%q: the refusal %q does not name the setting", c.addr, err)
			}
		case err != nil || addr != c.want:
			t.Errorf("METRICS_ADDR=%q METRICS_TOKEN=%q: %q %v, want %q", c.addr, c.token, addr, err, c.want)
		}
	}
}

// TestNonLoopbackMetricsAddrIsRefused: the server does not start with metrics open to the network.
func TestNonLoopbackMetricsAddrIsRefused(t *testing.T) {
	clearEnv(t)
	t.Setenv("LINE_CHANNEL_SECRET", "s")
	t.Setenv("LINE_CHANNEL_ACCESS_TOKEN", "t")
	t.Setenv("METRICS_ADDR", "0.0.0.0:9464")
	t.Setenv("METRICS_TOKEN", "")
	_, err := loadConfig()
	if err == nil || !strings.Contains(err.Error(), "METRICS_TOKEN") || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("METRICS_ADDR on every interface without a token: %v, want a refusal naming METRICS_TOKEN", err)
	}
	if testing.Short() {
		return
	}
	// The binary itself refuses, before it opens anything.
	cmd := exec.Command(buildBinary(t))
	cmd.Env = append(os.Environ(), "DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "METRICS_ADDR 0.0.0.0:9464 is not a loopback address") {
		t.Fatalf("the server started, or said something else: %v\n%s", err, out)
	}
}

// TestServerServesMetrics runs the real binary with METRICS_ADDR and METRICS_TOKEN, sends it events
// as LINE would, and scrapes both ways: the loopback listener (no token) and the main port (bearer
// token).
func TestServerServesMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := buildBinary(t)
	api := linesim.NewAPI(linesim.APIOptions{AccessToken: crashToken})
	apiHTTP := httptest.NewServer(api)
	t.Cleanup(apiHTTP.Close)
	apiSrv := apiHTTP.URL
	port, mport := freePort(t), freePort(t)
	const token = "metrics-token-0123456789abcdef"
	srv := startServer(t, bin, port, append(os.Environ(),
		fmt.Sprintf("PORT=%d", port), "DATA_DIR="+t.TempDir(), "MONGODB_URI=",
		"LINE_CHANNEL_SECRET="+crashSecret, "LINE_CHANNEL_ACCESS_TOKEN="+crashToken,
		"DOCUMENT_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"LINE_API_BASE_URL="+apiSrv, "LINE_API_DATA_BASE_URL="+apiSrv, "LOG_LEVEL=warn",
		fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", mport), "METRICS_TOKEN="+token))
	botURL := srv.URL
	listener := fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)
	waitUntil(t, "the metrics listener", srv.done, func() bool { code, _ := scrapeURL(t, listener, ""); return code == http.StatusOK })

	sender := &linesim.Sender{BotURL: botURL + "/callback", ChannelSecret: crashSecret, API: api}
	users := []string{"Umetric1", "Umetric2", "Umetric3"}
	for _, u := range users {
		if code, err := sender.Send(context.Background(), sender.TextEvent(u, "メニュー")); err != nil || code != http.StatusOK {
			t.Fatalf("send: %d %v", code, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, u := range users {
		if _, err := api.WaitDeliveries(ctx, u, 1); err != nil {
			t.Fatalf("%s not answered: %v", u, err)
		}
	}
	var fams map[string]*dto.MetricFamily
	waitUntil(t, "the answers counted and the backlog empty", srv.done, func() bool {
		_, fams = scrapeURL(t, listener, "")
		return metricValue(fams, "privacybot_answers_total", "result", "reply") == 3 &&
			metricValue(fams, "privacybot_inbox_backlog_events") == 0
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"privacybot_webhook_requests_total", []string{"code", "200"}, 3},
		{"privacybot_webhook_events_total", []string{"type", "message"}, 3},
		{"privacybot_events_handled_total", []string{"result", "processed"}, 3},
		{"privacybot_line_api_calls_total", []string{"endpoint", "reply", "outcome", "accepted"}, 3},
		{"privacybot_escalations_open", []string{"status", "queued"}, 0},
		{"privacybot_requests_overdue", nil, 0},
		{"privacybot_optout_subjects", []string{"channel", "phone"}, 0},
		{"privacybot_retention_deleted_total", []string{"kind", "transcript"}, 0},
	} {
		if got := metricValue(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for name, want := range map[string]uint64{"privacybot_webhook_ack_latency_seconds": 3, "privacybot_answer_latency_seconds": 3} {
		if f := fams[name]; f == nil || f.GetMetric()[0].GetHistogram().GetSampleCount() != want {
			t.Errorf("%s: %v, want %d observations", name, f, want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "privacybot_retention_last_sweep_timestamp_seconds"} {
		if fams[name] == nil {
			t.Errorf("%s missing", name)
		}
	}

	// The main port: the bearer token, and nothing without it.
	if code, _ := scrapeURL(t, botURL+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("main port without a token: %d, want 401", code)
	}
	if code, fams := scrapeURL(t, botURL+"/metrics", "Bearer "+token); code != http.StatusOK || fams["privacybot_answers_total"] == nil {
		t.Errorf("main port with the token: %d", code)
	}
}

func scrapeURL(t *testing.T, url, auth string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("%s is not in the text format: %v", url, err)
	}
	return res.StatusCode, fams
}

// metricValue is the value of a counter or gauge with the given labels (-1 when absent).
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	return -1
}
