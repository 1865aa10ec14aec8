package linesim

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed chatpage
var chatFiles embed.FS

// ChatOptions configures the chat page.
type ChatOptions struct {
	// Prefix is the path the page is served under (default "/sim").
	Prefix string
	// Replay is how many past entries a newly opened page receives
	// (default 500).
	Replay int
	// KeepAlive is the interval of SSE keep-alive comments (default 15 s).
	KeepAlive time.Duration
	// MaxImageBytes is the largest file the page's attach button sends
	// (default DefaultMaxImageBytes); larger ones are refused with 413.
	MaxImageBytes int64
}

// Chat serves a LINE-like chat page with simulated customers: what they type,
// tap or attach (images, see SendImage) goes to the bot as signed webhook
// events through the Sender; what the bot replies or pushes to them through
// the API appears live (server-sent events). Create it with NewChat.
type Chat struct {
	api    *API
	sender *Sender
	opts   ChatOptions
	mux    *http.ServeMux

	mu        sync.Mutex
	customers []*Customer
	inbound   []chatEntry
	subs      map[int]chan sseMsg
	nextSub   int
}

// Customer is a simulated customer of the chat page.
type Customer struct {
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName"`
	Language    string `json:"language"`
	Blocked     bool   `json:"blocked"`
}

// chatEntry is one line of a customer's conversation shown on the page.
type chatEntry struct {
	ID       string            `json:"id"`
	UserID   string            `json:"userId"`
	From     string            `json:"from"`                  // "user" or "bot"
	Kind     string            `json:"kind"`                  // text, image, postback, follow, unfollow, reply, push
	Text     string            `json:"text,omitempty"`        // what the customer's bubble shows
	Data     string            `json:"data,omitempty"`        // postback data
	MsgID    string            `json:"messageId,omitempty"`   // the customer's message ID
	Name     string            `json:"name,omitempty"`        // an image's file name, if it had one
	CType    string            `json:"contentType,omitempty"` // an image's content type as stored
	Size     int               `json:"size,omitempty"`        // an image's size in bytes
	Read     bool              `json:"read,omitempty"`        // the bot marked it read
	Messages []json.RawMessage `json:"messages,omitempty"`
	Status   int               `json:"status,omitempty"` // bot's webhook answer
	Error    string            `json:"error,omitempty"`
	At       int64             `json:"at"`
	seq      uint64            // the order it happened in (see Delivered.Seq)
}

type sseMsg struct {
	event string
	data  any
}

// NewChat returns the chat page handler for the bot reached by sender, whose
// answers arrive at api. sender.API should be api so that events carry
// usable tokens.
func NewChat(api *API, sender *Sender, opts ChatOptions) *Chat {
	if opts.Prefix == "" {
		opts.Prefix = "/sim"
	}
	opts.Prefix = "/" + strings.Trim(opts.Prefix, "/")
	if opts.Replay <= 0 {
		opts.Replay = 500
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 15 * time.Second
	}
	c := &Chat{api: api, sender: sender, opts: opts, subs: map[int]chan sseMsg{}}
	p := opts.Prefix
	m := http.NewServeMux()
	m.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p+"/", http.StatusFound)
	})
	m.HandleFunc("GET "+p+"/{$}", c.serveFile("chatpage/index.html", "text/html; charset=utf-8"))
	m.HandleFunc("GET "+p+"/chat.js", c.serveFile("chatpage/chat.js", "text/javascript; charset=utf-8"))
	m.HandleFunc("GET "+p+"/flex.js", c.serveFile("chatpage/flex.js", "text/javascript; charset=utf-8"))
	m.HandleFunc("GET "+p+"/chat.css", c.serveFile("chatpage/chat.css", "text/css; charset=utf-8"))
	m.HandleFunc("GET "+p+"/api/stream", c.handleStream)
	m.HandleFunc("POST "+p+"/api/customers", c.handleAddCustomer)
	m.HandleFunc("POST "+p+"/api/text", c.handleText)
	m.HandleFunc("POST "+p+"/api/postback", c.handlePostback)
	m.HandleFunc("POST "+p+"/api/follow", c.handleFollow)
	m.HandleFunc("POST "+p+"/api/profile", c.handleProfile)
	m.HandleFunc("POST "+p+"/api/image", c.handleImage)
	m.HandleFunc("POST "+p+"/api/sample-id", c.handleSampleID)
	m.HandleFunc("GET "+p+"/api/content/{messageId}", c.handleContent)
	c.mux = m
	return c
}

// ServeHTTP serves the page and its small JSON API under the prefix.
func (c *Chat) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// Customers returns the simulated customers in the order they were added.
func (c *Chat) Customers() []Customer {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Customer, len(c.customers))
	for i, cu := range c.customers {
		out[i] = *cu
	}
	return out
}

func (c *Chat) serveFile(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := chatFiles.ReadFile(name)
		if err != nil {
			http.Error(w, "missing asset", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy",
			"default-src 'self'; img-src 'self' http: https: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		_, _ = w.Write(b)
	}
}

func (c *Chat) broadcastLocked(event string, data any) {
	for _, ch := range c.subs {
		select {
		case ch <- sseMsg{event, data}:
		default: // a stuck page loses lines rather than blocking customers
		}
	}
}

func (c *Chat) customerLocked(userID string) *Customer {
	for _, cu := range c.customers {
		if cu.UserID == userID {
			return cu
		}
	}
	return nil
}

// AddCustomer adds a simulated customer with a fresh user ID, sets its
// profile in the API and sends the bot a follow event (friend added).
func (c *Chat) AddCustomer(ctx context.Context, displayName, language string) (Customer, error) {
	if language != "en" {
		language = "ja"
	}
	c.mu.Lock()
	if displayName == "" {
		displayName = fmt.Sprintf("お客さま%d", len(c.customers)+1)
	}
	cu := &Customer{UserID: NewUserID(), DisplayName: displayName, Language: language}
	c.customers = append(c.customers, cu)
	c.broadcastLocked("customer", *cu)
	c.mu.Unlock()
	c.api.SetProfile(cu.UserID, cu.DisplayName, cu.Language)
	err := c.send(ctx, chatEntry{UserID: cu.UserID, From: "user", Kind: "follow"}, c.sender.FollowEvent(cu.UserID, false))
	return *cu, err
}

// send records the customer's entry, shows it, sends ev to the bot and
// shows the bot's webhook status.
func (c *Chat) send(ctx context.Context, e chatEntry, ev Event) error {
	e.ID = ev.WebhookEventID
	if ev.Message != nil {
		e.MsgID = ev.Message.ID
	}
	e.At = time.UnixMilli(ev.Timestamp).UnixMilli()
	c.mu.Lock()
	e.seq = order.Add(1)
	c.inbound = append(c.inbound, e)
	idx := len(c.inbound) - 1
	c.broadcastLocked("entry", e)
	c.mu.Unlock()

	status, err := c.sender.Send(ctx, ev)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inbound[idx].Status = status
	if err != nil {
		c.inbound[idx].Error = err.Error()
	}
	c.broadcastLocked("status", map[string]any{"id": e.ID, "status": status, "error": c.inbound[idx].Error})
	return err
}
