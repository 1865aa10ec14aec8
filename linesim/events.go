package linesim

import (
	"encoding/json"
	"net/http"
	"time"
)

// Event is one webhook event as LINE sends it. Build events with the
// Sender's builders (TextEvent, PostbackEvent, ...), adjust them with
// Standby and Redelivered, and send them with Sender.Send. The JSON
// encoding matches LINE's webhook format.
type Event struct {
	Type            string           `json:"type"`
	Mode            string           `json:"mode"`
	Timestamp       int64            `json:"timestamp"`
	Source          *Source          `json:"source,omitempty"`
	WebhookEventID  string           `json:"webhookEventId"`
	DeliveryContext DeliveryContext  `json:"deliveryContext"`
	ReplyToken      string           `json:"replyToken,omitempty"`
	Message         *MessageContent  `json:"message,omitempty"`
	Postback        *PostbackContent `json:"postback,omitempty"`
	Follow          *FollowDetail    `json:"follow,omitempty"`
	// Raw, when set, is sent verbatim instead of the fields above (for
	// unknown or malformed events in tests).
	Raw json.RawMessage `json:"-"`
}

// Source is the event source; the simulator only produces 1:1 chats.
type Source struct {
	Type   string `json:"type"`
	UserID string `json:"userId,omitempty"`
}

// DeliveryContext tells whether the event is a redelivery.
type DeliveryContext struct {
	IsRedelivery bool `json:"isRedelivery"`
}

// ContentProvider says where the content of a media message is.
type ContentProvider struct {
	Type string `json:"type"`
}

// MessageContent is the "message" of a message event (text or image).
type MessageContent struct {
	ID              string           `json:"id"`
	Type            string           `json:"type"`
	Text            string           `json:"text,omitempty"`
	ContentProvider *ContentProvider `json:"contentProvider,omitempty"`
	QuoteToken      string           `json:"quoteToken"`
	MarkAsReadToken string           `json:"markAsReadToken,omitempty"`
}

// PostbackContent is the "postback" of a postback event.
type PostbackContent struct {
	Data   string            `json:"data"`
	Params map[string]string `json:"params,omitempty"`
}

// FollowDetail is the "follow" of a follow event.
type FollowDetail struct {
	IsUnblocked bool `json:"isUnblocked"`
}

// MarshalJSON encodes the event, or returns Raw when set.
func (e Event) MarshalJSON() ([]byte, error) {
	if e.Raw != nil {
		return e.Raw, nil
	}
	type plain Event
	return json.Marshal(plain(e))
}

// UserID returns the user the event comes from ("" for raw events).
func (e Event) UserID() string {
	if e.Source == nil {
		return ""
	}
	return e.Source.UserID
}

// Standby returns a copy of e in mode "standby" (another channel has chat
// control). Like LINE, standby events carry no reply token.
func (e Event) Standby() Event {
	e.Mode = "standby"
	e.ReplyToken = ""
	return e
}

// Redelivered returns a copy of e marked as a redelivery: same
// webhookEventId, deliveryContext.isRedelivery true.
func (e Event) Redelivered() Event {
	e.DeliveryContext.IsRedelivery = true
	return e
}

// WithTimestamp returns a copy of e with the given event time.
func (e Event) WithTimestamp(t time.Time) Event {
	e.Timestamp = t.UnixMilli()
	return e
}

// RawEvent returns an event sent exactly as raw (any JSON object).
func RawEvent(raw json.RawMessage) Event { return Event{Raw: raw} }

// Body is a webhook request body.
type Body struct {
	Destination string  `json:"destination"`
	Events      []Event `json:"events"`
}

// MarshalBody encodes {"destination": ..., "events": [...]}; no events gives
// LINE's verification body with "events": [].
func MarshalBody(destination string, events ...Event) ([]byte, error) {
	if events == nil {
		events = []Event{}
	}
	return json.Marshal(Body{Destination: destination, Events: events})
}

