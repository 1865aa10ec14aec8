package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// Outcome classifies one call to the Messaging API.
type Outcome int

// The outcomes the delivery logic acts on.
const (
	Accepted     Outcome = iota // 2xx
	AlreadyDone                 // 409 on a push: the retry key was accepted before
	InvalidToken                // 400 "Invalid reply token": used or expired
	Retryable                   // 5xx, 429, timeouts, connection errors
	Permanent                   // any other 4xx: never retried
)

func (o Outcome) String() string {
	return [...]string{"accepted", "already-accepted", "invalid-reply-token", "retryable", "permanent"}[o]
}

// CallResult is what one API call came to.
type CallResult struct {
	Outcome    Outcome
	Status     int
	RequestID  string
	RetryAfter time.Duration
	Err        error
}

// LINE is the Messaging API client the pipeline uses: it builds a fresh SDK client per call (the SDK's
// WithContext mutates a shared client, which is unsafe across goroutines) around one shared
// http.Client with timeouts.
type LINE struct {
	token, endpoint string
	http            *http.Client
	metrics         *Metrics
}

// NewLINE returns a client for the Messaging API at endpoint (https://api.line.me or the simulator).
func NewLINE(token, endpoint string, hc *http.Client) *LINE {
	if hc == nil {
		// One host, many concurrent senders: keep enough idle connections for all of them, or every
		// burst opens (and leaves in TIME_WAIT) hundreds of fresh ones.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 512
		hc = &http.Client{Timeout: 10 * time.Second, Transport: tr}
	}
	return &LINE{token: token, endpoint: strings.TrimRight(endpoint, "/"), http: hc}
}

// Instrument counts every call of the client in m (privacybot_line_api_calls_total); call it before
// the client is used.
func (l *LINE) Instrument(m *Metrics) *LINE {
	l.metrics = m
	return l
}

// Metrics returns the instruments the client counts in (nil when not instrumented), for the callers
// that count their retries of its calls.
func (l *LINE) Metrics() *Metrics { return l.metrics }

// count counts a call and returns its result.
func (l *LINE) count(endpoint string, r CallResult) CallResult {
	l.metrics.LINECall(endpoint, r.Outcome)
	return r
}

func (l *LINE) api(ctx context.Context) (*messaging_api.MessagingApiAPI, error) {
	c, err := messaging_api.NewMessagingApiAPI(l.token,
		messaging_api.WithEndpoint(l.endpoint), messaging_api.WithHTTPClient(l.http))
	if err != nil {
		return nil, err
	}
	return c.WithContext(ctx), nil
}

// Reply sends msgs with a reply token.
func (l *LINE) Reply(ctx context.Context, token string, msgs []Message) CallResult {
	api, err := l.api(ctx)
	if err != nil {
		return l.count(EndpointReply, CallResult{Outcome: Permanent, Err: err})
	}
	res, _, err := api.ReplyMessageWithHttpInfo(&messaging_api.ReplyMessageRequest{ReplyToken: token, Messages: toSDK(msgs)})
	return l.count(EndpointReply, classify(res, err, false))
}

// Push sends msgs to a user with a retry key, so that a resend of the same call is not delivered twice.
func (l *LINE) Push(ctx context.Context, to, retryKey string, msgs []Message) CallResult {
	api, err := l.api(ctx)
	if err != nil {
		return l.count(EndpointPush, CallResult{Outcome: Permanent, Err: err})
	}
	res, _, err := api.PushMessageWithHttpInfo(&messaging_api.PushMessageRequest{To: to, Messages: toSDK(msgs)}, retryKey)
	return l.count(EndpointPush, classify(res, err, true))
}

// ProfileLanguage returns the language of a user's LINE profile ("" when the profile has none).
func (l *LINE) ProfileLanguage(ctx context.Context, userID string) (string, error) {
	p, err := l.profile(ctx, userID)
	return p.Language, err
}

// ProfileName returns a user's LINE display name.
func (l *LINE) ProfileName(ctx context.Context, userID string) (string, error) {
	p, err := l.profile(ctx, userID)
	return p.DisplayName, err
}

