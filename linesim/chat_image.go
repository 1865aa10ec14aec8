package linesim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxImageBytes is the largest file the chat page sends as an image
// unless ChatOptions.MaxImageBytes says otherwise: 25 MiB, above what a bot
// should accept, so that the oversize case can be tried from the page.
const DefaultMaxImageBytes = 25 << 20

// Errors of Chat.SendImage (and of the page's image upload).
var (
	ErrUnknownCustomer = errors.New("linesim: unknown customer")
	ErrBlockedCustomer = errors.New("linesim: the customer blocks the account")
	ErrEmptyImage      = errors.New("linesim: empty file")
)

// SendImage sends an image message from the chat customer userID, as the
// page's attach button does: data is stored in the API under a new message
// ID (served at GET /v2/bot/message/{id}/content with contentType, or the
// type sniffed from data when empty), the customer's bubble shows it, and
// the bot gets a signed image message event with contentProvider "line".
// data may be anything (a non-image, a large file): the page's size limit
// does not apply here. It returns the message ID; err is also set when the
// webhook could not be delivered (the content is stored all the same).
func (c *Chat) SendImage(ctx context.Context, userID string, data []byte, contentType string) (messageID string, err error) {
	return c.sendImage(ctx, userID, "", data, contentType)
}

func (c *Chat) sendImage(ctx context.Context, userID, name string, data []byte, contentType string) (string, error) {
	c.mu.Lock()
	cu := c.customerLocked(userID)
	var snap Customer
	if cu != nil {
		snap = *cu
	}
	c.mu.Unlock()
	switch {
	case cu == nil:
		return "", ErrUnknownCustomer
	case snap.Blocked:
		return "", ErrBlockedCustomer
	case len(data) == 0:
		return "", ErrEmptyImage
	}
	ct := contentTypeOf(data, contentType)
	id := NewMessageID()
	c.api.PutContent(id, ct, data)
	ev := c.sender.imageEvent(snap.UserID, id)
	e := chatEntry{UserID: snap.UserID, From: "user", Kind: "image", Name: name, CType: ct, Size: len(data)}
	return id, c.send(ctx, e, ev)
}

func (c *Chat) maxImageBytes() int64 {
	if c.opts.MaxImageBytes > 0 {
		return c.opts.MaxImageBytes
	}
	return DefaultMaxImageBytes
}

// imageError answers a refused image with a message the page shows as is.
func imageError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (c *Chat) imageResult(w http.ResponseWriter, id string, err error) {
	switch {
	case errors.Is(err, ErrUnknownCustomer):
		imageError(w, http.StatusNotFound, "unknown customer")
	case errors.Is(err, ErrBlockedCustomer):
		imageError(w, http.StatusBadRequest, "ブロック中は送れません")
	case errors.Is(err, ErrEmptyImage):
		imageError(w, http.StatusBadRequest, "空のファイルは送れません")
	case err != nil && id != "":
		writeJSON(w, http.StatusBadGateway, map[string]string{"messageId": id, "error": err.Error()})
	case err != nil:
		imageError(w, http.StatusBadGateway, err.Error())
	default:
		writeJSON(w, http.StatusOK, map[string]string{"messageId": id})
	}
}

// handleImage takes a file from the page: POST api/image?userId=U…&name=…
// with the file as the body and its type (as the browser guessed it) as
// Content-Type. Any file goes, up to maxImageBytes.
func (c *Chat) handleImage(w http.ResponseWriter, r *http.Request) {
	limit := c.maxImageBytes()
	tooLarge := fmt.Sprintf("ファイルが大きすぎます（%s まで）", sizeText(limit))
	if r.ContentLength > limit {
		imageError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		imageError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	case err != nil:
		imageError(w, http.StatusBadRequest, "the file could not be read: "+err.Error())
		return
	}
	q := r.URL.Query()
	ct := strings.TrimSpace(r.Header.Get("Content-Type"))
	if len(ct) > 200 {
		ct = ""
	}
	id, err := c.sendImage(r.Context(), q.Get("userId"), clip(q.Get("name"), 200), data, ct)
	c.imageResult(w, id, err)
}

// handleSampleID sends the sample identity card (SampleIDCard) as an image
// from a customer: POST api/sample-id {"userId": …}.
func (c *Chat) handleSampleID(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID string `json:"userId"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	id, err := c.sendImage(r.Context(), req.UserID, "sample-id.png", sampleIDCard(), "image/png")
	c.imageResult(w, id, err)
}

// handleContent serves a message's content to the page, for the customer's
// bubble. Only image types are served as such; anything else is served as
// a download, and nothing from here may run in the page's origin.
func (c *Chat) handleContent(w http.ResponseWriter, r *http.Request) {
	ct, ok := c.api.contentOf(r.PathValue("messageId"))
	if !ok {
		http.Error(w, "no such content", http.StatusNotFound)
		return
	}
	typ := ct.contentType
	if !strings.HasPrefix(typ, "image/") || strings.Contains(typ, "svg") {
		typ = "application/octet-stream"
		w.Header().Set("Content-Disposition", "attachment")
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600") // a message's content never changes
	_, _ = w.Write(ct.data)
}

// sizeText writes a number of bytes for people: "25 MB", "512 KB", "900 B".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// clip cuts s to at most n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
