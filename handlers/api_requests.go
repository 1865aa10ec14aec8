package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// RequestsAPIService is what the back office's requests API uses of the request service
// (*request.Service).
type RequestsAPIService interface {
	// List returns a page of the requests that match f, newest first, and the next page's cursor.
	List(f request.Filter) (page []request.Request, next string)
	// Get returns one request; bot.ErrNotFound when there is none.
	Get(ref string) (request.Request, error)
	// Transition moves a request along its lifecycle and tells the customer (as from the console).
	Transition(ctx context.Context, ref string, t request.Transition) (request.Request, error)
	// View is the back office's representation of a request.
	View(ctx context.Context, r request.Request) (request.View, error)
}

// APIAuditor writes the audit log (store.Store; the console's AuditStore has it).
type APIAuditor interface {
	Audit(ctx context.Context, e account.AuditEntry) error
}

// RequestsAPI is the back office's requests API under /api/v1/requests: the personal-data requests
// (開示等請求) as request.View, with cursor pages and filters, and their lifecycle transitions. Every
// route needs a bearer token with the scope requests (account.ScopeRequests). Each transition is made
// with the actor {api, <token name>} and audited as "request.transition" by "api:<token name>".
type RequestsAPI struct {
	Tokens  TokenVerifier
	Service RequestsAPIService
	Audit   APIAuditor // nil: transitions are not audited (tests only)
	Log     *slog.Logger
	Now     func() time.Time
}

// Limits of the requests API.
const (
	requestsDefaultPage = 50
	requestsMaxPage     = 200
	// maxTransitionBody bounds the body of a transition (the texts it carries are at most 2,000
	// characters each).
	maxTransitionBody = 64 << 10
)

// Register mounts the API under /api/v1/requests.
func (h *RequestsAPI) Register(e *gin.Engine) {
	g := e.Group("/api/v1/requests", bearer(h.Tokens, account.ScopeRequests))
	g.GET("", h.List)
	g.GET("/:id", h.Get)
	g.POST("/:id/transition", h.Transition)
}

// List answers GET /api/v1/requests: {"requests": [View…], "next": CURSOR} ("" on the last page), newest
// first. Query: status and kind (each repeatable or comma-separated; any of them matches),
// updated_since (RFC 3339: updated at or after it), cursor (a next of this API), limit (1–200,
// default 50).
func (h *RequestsAPI) List(c *gin.Context) {
	q := c.Request.URL.Query()
	var f request.Filter
	for _, s := range splitList(q["status"]) {
		st := flows.RequestStatus(s)
		if !flows.ValidStatus(st) {
			fail(c, http.StatusBadRequest, "bad_status", "status "+strconv.Quote(s)+" is not one of "+statusNames(), nil)
			return
		}
		if !slices.Contains(f.Status, st) {
			f.Status = append(f.Status, st)
		}
	}
	for _, s := range splitList(q["kind"]) {
		k, ok := flows.ParseRequestKind(s)
		if !ok {
			fail(c, http.StatusBadRequest, "bad_kind", "kind "+strconv.Quote(s)+" is not one of "+
				strings.Join(flows.KindsAll.Names(), ", "), nil)
			return
		}
		f.Kind |= k
	}
	if s := q.Get("updated_since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			fail(c, http.StatusBadRequest, "bad_updated_since", "updated_since must be an RFC 3339 time such as "+
				"2026-12-01T09:00:00+09:00 (send a + as %2B)", nil)
			return
		}
		f.UpdatedSince = t
	}
	var after request.Request
	if s := q.Get("cursor"); s != "" {
		// A cursor is the reference of the last request of a page; references are never deleted.
		var err error
		if after, err = h.Service.Get(s); err != nil {
			fail(c, http.StatusBadRequest, "bad_cursor", "cursor must be a next returned by this API", nil)
			return
		}
		f.After = s
	}
	f.Limit = requestsDefaultPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > requestsMaxPage {
			fail(c, http.StatusBadRequest, "bad_limit", "limit must be between 1 and 200", nil)
			return
		}
		f.Limit = n
	}
	page, next := h.page(f, after)
	views := make([]request.View, 0, len(page))
	for _, r := range page {
		v, err := h.Service.View(c.Request.Context(), r)
		if err != nil {
			fail(c, http.StatusServiceUnavailable, "store_unavailable", "requests cannot be read now", err)
			return
		}
		views = append(views, v)
	}
	c.JSON(http.StatusOK, gin.H{"requests": views, "next": next})
}

// page returns the page of f after the request after (the cursor's; zero without a cursor). The
// service finds the cursor in the filtered list; a cursor whose request has since left the status
// filter (moved on between two pages: the only thing a request changes that a filter reads, besides
// updatedAt, which only grows) is not there. Then the filter is widened by its status, and what the
// status filter does not want is dropped, so that the client still sees every request once.
func (h *RequestsAPI) page(f request.Filter, after request.Request) ([]request.Request, string) {
	if f.After == "" || len(f.Status) == 0 || slices.Contains(f.Status, after.Status) {
		return h.Service.List(f)
	}
	want, limit := f.Status, f.Limit
	wide := f
	wide.Status = append(slices.Clone(f.Status), after.Status)
	wide.Limit = requestsMaxPage
	var out []request.Request
	for {
		page, next := h.Service.List(wide)
		for _, r := range page {
			if slices.Contains(want, r.Status) {
				if len(out) == limit { // one more than the page: there is a next page
					return out, out[limit-1].ID
				}
				out = append(out, r)
			}
		}
		if next == "" {
			return out, ""
		}
		wide.After = next
	}
}

