package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// Content is a message's content as LINE gave it.
type Content struct {
	Data        []byte
	ContentType string // as LINE declared it (never trusted for checks)
	TooLarge    bool   // more than the limit; Data then holds nothing
}

// ContentClient fetches the content of messages customers sent (GET /v2/bot/message/{messageId}/content
// on the data endpoint, https://api-data.line.me, or the simulator in local mode).
//
// It goes through the SDK's blob API: on a 2xx the SDK hands back the response with its body unread, so
// the content is streamed here and read no further than the limit. On any other status the SDK reads
// the whole body into memory to put it in its error; the client's transport therefore cuts such bodies
// at errorBodyCap (LINE's error bodies are a few hundred bytes of JSON).
type ContentClient struct {
	token, endpoint string
	http            *http.Client
	metrics         *Metrics
}

// errorBodyCap is the most of a non-2xx answer's body that is ever read.
const errorBodyCap = 64 << 10

// NewContentClient returns a client for the data endpoint at dataEndpoint. A nil hc gets a client with
// a 60-second timeout (content is up to a few megabytes, more than the Messaging API's small answers).
func NewContentClient(token, dataEndpoint string, hc *http.Client) *ContentClient {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	capped := *hc
	base := capped.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	capped.Transport = capErrorBodies{base}
	return &ContentClient{token: token, endpoint: strings.TrimRight(dataEndpoint, "/"), http: &capped}
}

// Instrument counts every fetch in m (privacybot_line_api_calls_total, endpoint "content"); call it
// before the client is used.
func (c *ContentClient) Instrument(m *Metrics) *ContentClient {
	c.metrics = m
	return c
}

// MessageContent fetches one message's content, reading at most limit bytes (TooLarge when there is
// more). Outcomes: Accepted for 2xx (also when TooLarge); Retryable for 5xx, 429 (RetryAfter from
// Retry-After), timeouts, connection errors, a body cut short and an ended ctx; Permanent for any other
// status (404 when LINE no longer has the content, 401 for a bad channel token: InvalidToken is about
// reply tokens and does not apply) and for a message ID or limit that cannot be asked for.
func (c *ContentClient) MessageContent(ctx context.Context, messageID string, limit int64) (Content, CallResult) {
	if !validMessageID(messageID) {
		return Content{}, CallResult{Outcome: Permanent, Err: fmt.Errorf("message content: invalid message ID %q", messageID)}
	}
	if limit <= 0 {
		return Content{}, CallResult{Outcome: Permanent, Err: fmt.Errorf("message content: limit %d", limit)}
	}
	out, r := c.fetch(ctx, messageID, limit)
	c.metrics.LINECall(EndpointContent, r.Outcome)
	return out, r
}

// fetch makes the call of MessageContent.
func (c *ContentClient) fetch(ctx context.Context, messageID string, limit int64) (Content, CallResult) {
	// A fresh SDK client per call: its WithContext mutates the client.
	blob, err := messaging_api.NewMessagingApiBlobAPI(c.token,
		messaging_api.WithBlobEndpoint(c.endpoint), messaging_api.WithBlobHTTPClient(c.http))
	if err != nil {
		return Content{}, CallResult{Outcome: Permanent, Err: err}
	}
	res, _, err := blob.WithContext(ctx).GetMessageContentWithHttpInfo(messageID)
	if res == nil {
		// No answer at all: timeout, refused or reset connection, or ctx ended.
		if err == nil {
			err = errors.New("message content: no response")
		}
		return Content{}, CallResult{Outcome: Retryable, Err: err}
	}
	defer res.Body.Close()
	r := CallResult{Status: res.StatusCode, RequestID: res.Header.Get("X-Line-Request-Id")}
	if err == nil && res.StatusCode/100 != 2 {
		err = fmt.Errorf("message content: status %d", res.StatusCode)
	}
	switch {
	case res.StatusCode/100 == 2:
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		r.Outcome, r.Err, r.RetryAfter = Retryable, err, retryAfter(res.Header.Get("Retry-After"), time.Now())
		return Content{}, r
	default:
		r.Outcome, r.Err = Permanent, err
		return Content{}, r
	}

	out := Content{ContentType: res.Header.Get("Content-Type")}
	if res.ContentLength > limit {
		// Declared too large: not a byte is read.
		out.TooLarge = true
		return out, r
	}
	var buf bytes.Buffer
	if res.ContentLength > 0 {
		buf.Grow(int(res.ContentLength) + 1) // +1: the read that finds the end
	}
	_, err = buf.ReadFrom(io.LimitReader(res.Body, limit+1))
	data := buf.Bytes()
	switch {
	case err != nil:
		// The body broke off (connection lost, timeout, ctx ended): the content may be fetched again.
		return Content{}, CallResult{Outcome: Retryable, Status: r.Status, RequestID: r.RequestID,
			Err: fmt.Errorf("message content: reading the body: %w", err)}
	case int64(len(data)) > limit:
		out.TooLarge = true
	default:
		out.Data = data
	}
	return out, r
}

// validMessageID reports whether id can be put into the content path as it is: LINE's message IDs are
// decimal digits; nothing that could change the path or add a query is sent.
func validMessageID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// retryAfter reads a Retry-After header: a number of seconds or an HTTP date. Zero when absent, invalid
// or in the past.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// capErrorBodies is a transport that lets no more than errorBodyCap bytes of a non-2xx answer's body
// through (the SDK reads such bodies whole). At the cap the body is closed: the SDK swaps the body it
// read for a copy and never closes the original, which would otherwise hold the connection open.
type capErrorBodies struct{ base http.RoundTripper }

func (t capErrorBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil || res.StatusCode/100 == 2 {
		return res, err
	}
	res.Body = &cappedBody{r: io.LimitReader(res.Body, errorBodyCap), body: res.Body}
	return res, nil
}

type cappedBody struct {
	r    io.Reader
	body io.ReadCloser
}

func (b *cappedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil {
		_ = b.body.Close()
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.body.Close() }