func (s *Sender) now() time.Time {
	if s.API != nil {
		return s.API.now()
	}
	return time.Now()
}

// base returns a fresh active event of type typ from userID, with a reply
// token from the API when withReply is set.
func (s *Sender) base(typ, userID string, withReply bool) Event {
	now := s.now()
	e := Event{
		Type:           typ,
		Mode:           "active",
		Timestamp:      now.UnixMilli(),
		Source:         &Source{Type: "user", UserID: userID},
		WebhookEventID: NewWebhookEventID(now),
	}
	if withReply {
		if s.API != nil {
			e.ReplyToken = s.API.IssueReplyToken(userID)
		} else {
			e.ReplyToken = randomHex(16)
		}
	}
	return e
}

func (s *Sender) readToken(userID, messageID string) string {
	if s.API == nil {
		return randomB64(30)
	}
	return s.API.IssueMarkAsReadToken(userID, messageID)
}

// TextEvent builds a text message event from userID, with a reply token and
// a markAsReadToken issued by s.API.
func (s *Sender) TextEvent(userID, text string) Event {
	e := s.base("message", userID, true)
	id := NewMessageID()
	e.Message = &MessageContent{
		ID: id, Type: "text", Text: text,
		QuoteToken:      randomB64(40),
		MarkAsReadToken: s.readToken(userID, id),
	}
	return e
}

// ImageEvent builds an image message event from userID whose content (data)
// is stored in s.API, served at GET /v2/bot/message/{id}/content with the
// content type sniffed from data.
func (s *Sender) ImageEvent(userID string, data []byte) Event {
	return s.ImageEventWithType(userID, data, "")
}

// ImageEventWithType is ImageEvent with the content type the content
// endpoint declares (contentType; empty: sniffed from data). The type need
// not match the bytes, so tests can show that a bot does not trust it.
func (s *Sender) ImageEventWithType(userID string, data []byte, contentType string) Event {
	id := NewMessageID()
	if s.API != nil {
		s.API.PutContent(id, contentTypeOf(data, contentType), data)
	}
	return s.imageEvent(userID, id)
}

// imageEvent builds the image message event of message id, whose content is
// stored already, as LINE sends it: contentProvider "line", a quoteToken and
// a markAsReadToken.
func (s *Sender) imageEvent(userID, id string) Event {
	e := s.base("message", userID, true)
	e.Message = &MessageContent{
		ID: id, Type: "image",
		ContentProvider: &ContentProvider{Type: "line"},
		QuoteToken:      randomB64(40),
		MarkAsReadToken: s.readToken(userID, id),
	}
	return e
}

// contentTypeOf returns declared, or the type sniffed from data when
// declared is empty.
func contentTypeOf(data []byte, declared string) string {
	if declared != "" {
		return declared
	}
	return http.DetectContentType(data)
}

// PostbackEvent builds a postback event (a tapped postback action) from
// userID carrying data.
func (s *Sender) PostbackEvent(userID, data string) Event {
	e := s.base("postback", userID, true)
	e.Postback = &PostbackContent{Data: data}
	return e
}

// FollowEvent builds a follow event (friend added, or unblocked when
// unblocked is true) and marks the user unblocked in s.API.
func (s *Sender) FollowEvent(userID string, unblocked bool) Event {
	if s.API != nil {
		s.API.SetBlocked(userID, false)
	}
	e := s.base("follow", userID, true)
	e.Follow = &FollowDetail{IsUnblocked: unblocked}
	return e
}

// UnfollowEvent builds an unfollow event (the user blocked the account) and
// marks the user blocked in s.API. It has no reply token.
func (s *Sender) UnfollowEvent(userID string) Event {
	if s.API != nil {
		s.API.SetBlocked(userID, true)
	}
	return s.base("unfollow", userID, false)
}

// UnknownEvent builds a well-formed event of a type the bot does not know
// (typ, e.g. "futureThing"), from userID, without reply token.
func (s *Sender) UnknownEvent(userID, typ string) Event {
	return s.base(typ, userID, false)
}
