package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
)

// EscalationSearch finds past and open escalations (store.Store).
type EscalationSearch interface {
	SearchEscalations(ctx context.Context, q string, since time.Time, limit int) ([]bot.Escalation, error)
}

func (h *Console) searchPage(c *gin.Context) {
	w := h.words(c)
	q := strings.TrimSpace(c.Query("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	res, err := h.Search.SearchEscalations(c.Request.Context(), h.searchTerm(q), time.Time{}, 100)
	if err != nil {
		internalError(c, err)
		return
	}
	rows := make([]gin.H, len(res))
	for i, e := range res {
		rows[i] = gin.H{"R": w.toRow(e, h.Now()), "Resolution": w.Label("resolution", e.Resolution),
			"Rating": w.Label("rating", e.Rating), "Closed": clock(e.ClosedAt)}
	}
	h.render(c, "search", gin.H{"Title": w.T("console.search.title"), "Q": q, "Results": rows})
}

// searchTerm reads a query that is the name of a reason, category or resolution (in either language)
// as that code, since escalations store codes: 「対応済み」 finds the chats closed as answered.
func (h *Console) searchTerm(q string) string {
	if q == "" {
		return q
	}
	for _, kind := range []string{"reason", "category", "resolution"} {
		for _, code := range codeKinds[kind] {
			for _, w := range h.vocab {
				if !strings.EqualFold(w.Label(kind, code), q) {
					continue
				}
				if code == "handed_back" {
					return handedBack
				}
				return code
			}
		}
	}
	return q
}

// events streams notices (server-sent events) until the client goes away: "queue" when the queue
// changes, "chat" with the escalation ID when a conversation does. They carry no customer data.
func (h *Console) events(c *gin.Context) {
	ch, stop := h.Live.Subscribe()
	defer stop()
	streamEvents(c, ch, func(n bot.Notice) (string, string) { return string(n.Kind), n.ID })
}

// streamEvents writes what arrives on ch as server-sent events until the client goes away: event
// names each value's event and its data (a code or an ID, never customer data). The client is told to
// reconnect after 2 s; a comment every 25 s keeps proxies from closing a quiet stream.
func streamEvents[T any](c *gin.Context, ch <-chan T, event func(T) (name, data string)) {
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	w.Flush()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-c.Request.Context().Done():
			return
		case v := <-ch:
			name, data := event(v)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		}
		w.Flush()
	}
}