func (l *LINE) profile(ctx context.Context, userID string) (messaging_api.UserProfileResponse, error) {
	api, err := l.api(ctx)
	if err != nil {
		l.count(EndpointProfile, CallResult{Outcome: Permanent})
		return messaging_api.UserProfileResponse{}, err
	}
	res, p, err := api.GetProfileWithHttpInfo(userID)
	l.count(EndpointProfile, classify(res, err, false))
	if err != nil {
		return messaging_api.UserProfileResponse{}, err
	}
	return *p, nil
}

// MarkAsRead marks a customer's messages up to the one that carried token as read.
func (l *LINE) MarkAsRead(ctx context.Context, token string) error {
	api, err := l.api(ctx)
	if err != nil {
		return err
	}
	res, _, err := api.MarkMessagesAsReadByTokenWithHttpInfo(&messaging_api.MarkMessagesAsReadByTokenRequest{MarkAsReadToken: token})
	l.count(EndpointMarkRead, classify(res, err, false))
	return err
}

// ShowLoading shows the typing indicator in a one-to-one chat for seconds (5–60, a multiple of 5).
func (l *LINE) ShowLoading(ctx context.Context, userID string, seconds int) error {
	api, err := l.api(ctx)
	if err != nil {
		return err
	}
	res, _, err := api.ShowLoadingAnimationWithHttpInfo(&messaging_api.ShowLoadingAnimationRequest{ChatId: userID, LoadingSeconds: int32(seconds)})
	l.count(EndpointLoading, classify(res, err, false))
	return err
}

func classify(res *http.Response, err error, push bool) CallResult {
	if res == nil {
		// No response at all (timeout, refused or reset connection): LINE did not answer, so the call
		// is retried.
		return CallResult{Outcome: Retryable, Err: err}
	}
	r := CallResult{Status: res.StatusCode, RequestID: res.Header.Get("X-Line-Request-Id"), Err: err}
	if res.Body != nil {
		defer res.Body.Close()
	}
	switch {
	case res.StatusCode/100 == 2:
		r.Outcome, r.Err = Accepted, nil
	case res.StatusCode == http.StatusConflict && push:
		r.Outcome, r.Err = AlreadyDone, nil
		if id := res.Header.Get("X-Line-Accepted-Request-Id"); id != "" {
			r.RequestID = id
		}
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		r.Outcome = Retryable
		if s, perr := strconv.Atoi(res.Header.Get("Retry-After")); perr == nil && s > 0 {
			r.RetryAfter = time.Duration(s) * time.Second
		}
	case res.StatusCode == http.StatusBadRequest && !push && lineMessage(res) == "Invalid reply token":
		r.Outcome = InvalidToken
	default:
		r.Outcome = Permanent
	}
	if r.Err == nil && r.Outcome >= InvalidToken {
		r.Err = fmt.Errorf("status %d", res.StatusCode)
	}
	return r
}

// lineMessage returns the "message" of a LINE error body (the SDK leaves the body readable on errors).
func lineMessage(res *http.Response) string {
	if res.Body == nil {
		return ""
	}
	var body struct {
		Message string `json:"message"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&body); err != nil {
		return ""
	}
	return body.Message
}

// RetryKey derives the X-Line-Retry-Key of the chunk-th push for an event: a UUID fixed by the event ID,
// so a resend after a crash carries the same key and LINE delivers it once.
func RetryKey(eventID string, chunk int) string {
	return uuid.NewSHA1(retryNamespace, []byte(eventID+"#"+strconv.Itoa(chunk))).String()
}

var retryNamespace = uuid.MustParse("6f1c0c5e-4f7a-4b8e-9a43-2f6a1d0e9b11")

func toSDK(msgs []Message) []messaging_api.MessageInterface {
	out := make([]messaging_api.MessageInterface, len(msgs))
	for i, m := range msgs {
		tm := &messaging_api.TextMessage{Text: m.Text}
		if len(m.QuickReplies) > 0 {
			qr := &messaging_api.QuickReply{}
			for _, q := range m.QuickReplies {
				var a messaging_api.ActionInterface
				if q.Data != "" {
					a = &messaging_api.PostbackAction{Label: q.Label, Data: q.Data, DisplayText: q.Label}
				} else {
					a = &messaging_api.MessageAction{Label: q.Label, Text: q.Text}
				}
				qr.Items = append(qr.Items, messaging_api.QuickReplyItem{Type: "action", Action: a})
			}
			tm.QuickReply = qr
		}
		out[i] = tm
	}
	return out
}
