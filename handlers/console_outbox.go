package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/outbox"
)

// OutboxAdmin is what the admin's page of outgoing deliveries needs of the durable outbox
// (*outbox.Outbox): what is pending, what failed, what was delivered lately, and putting a failed
// delivery back.
type OutboxAdmin interface {
	// Destinations are the configured destinations, sorted.
	Destinations() []string
	// Pending lists the pending deliveries of a destination ("" = all), oldest first.
	Pending(destination string) []outbox.Delivery
	// Failed lists the failed deliveries of a destination ("" = all), newest failure first.
	Failed(ctx context.Context, destination string) ([]outbox.Delivery, error)
	// Delivered lists the deliveries delivered since the outbox opened, newest first.
	Delivered(destination string) []outbox.Delivery
	// Retry puts a failed delivery back in the pending set.
	Retry(ctx context.Context, id string) (outbox.Delivery, error)
}

var _ OutboxAdmin = (*outbox.Outbox)(nil)

// outboxDestinationIDs and outboxTypeIDs name the outbox's destinations and message types through
// the catalog; a code not listed (a destination or type added later) is shown as it is.
var (
	outboxDestinationIDs = map[string]string{
		"marketing":                 "console.outbox.dest_marketing", // consent.MarketingDestination
		bot.StaffWebhookDestination: "console.outbox.dest_staff_webhook",
		bot.StaffLINEDestination:    "console.outbox.dest_staff_line",
	}
	outboxTypeIDs = map[string]string{
		"consent.optout": "console.outbox.type_consent_optout",
		"consent.optin":  "console.outbox.type_consent_optin",
		bot.AlertType:    "console.outbox.type_escalation_created",
	}
)

// outboxDeliveredShown is how many of the recently delivered deliveries the page lists.
const outboxDeliveredShown = 20

// outboxRow is a delivery as the page shows it. It never carries the payload: that holds customers'
// names, phone numbers and e-mail addresses, which this page has no reason to show.
type outboxRow struct {
	ID                 string
	Dest, DestCode     string
	Type, TypeCode     string
	Key                string
	Attempts           int
	Status             string // the last attempt's status code; "" when none came back
	NoAnswer           bool   // attempted, but no status came back (e.g. a connection error)
	Error              string
	Queued, Next, Done string // times in Japan
}

// outboxName names a destination or message type (ids: outboxDestinationIDs or outboxTypeIDs).
func (w *words) outboxName(ids map[string]string, code string) string {
	if id, ok := ids[code]; ok {
		if s, ok := w.lookup(id); ok {
			return s
		}
	}
	return code
}

// outboxRows are deliveries as the page shows them, in their order.
func (w *words) outboxRows(ds []outbox.Delivery) []outboxRow {
	out := make([]outboxRow, len(ds))
	for i, d := range ds {
		r := outboxRow{ID: d.ID, Dest: w.outboxName(outboxDestinationIDs, d.Destination), DestCode: d.Destination,
			Type: w.outboxName(outboxTypeIDs, d.Type), TypeCode: d.Type, Key: d.Key, Attempts: d.Attempts,
			Error: d.LastError, Queued: clock(d.QueuedAt), Next: clock(d.NextAttempt), Done: clock(d.DoneAt)}
		if d.LastStatus != 0 {
			r.Status = strconv.Itoa(d.LastStatus)
		} else if !d.LastAttempt.IsZero() || d.Attempts > 0 {
			r.NoAnswer = true
		}
		out[i] = r
	}
	return out
}

// registerOutbox mounts the page of outgoing deliveries on the admin group.
func (h *Console) registerOutbox(admin *gin.RouterGroup) {
	admin.GET("/outbox", h.outboxPage)
	admin.POST("/outbox/retry", h.retryOutbox)
}

// outboxPage lists the failed, pending and recently delivered deliveries, optionally of one
// destination (?dest=).
func (h *Console) outboxPage(c *gin.Context) {
	w := h.words(c)
	data := gin.H{"Title": w.T("console.outbox.title"),
		"Flash": map[string]string{"retried": "console.outbox.flash_retried"}[c.Query("m")],
		"Problem": map[string]string{"gone": "console.outbox.problem_gone",
			"unconfigured": "console.outbox.problem_unconfigured"}[c.Query("e")]}
	if h.Outbox == nil {
		data["Off"] = true
		h.render(c, "outbox", data)
		return
	}
	failed, err := h.Outbox.Failed(c.Request.Context(), "")
	if err != nil {
		internalError(c, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "outbox: list failed", Err: err})
		return
	}
	// The filter offers the configured destinations and any a failed delivery still names (one that
	// is no longer configured).
	configured := h.Outbox.Destinations()
	dests := slices.Clone(configured)
	for _, d := range failed {
		if !slices.Contains(dests, d.Destination) {
			dests = append(dests, d.Destination)
		}
	}
	slices.Sort(dests)
	dest := c.Query("dest")
	if dest != "" && !slices.Contains(dests, dest) {
		dest, data["Problem"] = "", "console.outbox.problem_dest"
	}
	if dest != "" {
		failed = slices.DeleteFunc(failed, func(d outbox.Delivery) bool { return d.Destination != dest })
	}
	opts := make([]option, len(dests))
	for i, d := range dests {
		opts[i] = option{d, w.outboxName(outboxDestinationIDs, d)}
	}
	delivered := h.Outbox.Delivered(dest)
	shown := delivered[:min(len(delivered), outboxDeliveredShown)]
	data["Dest"], data["Dests"], data["NoDestinations"] = dest, opts, len(configured) == 0
	data["Failed"], data["Pending"] = w.outboxRows(failed), w.outboxRows(h.Outbox.Pending(dest))
	data["Delivered"], data["DeliveredCount"] = w.outboxRows(shown), len(delivered)
	h.render(c, "outbox", data)
}

// retryOutbox puts a failed delivery back in the pending set (the form's "id": delivery IDs hold
// slashes, so they are not in the path) and returns to the page, keeping its filter.
func (h *Console) retryOutbox(c *gin.Context) {
	if h.Outbox == nil {
		h.deny(c, http.StatusServiceUnavailable, "console.outbox.off")
		return
	}
	id := c.PostForm("id")
	if id == "" || len(id) > 1000 {
		internalError(c, &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "outbox retry: no delivery ID"})
		return
	}
	back := url.Values{}
	if dest := c.PostForm("dest"); dest != "" && len(dest) <= 100 {
		back.Set("dest", dest)
	}
	_, err := h.Outbox.Retry(c.Request.Context(), id)
	switch {
	case errors.Is(err, outbox.ErrNotFailed):
		back.Set("e", "gone")
	case errors.Is(err, outbox.ErrUnknownDestination):
		back.Set("e", "unconfigured")
	case err != nil:
		internalError(c, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "outbox retry failed", Err: err})
		return
	default:
		h.audit(c, "outbox.retry", id, "")
		back.Set("m", "retried")
	}
	c.Redirect(http.StatusSeeOther, "/console/outbox?"+back.Encode())
}
