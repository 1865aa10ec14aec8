package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// envelope holds the fields every LINE webhook event carries, whatever its type. They are read here
// rather than per SDK type so that event types newer than the SDK are still keyed, timed and attributed.
type envelope struct {
	Type            string `json:"type"`
	Mode            string `json:"mode"`
	Timestamp       int64  `json:"timestamp"`
	WebhookEventID  string `json:"webhookEventId"`
	ReplyToken      string `json:"replyToken"`
	DeliveryContext struct {
		IsRedelivery bool `json:"isRedelivery"`
	} `json:"deliveryContext"`
	Source struct {
		Type   string `json:"type"`
		UserID string `json:"userId"`
	} `json:"source"`
}

// ErrMalformed wraps every reason a webhook body cannot be read.
var ErrMalformed = errors.New("malformed webhook body")

// ParseWebhook reads a LINE webhook body (already authenticated by its signature) into events. An empty
// events array (LINE's verification request) yields no events and no error. Unknown event types are
// returned as EventOther so they can be stored and acknowledged.
func ParseWebhook(body []byte, now time.Time) ([]Event, error) {
	var req struct {
		Destination string            `json:"destination"`
		Events      []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if req.Events == nil {
		return nil, fmt.Errorf("%w: no events array", ErrMalformed)
	}
	out := make([]Event, 0, len(req.Events))
	for i, raw := range req.Events {
		ev, err := parseEvent(raw, now)
		if err != nil {
			return nil, fmt.Errorf("%w: event %d: %v", ErrMalformed, i, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

func parseEvent(raw json.RawMessage, now time.Time) (Event, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Event{}, err
	}
	if env.Type == "" {
		return Event{}, errors.New("event without type")
	}
	ev := Event{
		ID:         env.WebhookEventID,
		Kind:       EventOther,
		Type:       env.Type,
		Timestamp:  time.UnixMilli(env.Timestamp).UTC(),
		ReceivedAt: now.UTC(),
		ReplyToken: env.ReplyToken,
		Standby:    env.Mode == "standby",
		Redelivery: env.DeliveryContext.IsRedelivery,
	}
	if env.Source.Type == "user" {
		ev.UserID = env.Source.UserID
	}
	if ev.ID == "" {
		// Every current LINE event has an ID; derive a stable one for anything that does not, so a
		// redelivery of it is still recognised.
		sum := sha256.Sum256(raw)
		ev.ID = "h" + hex.EncodeToString(sum[:12])
	}
	if ev.UserID != "" {
		// Everything keyed by the event (inbox, step, delivery, transcript, effects) is tied to its
		// customer: another customer's event that reuses the ID is a different event, not a redelivery.
		// A digest rather than the user ID keeps customers' IDs out of logs that name events.
		sum := sha256.Sum256([]byte(ev.UserID))
		ev.ID += "." + hex.EncodeToString(sum[:6])
	}
	if env.Timestamp == 0 {
		ev.Timestamp = ev.ReceivedAt
	}
	typed, err := webhook.UnmarshalEvent(raw)
	if err != nil {
		return Event{}, err
	}
	switch e := typed.(type) {
	case webhook.MessageEvent:
		ev.Kind = EventMessage
		readMessage(&ev, e.Message)
	case webhook.PostbackEvent:
		ev.Kind = EventPostback
		if e.Postback != nil {
			ev.Postback = e.Postback.Data
		}
	case webhook.FollowEvent:
		ev.Kind = EventFollow
		if e.Follow != nil {
			ev.Unblocked = e.Follow.IsUnblocked
		}
	case webhook.UnfollowEvent:
		ev.Kind = EventUnfollow
	}
	return ev, nil
}

func readMessage(ev *Event, m webhook.MessageContentInterface) {
	switch c := m.(type) {
	case webhook.TextMessageContent:
		ev.MessageID, ev.MessageType, ev.Text, ev.MarkAsReadToken = c.Id, "text", c.Text, c.MarkAsReadToken
	case webhook.ImageMessageContent:
		ev.MessageID, ev.MessageType, ev.MarkAsReadToken = c.Id, "image", c.MarkAsReadToken
		if p := c.ContentProvider; p != nil && p.Type == webhook.ContentProviderTYPE_EXTERNAL {
			ev.ContentURL = p.OriginalContentUrl
		}
	case webhook.StickerMessageContent:
		ev.MessageID, ev.MessageType, ev.MarkAsReadToken = c.Id, "sticker", c.MarkAsReadToken
	case webhook.VideoMessageContent:
		ev.MessageID, ev.MessageType, ev.MarkAsReadToken = c.Id, "video", c.MarkAsReadToken
	case webhook.AudioMessageContent:
		ev.MessageID, ev.MessageType, ev.MarkAsReadToken = c.Id, "audio", c.MarkAsReadToken
	case webhook.FileMessageContent:
		ev.MessageID, ev.MessageType, ev.MarkAsReadToken = c.Id, "file", c.MarkAsReadToken
	case webhook.LocationMessageContent:
		ev.MessageID, ev.MessageType, ev.MarkAsReadToken = c.Id, "location", c.MarkAsReadToken
	default:
		ev.MessageType = "other"
	}
}
