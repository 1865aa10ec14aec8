package linesim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"unicode/utf16"
)

const maxBody = 2 << 20

// retryKeyRE matches the canonical hexadecimal UUID form LINE requires.
var retryKeyRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

type sentMessage struct {
	ID         string `json:"id"`
	QuoteToken string `json:"quoteToken,omitempty"`
}

type sentResponse struct {
	SentMessages []sentMessage `json:"sentMessages"`
}

func sent(n int) sentResponse {
	r := sentResponse{SentMessages: make([]sentMessage, n)}
	for i := range r.SentMessages {
		r.SentMessages[i] = sentMessage{ID: NewMessageID(), QuoteToken: randomB64(40)}
	}
	return r
}

// decodeBody reads a JSON request body into v, answering 400 on failure.
func (a *API) decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err == nil && len(body) > maxBody {
		err = fmt.Errorf("request body too large")
	}
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		a.count(func(s *Stats) { s.BadRequests++ })
		writeError(w, http.StatusBadRequest, "The request body has 1 error(s)",
			ErrorDetail{Message: "The request body could not be parsed as JSON"})
		return false
	}
	return true
}

func (a *API) badRequest(w http.ResponseWriter, details []ErrorDetail) {
	a.count(func(s *Stats) { s.BadRequests++ })
	writeError(w, http.StatusBadRequest, fmt.Sprintf("The request body has %d error(s)", len(details)), details...)
}

func (a *API) handleReply(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Line-Retry-Key") != "" {
		a.count(func(s *Stats) { s.BadRequests++ })
		writeError(w, http.StatusBadRequest, "X-Line-Retry-Key is not supported by this API")
		return
	}
	var req struct {
		ReplyToken           string            `json:"replyToken"`
		Messages             []json.RawMessage `json:"messages"`
		NotificationDisabled bool              `json:"notificationDisabled"`
	}
	if !a.decodeBody(w, r, &req) {
		return
	}
	var details []ErrorDetail
	if req.ReplyToken == "" {
		details = append(details, ErrorDetail{Message: "May not be empty", Property: "replyToken"})
	}
	details = append(details, validateMessages(req.Messages)...)
	if len(details) > 0 {
		a.badRequest(w, details)
		return
	}
	a.mu.Lock()
	tok, ok := a.replyTokens[req.ReplyToken]
	now := a.now()
	if !ok || now.After(tok.expires) {
		a.stats.InvalidReplyTokens++
		a.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Invalid reply token")
		return
	}
	delete(a.replyTokens, req.ReplyToken)
	a.deliverLocked(Delivered{
		UserID:     tok.userID,
		Via:        "reply",
		Messages:   req.Messages,
		ReplyToken: req.ReplyToken,
		RequestID:  w.Header().Get("X-Line-Request-Id"),
		At:         now,
	})
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, sent(len(req.Messages)))
}

// duplicateLocked answers 409 if key was accepted within RetryKeyTTL.
// a.mu must be held; it reports whether it answered.
func (a *API) duplicateLocked(w http.ResponseWriter, key string) bool {
	if key == "" {
		return false
	}
	prev, ok := a.retryKeys[key]
	if !ok {
		return false
	}
	if a.now().Sub(prev.at) >= a.opts.RetryKeyTTL {
		delete(a.retryKeys, key)
		return false
	}
	a.stats.DuplicateRetryKeys++
	w.Header().Set("X-Line-Accepted-Request-Id", prev.requestID)
	writeError(w, http.StatusConflict, "The retry key is already accepted")
	return true
}