// Get answers GET /api/v1/requests/{id}: one request (404 when there is none).
func (h *RequestsAPI) Get(c *gin.Context) {
	r, ok := h.find(c)
	if !ok {
		return
	}
	v, err := h.Service.View(c.Request.Context(), r)
	if err != nil {
		fail(c, http.StatusServiceUnavailable, "store_unavailable", "the request cannot be read now", err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// transitionBody is the body of a transition.
type transitionBody struct {
	To      string `json:"to"`
	Reason  string `json:"reason"`
	Note    string `json:"note"`
	Outcome string `json:"outcome"`
}

// Transition answers POST /api/v1/requests/{id}/transition with {"to", "reason", "note", "outcome"}: the
// request moves to status to, the customer is told in the chat (as from the console), the back
// office's webhook is queued, and the change is audited. 200 with the request as it is now; 400 for a
// malformed body, an unknown status, a missing reason (rejected, refused, documents_needed) or a text
// over 2,000 characters; 404 for an unknown request; 409 when the lifecycle does not allow the move from
// the current status, or the request changed meanwhile; 413 for a body over 64 KiB.
func (h *RequestsAPI) Transition(c *gin.Context) {
	cur, ok := h.find(c)
	if !ok {
		return
	}
	var body transitionBody
	if status, code, msg := decodeStrict(c, &body); status != 0 {
		fail(c, status, code, msg, nil)
		return
	}
	to := flows.RequestStatus(body.To)
	if !flows.ValidStatus(to) {
		fail(c, http.StatusBadRequest, "bad_status", "to must be one of "+statusNames(), nil)
		return
	}
	tk := apiToken(c)
	r, err := h.Service.Transition(c.Request.Context(), cur.ID, request.Transition{To: to, Reason: body.Reason,
		Note: body.Note, Outcome: body.Outcome, Actor: request.Actor{Kind: request.ActorAPI, ID: tk.Name}})
	switch {
	case errors.Is(err, bot.ErrNotFound):
		fail(c, http.StatusNotFound, "not_found", "no request "+cur.ID, nil)
		return
	case errors.Is(err, request.ErrReasonRequired):
		fail(c, http.StatusBadRequest, "reason_required", "a reason is required for "+body.To+
			" (the customer reads it)", nil)
		return
	case errors.Is(err, request.ErrTooLong):
		fail(c, http.StatusBadRequest, "too_long", "reason, note and outcome are at most 2000 characters each", nil)
		return
	case errors.Is(err, request.ErrTransition):
		fail(c, http.StatusConflict, "transition_not_allowed", transitionRefusal(h.current(cur), to), nil)
		return
	case errors.Is(err, request.ErrConflict):
		fail(c, http.StatusConflict, "conflict", "the request was changed meanwhile: read it and try again", nil)
		return
	case err != nil:
		fail(c, http.StatusServiceUnavailable, "store_unavailable", "the request cannot be changed now", err)
		return
	}
	h.audit(c, "request.transition", r.ID, "from="+string(cur.Status)+" to="+string(to))
	v, err := h.Service.View(c.Request.Context(), r)
	if err != nil {
		fail(c, http.StatusServiceUnavailable, "store_unavailable",
			"the transition was made, but the request cannot be read now: read it again", err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// find returns the request named by the path, or answers 404.
func (h *RequestsAPI) find(c *gin.Context) (request.Request, bool) {
	id := c.Param("id")
	r, err := h.Service.Get(id)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		fail(c, http.StatusNotFound, "not_found", "no request "+strconv.Quote(id), nil)
		return r, false
	case err != nil:
		fail(c, http.StatusServiceUnavailable, "store_unavailable", "the request cannot be read now", err)
		return r, false
	}
	return r, true
}

// current is the request as it is now (it may have moved since it was read), or r.
func (h *RequestsAPI) current(r request.Request) request.Request {
	if now, err := h.Service.Get(r.ID); err == nil {
		return now
	}
	return r
}

func (h *RequestsAPI) audit(c *gin.Context, action, target, detail string) {
	if h.Audit == nil {
		return
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	e := account.AuditEntry{At: now(), Actor: "api:" + apiToken(c).Name, Action: action, Target: target,
		Detail: detail, IP: c.ClientIP()}
	if err := h.Audit.Audit(c.Request.Context(), e); err != nil && h.Log != nil {
		h.Log.Error("audit write failed", "action", action, "err", err)
	}
}

// transitionRefusal says why the lifecycle refuses r → to, and what it allows.
func transitionRefusal(r request.Request, to flows.RequestStatus) string {
	msg := "the lifecycle does not allow " + string(r.Status) + " → " + string(to)
	next := request.Next(r.Status)
	if len(next) == 0 {
		return msg + " (" + string(r.Status) + " is final)"
	}
	names := make([]string, len(next))
	for i, s := range next {
		names[i] = string(s)
	}
	return msg + " (from " + string(r.Status) + ": " + strings.Join(names, ", ") + ")"
}

// decodeStrict reads a JSON object of at most maxTransitionBody bytes into v: unknown fields and
// anything after the object are refused. It returns status 0, or the status, code and message of the
// refusal.
func decodeStrict(c *gin.Context, v any) (status int, code, msg string) {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxTransitionBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return 0, "", ""
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, "body_too_large", "the body is over 64 KiB"
	case errors.Is(err, io.EOF):
		return http.StatusBadRequest, "invalid_json", "the body must be a JSON object"
	}
	return http.StatusBadRequest, "invalid_json", "the body is not a valid transition: " + err.Error()
}

// splitList reads a repeatable, comma-separated query parameter.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func statusNames() string {
	var names []string
	for _, s := range flows.StatusList() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}
