package linesim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"time"
)

// Sign returns LINE's X-Line-Signature for body: base64(HMAC-SHA256(body)),
// keyed with the channel secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Sender plays the LINE Platform's webhook side: it builds events (see
// TextEvent and friends) and POSTs them, signed, to the bot.
type Sender struct {
	// BotURL is the bot's webhook URL, e.g. "http://127.0.0.1:8080/callback".
	BotURL string
	// ChannelSecret signs the bodies.
	ChannelSecret string
	// Destination is the bot's user ID, sent as "destination".
	Destination string
	// HTTP is the client used; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// API issues the reply and markAsRead tokens put into built events and
	// provides the clock. It may be nil (tokens are then random and
	// unusable).
	API *API
}

var defaultClient = &http.Client{Timeout: 30 * time.Second}

func (s *Sender) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return defaultClient
}

// Send POSTs {"destination":..., "events":[...]} signed with the channel
// secret and returns the HTTP status of the bot's answer. Sending no events
// is LINE's webhook verification request.
func (s *Sender) Send(ctx context.Context, events ...Event) (int, error) {
	body, err := MarshalBody(s.Destination, events...)
	if err != nil {
		return 0, err
	}
	return s.SendRaw(ctx, body, Sign(s.ChannelSecret, body))
}

// SendRaw POSTs body as is with the given X-Line-Signature (omitted when
// empty), for tests of hostile or malformed requests.
func (s *Sender) SendRaw(ctx context.Context, body []byte, signature string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.BotURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "LineBotWebhook/2.0")
	if signature != "" {
		req.Header.Set("X-Line-Signature", signature)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