func (a *API) handlePush(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("X-Line-Retry-Key")
	if key != "" && !retryKeyRE.MatchString(key) {
		a.count(func(s *Stats) { s.BadRequests++ })
		writeError(w, http.StatusBadRequest, "The value for the 'X-Line-Retry-Key' header is invalid")
		return
	}
	a.mu.Lock()
	dup := a.duplicateLocked(w, key)
	a.mu.Unlock()
	if dup {
		return
	}
	var req struct {
		To                     string            `json:"to"`
		Messages               []json.RawMessage `json:"messages"`
		NotificationDisabled   bool              `json:"notificationDisabled"`
		CustomAggregationUnits []string          `json:"customAggregationUnits"`
	}
	if !a.decodeBody(w, r, &req) {
		return
	}
	var details []ErrorDetail
	if req.To == "" {
		details = append(details, ErrorDetail{Message: "May not be empty", Property: "to"})
	}
	details = append(details, validateMessages(req.Messages)...)
	if len(details) > 0 {
		a.badRequest(w, details)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.duplicateLocked(w, key) {
		return
	}
	u := a.userLocked(req.To)
	if u == nil {
		a.stats.BadRequests++
		writeError(w, http.StatusBadRequest, "The property, 'to', in the request body is invalid (line: -, column: -)")
		return
	}
	if u.blocked {
		a.stats.BlockedPushes++
		writeError(w, http.StatusBadRequest, "Failed to send messages")
		return
	}
	now := a.now()
	reqID := w.Header().Get("X-Line-Request-Id")
	if key != "" {
		a.retryKeys[key] = retryKey{requestID: reqID, at: now}
	}
	a.deliverLocked(Delivered{
		UserID:    req.To,
		Via:       "push",
		Messages:  req.Messages,
		RetryKey:  key,
		RequestID: reqID,
		At:        now,
	})
	writeJSON(w, http.StatusOK, sent(len(req.Messages)))
}

// msgShape holds the fields of a message object the API validates.
type msgShape struct {
	Type               string          `json:"type"`
	Text               string          `json:"text"`
	AltText            string          `json:"altText"`
	Contents           json.RawMessage `json:"contents"`
	Template           json.RawMessage `json:"template"`
	OriginalContentURL string          `json:"originalContentUrl"`
	PreviewImageURL    string          `json:"previewImageUrl"`
	PackageID          string          `json:"packageId"`
	StickerID          string          `json:"stickerId"`
	BaseURL            string          `json:"baseUrl"`
	QuickReply         *struct {
		Items []struct {
			Type   string `json:"type"`
			Action *struct {
				Type  string `json:"type"`
				Label string `json:"label"`
			} `json:"action"`
		} `json:"items"`
	} `json:"quickReply"`
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// validateMessages checks the shape of 1 to 5 message objects the way LINE
// does (a useful subset) and returns LINE-style error details.
func validateMessages(msgs []json.RawMessage) []ErrorDetail {
	if len(msgs) < 1 || len(msgs) > 5 {
		return []ErrorDetail{{Message: "Size must be between 1 and 5", Property: "messages"}}
	}
	var out []ErrorDetail
	add := func(i int, prop, msg string) {
		out = append(out, ErrorDetail{Message: msg, Property: fmt.Sprintf("messages[%d]%s", i, prop)})
	}
	for i, raw := range msgs {
		var m msgShape
		if err := json.Unmarshal(raw, &m); err != nil {
			add(i, "", "Must be a message object")
			continue
		}
		switch m.Type {
		case "text", "textV2":
			if m.Text == "" {
				add(i, ".text", "May not be empty")
			} else if utf16Len(m.Text) > 5000 {
				add(i, ".text", "Length must be between 0 and 5000")
			}
		case "flex":
			if m.AltText == "" {
				add(i, ".altText", "May not be empty")
			} else if utf16Len(m.AltText) > 1500 {
				add(i, ".altText", "Length must be between 0 and 1500")
			}
			var c struct {
				Type string `json:"type"`
			}
			if len(m.Contents) == 0 || json.Unmarshal(m.Contents, &c) != nil {
				add(i, ".contents", "May not be empty")
			} else if c.Type != "bubble" && c.Type != "carousel" {
				add(i, ".contents.type", "Must be one of the following values: [bubble, carousel]")
			}
		case "template":
			if m.AltText == "" {
				add(i, ".altText", "May not be empty")
			}
			if len(m.Template) == 0 || string(m.Template) == "null" {
				add(i, ".template", "May not be empty")
			}
		case "image", "video":
			if m.OriginalContentURL == "" {
				add(i, ".originalContentUrl", "May not be empty")
			}
			if m.PreviewImageURL == "" {
				add(i, ".previewImageUrl", "May not be empty")
			}
		case "audio":
			if m.OriginalContentURL == "" {
				add(i, ".originalContentUrl", "May not be empty")
			}
		case "sticker":
			if m.PackageID == "" || m.StickerID == "" {
				add(i, ".stickerId", "May not be empty")
			}
		case "imagemap":
			if m.BaseURL == "" || m.AltText == "" {
				add(i, ".baseUrl", "May not be empty")
			}
		case "location", "coupon":
		case "":
			add(i, ".type", "May not be empty")
		default:
			add(i, ".type", "Must be one of the following values: [text, textV2, image, video, audio, location, sticker, imagemap, template, flex, coupon]")
		}
		if q := m.QuickReply; q != nil {
			if len(q.Items) < 1 || len(q.Items) > 13 {
				add(i, ".quickReply.items", "Size must be between 1 and 13")
			}
			for j, it := range q.Items {
				switch {
				case it.Action == nil || it.Action.Type == "":
					add(i, fmt.Sprintf(".quickReply.items[%d].action", j), "May not be empty")
				case utf16Len(it.Action.Label) > 20:
					add(i, fmt.Sprintf(".quickReply.items[%d].action.label", j), "Length must be between 0 and 20")
				}
			}
		}
	}
	return out
}
