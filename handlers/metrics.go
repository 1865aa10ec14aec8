package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/enemane/privacybot/bot"
)

// WebhookMetrics are the webhook's Prometheus instruments. A nil *WebhookMetrics counts nothing.
type WebhookMetrics struct {
	requests *prometheus.CounterVec // code
	events   *prometheus.CounterVec // type
	ack      prometheus.Histogram
}

// NewWebhookMetrics makes the webhook's instruments and registers them on reg.
func NewWebhookMetrics(reg prometheus.Registerer) *WebhookMetrics {
	m := &WebhookMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privacybot_webhook_requests_total",
			Help: "Requests to the LINE webhook (POST /callback), by HTTP status of the answer.",
		}, []string{"code"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privacybot_webhook_events_total",
			Help: "Events acknowledged by the webhook (stored in the inbox, answered 200), by LINE event type; redeliveries count again.",
		}, []string{"type"}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "privacybot_webhook_ack_latency_seconds",
			Help:    "Time from a webhook request's arrival to its 200, for requests that carried events.",
			Buckets: bot.AckBuckets,
		}),
	}
	reg.MustRegister(m.requests, m.events, m.ack)
	for _, code := range []int{http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable} {
		m.requests.WithLabelValues(strconv.Itoa(code))
	}
	for _, t := range []string{"message", "postback", "follow", "unfollow"} {
		m.events.WithLabelValues(t)
	}
	return m
}

// lineEventTypes are the event types of the Messaging API's webhook. Any other type (a newer one) is
// counted as "other", so a label never takes a value from outside this list.
var lineEventTypes = map[string]bool{
	"message": true, "unsend": true, "follow": true, "unfollow": true, "join": true, "leave": true,
	"memberJoined": true, "memberLeft": true, "postback": true, "videoPlayComplete": true, "beacon": true,
	"accountLink": true, "things": true, "membership": true, "module": true, "activated": true,
	"deactivated": true, "botSuspended": true, "botResumed": true, "delivery": true,
}

func (m *WebhookMetrics) request(code int) {
	if m != nil {
		m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	}
}

func (m *WebhookMetrics) acknowledged(events []bot.Event, took time.Duration) {
	if m == nil || len(events) == 0 {
		return
	}
	for _, e := range events {
		t := e.Type
		if !lineEventTypes[t] {
			t = "other"
		}
		m.events.WithLabelValues(t).Inc()
	}
	m.ack.Observe(took.Seconds())
}

// MetricsEndpoint serves a registry's metrics in Prometheus's text format.
//
// Token empty: every request is answered 404, as if there were no such page (the main port's
// /metrics when METRICS_TOKEN is not set). Otherwise a request must carry "Authorization: Bearer
// <Token>" (compared in constant time) or is answered 401. Open serves without a token: the
// loopback-only listener of METRICS_ADDR.
type MetricsEndpoint struct {
	Registry *prometheus.Registry
	Token    string
	Open     bool

	once sync.Once
	h    http.Handler
}

// ServeHTTP answers GET /metrics (and HEAD); other paths 404, other methods 405.
func (h *MetricsEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" || (!h.Open && h.Token == "") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !h.Open && !bearerMatches(r.Header.Get("Authorization"), h.Token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	h.once.Do(func() {
		// Registry: the handler counts its own errors (promhttp_metric_handler_errors_total) there.
		h.h = promhttp.HandlerFor(h.Registry, promhttp.HandlerOpts{Registry: h.Registry, MaxRequestsInFlight: 4})
	})
	h.h.ServeHTTP(w, r)
}

// bearerMatches compares an Authorization header's bearer token with the expected one in constant
// time (digests of both, so that not even the length is compared early).
func bearerMatches(header, token string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
