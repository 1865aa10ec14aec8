package linesim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"
)

func deliveryEntry(d Delivered) chatEntry {
	return chatEntry{ID: d.RequestID, UserID: d.UserID, From: "bot", Kind: d.Via, Messages: d.Messages, At: d.At.UnixMilli(), seq: d.Seq}
}

// snapshot returns the customers and the last Replay entries of their
// conversations, oldest first.
func (c *Chat) snapshot() ([]Customer, []chatEntry) {
	c.mu.Lock()
	custs := make([]Customer, len(c.customers))
	for i, cu := range c.customers {
		custs[i] = *cu
	}
	entries := append([]chatEntry(nil), c.inbound...)
	c.mu.Unlock()
	read := map[string]bool{}
	for _, cu := range custs {
		for _, m := range c.api.ReadMarks(cu.UserID) {
			read[m.MessageID] = true
		}
	}
	for i := range entries {
		entries[i].Read = entries[i].MsgID != "" && read[entries[i].MsgID]
	}
	for _, cu := range custs {
		for _, d := range c.api.Deliveries(cu.UserID) {
			entries = append(entries, deliveryEntry(d))
		}
	}
	// The order things happened in, not their clock times (a fast answer shares its question's millisecond).
	sort.Slice(entries, func(i, j int) bool { return entries[i].seq < entries[j].seq })
	if len(entries) > c.opts.Replay {
		entries = entries[len(entries)-c.opts.Replay:]
	}
	return custs, entries
}

func (c *Chat) known(userID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.customerLocked(userID) != nil
}

// activityJSON is an Activity as the page receives it.
type activityJSON struct {
	UserID    string `json:"userId"`
	Kind      string `json:"kind"`
	MessageID string `json:"messageId,omitempty"`
	Seconds   int    `json:"seconds,omitempty"`
	// At (Unix ms) lets the page drop a loading notice that reaches it after the answer it announced:
	// activities and deliveries come through separate subscriptions, in no guaranteed order.
	At int64 `json:"at"`
}

// handleStream is the page's server-sent event stream: "customer", "entry",
// "status", "activity" and, after the replayed history, "ready" (which
// carries the page's settings: maxImageBytes).
func (c *Chat) handleStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives server write timeouts
	hub := make(chan sseMsg, 1024)
	c.mu.Lock()
	id := c.nextSub
	c.nextSub++
	c.subs[id] = hub
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.subs, id)
		c.mu.Unlock()
	}()
	dels, cancel := c.api.Subscribe()
	defer cancel()
	acts, cancelActs := c.api.SubscribeActivity()
	defer cancelActs()

	custs, entries := c.snapshot()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	write := func(event string, data any) bool {
		b, err := json.Marshal(data)
		if err != nil {
			return true
		}
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		return err == nil
	}
	for _, cu := range custs {
		write("customer", cu)
	}
	for _, e := range entries {
		write("entry", e)
	}
	write("ready", map[string]int64{"maxImageBytes": c.maxImageBytes()})
	if rc.Flush() != nil {
		return
	}

	tick := time.NewTicker(c.opts.KeepAlive)
	defer tick.Stop()
	for {
		// Customer-side lines first, so a customer's bubble precedes the
		// bot's answer to it.
		select {
		case m := <-hub:
			if !write(m.event, m.data) || rc.Flush() != nil {
				return
			}
			continue
		default:
		}
		select {
		case m := <-hub:
			if !write(m.event, m.data) {
				return
			}
		case d, ok := <-dels:
			if !ok {
				return
			}
			if c.known(d.UserID) && !write("entry", deliveryEntry(d)) {
				return
			}
		case act, ok := <-acts:
			if !ok {
				return
			}
			if c.known(act.UserID) && !write("activity", activityJSON{act.UserID, act.Kind, act.MessageID, act.Seconds, act.At.UnixMilli()}) {
				return
			}
		case <-tick.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// readJSON decodes a small JSON request body.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(v); err != nil {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return false
	}
	return true
}

// customerFor returns the customer named by userID or answers 404.
func (c *Chat) customerFor(w http.ResponseWriter, userID string) (Customer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cu := c.customerLocked(userID)
	if cu == nil {
		http.Error(w, "unknown customer", http.StatusNotFound)
		return Customer{}, false
	}
	return *cu, true
}

func sendResult(w http.ResponseWriter, err error) {
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (c *Chat) handleAddCustomer(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DisplayName string `json:"displayName"`
		Language    string `json:"language"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	cu, err := c.AddCustomer(r.Context(), req.DisplayName, req.Language)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]any{"customer": cu, "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"customer": cu})
}

func (c *Chat) handleText(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID string `json:"userId"`
		Text   string `json:"text"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	cu, ok := c.customerFor(w, req.UserID)
	if !ok {
		return
	}
	if req.Text == "" || cu.Blocked {
		http.Error(w, "empty text or blocked customer", http.StatusBadRequest)
		return
	}
	ev := c.sender.TextEvent(cu.UserID, req.Text)
	sendResult(w, c.send(r.Context(), chatEntry{UserID: cu.UserID, From: "user", Kind: "text", Text: req.Text}, ev))
}

func (c *Chat) handlePostback(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID      string `json:"userId"`
		Data        string `json:"data"`
		DisplayText string `json:"displayText"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	cu, ok := c.customerFor(w, req.UserID)
	if !ok {
		return
	}
	if cu.Blocked {
		http.Error(w, "blocked customer", http.StatusBadRequest)
		return
	}
	ev := c.sender.PostbackEvent(cu.UserID, req.Data)
	e := chatEntry{UserID: cu.UserID, From: "user", Kind: "postback", Text: req.DisplayText, Data: req.Data}
	sendResult(w, c.send(r.Context(), e, ev))
}

// handleFollow blocks (follow false: unfollow event) or unblocks (follow
// true: follow event with isUnblocked) the account for a customer.
func (c *Chat) handleFollow(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID string `json:"userId"`
		Follow bool   `json:"follow"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	c.mu.Lock()
	cu := c.customerLocked(req.UserID)
	if cu == nil {
		c.mu.Unlock()
		http.Error(w, "unknown customer", http.StatusNotFound)
		return
	}
	cu.Blocked = !req.Follow
	snap := *cu
	c.broadcastLocked("customer", snap)
	c.mu.Unlock()
	var ev Event
	e := chatEntry{UserID: snap.UserID, From: "user"}
	if req.Follow {
		ev, e.Kind = c.sender.FollowEvent(snap.UserID, true), "follow"
	} else {
		ev, e.Kind = c.sender.UnfollowEvent(snap.UserID), "unfollow"
	}
	sendResult(w, c.send(r.Context(), e, ev))
}

func (c *Chat) handleProfile(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID      string `json:"userId"`
		DisplayName string `json:"displayName"`
		Language    string `json:"language"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Language != "en" {
		req.Language = "ja"
	}
	c.mu.Lock()
	cu := c.customerLocked(req.UserID)
	if cu == nil {
		c.mu.Unlock()
		http.Error(w, "unknown customer", http.StatusNotFound)
		return
	}
	if req.DisplayName != "" {
		cu.DisplayName = req.DisplayName
	}
	cu.Language = req.Language
	snap := *cu
	c.broadcastLocked("customer", snap)
	c.mu.Unlock()
	c.api.SetProfile(snap.UserID, snap.DisplayName, snap.Language)
	writeJSON(w, http.StatusOK, map[string]any{"customer": snap})
}
