package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/insight"
)

// ReviewDesk is what the review inbox needs (*insight.Inbox): the open questions grouped, the
// decided ones, the taught phrases, and the decisions.
type ReviewDesk interface {
	Open(ctx context.Context) (groups []insight.Group, more bool, err error)
	Decided(ctx context.Context, limit int) ([]insight.Item, error)
	Proposal(ctx context.Context, it insight.Item) (string, []string)
	Teach(ctx context.Context, keys []string, intent, topic, text, by string) (insight.Taught, error)
	Ignore(ctx context.Context, keys []string, by string) error
	Reopen(ctx context.Context, keys []string, by string) error
	Revert(ctx context.Context, id, by string) (insight.Taught, error)
	Taught(ctx context.Context) ([]insight.Taught, error)
}

var _ ReviewDesk = (*insight.Inbox)(nil)

// Review page limits: the groups shown at once (the largest first) and the decided items listed.
const (
	reviewGroupsShown  = 30
	reviewDecidedShown = 100
)

// reviewAuditActions are what the review inbox writes to the audit log.
var reviewAuditActions = []string{"review.teach", "review.teach.refused", "review.ignore", "review.reopen", "review.revert"}

// registerReview mounts the review inbox for the roles that read transcripts and answer customers
// (admins and agents): the questions in it are the customers' own words.
func (h *Console) registerReview(authed *gin.RouterGroup) {
	g := authed.Group("/review", h.requireRole(account.RoleAdmin, account.RoleAgent), h.needs(h.Review != nil))
	g.GET("", h.reviewPage)
	g.POST("/teach", h.reviewTeach)
	g.POST("/ignore", h.reviewIgnore)
	g.POST("/reopen", h.reviewReopen)
	g.POST("/revert", h.reviewRevert)
}

// The notices after a decision (?m=) and the problems (?e=).
var (
	reviewFlashes = map[string]string{"taught": "console.review.flash_taught", "ignored": "console.review.flash_ignored",
		"reopened": "console.review.flash_reopened", "reverted": "console.review.flash_reverted"}
	reviewProblems = map[string]string{"decided": "console.review.problem_decided", "bad": "console.review.problem_bad",
		"reverted": "console.review.problem_reverted"}
)

func (h *Console) reviewPage(c *gin.Context) {
	h.renderReview(c, http.StatusOK, nil)
}

// reviewRefusal is a teach form sent back: the group's keys, what was chosen, the phrase masked and
// what was found in it.
type reviewRefusal struct {
	Keys          []string
	Target, Text  string
	Kinds         []string
	InvalidTarget bool
	NamesUnknown  bool // the customer's names could not be read: try again later
}

func (h *Console) renderReview(c *gin.Context, status int, refused *reviewRefusal) {
	w := h.words(c)
	ctx := c.Request.Context()
	tab := c.Query("tab")
	if tab != "done" && tab != "taught" {
		tab = "open"
	}
	data := gin.H{"Title": w.T("console.review.title"), "Tab": tab, "Targets": w.reviewTargets()}
	if id := reviewFlashes[c.Query("m")]; id != "" {
		data["Flash"] = w.T(id)
	}
	if id := reviewProblems[c.Query("e")]; id != "" {
		data["Problem"] = w.T(id)
	}
	var err error
	switch tab {
	case "open":
		var groups []insight.Group
		var more bool
		if groups, more, err = h.Review.Open(ctx); err == nil {
			data["Total"], data["TotalMore"] = countItems(groups), more
			data["Groups"] = w.reviewGroups(ctx, h.Review, groups[:min(len(groups), reviewGroupsShown)], refused)
			data["More"] = more || len(groups) > reviewGroupsShown
		}
	case "done":
		var items []insight.Item
		if items, err = h.Review.Decided(ctx, reviewDecidedShown); err == nil {
			data["Decided"] = w.reviewRows(items)
		}
	case "taught":
		var taught []insight.Taught
		if taught, err = h.Review.Taught(ctx); err == nil {
			data["Taught"] = w.taughtRows(taught)
		}
	}
	if err != nil {
		internalError(c, err)
		return
	}
	switch {
	case refused == nil:
	case refused.InvalidTarget:
		data["Problem"] = w.T("console.review.problem_bad")
	case refused.NamesUnknown:
		data["Problem"] = w.T("console.review.problem_names")
	default:
		data["Problem"] = w.T("console.review.problem_pii", "Kinds", w.piiKinds(refused.Kinds))
	}
	c.Status(status)
	h.render(c, "review", data)
}

func countItems(groups []insight.Group) int {
	n := 0
	for _, g := range groups {
		n += len(g.Items)
	}
	return n
}

// reviewKeys reads the items a form is about.
func reviewKeys(c *gin.Context) []string {
	var keys []string
	for _, k := range c.PostFormArray("key") {
		if k = strings.TrimSpace(k); k != "" && len(k) < 200 {
			keys = append(keys, k)
		}
	}
	return keys
}

// reviewTeach teaches the chosen intent (and topic) with the phrase as staff left it. A phrase with
// personal data is refused: the form comes back with the data masked, for staff to check and send.
// The writes are not cut short when staff leave the page (a teach is several writes).
func (h *Console) reviewTeach(c *gin.Context) {
	keys := reviewKeys(c)
	target := c.PostForm("target")
	intent, topic, _ := strings.Cut(target, "|")
	text := c.PostForm("text")
	t, err := h.Review.Teach(context.WithoutCancel(c.Request.Context()), keys, intent, topic, text, h.me(c).Email)
	var pii *insight.PIIError
	switch {
	case errors.As(err, &pii):
		h.audit(c, "review.teach.refused", strings.Join(keys, ","), "pii="+strings.Join(pii.Kinds, ","))
		h.renderReview(c, http.StatusUnprocessableEntity, &reviewRefusal{Keys: keys, Target: target, Text: pii.Masked, Kinds: pii.Kinds})
		return
	case errors.Is(err, insight.ErrBadTeach):
		h.renderReview(c, http.StatusUnprocessableEntity, &reviewRefusal{Keys: keys, Target: target, Text: text, InvalidTarget: true})
		return
	case errors.Is(err, insight.ErrNamesUnknown):
		h.Log.Warn("review: the customer's names could not be read; teaching refused", "err", err)
		h.renderReview(c, http.StatusServiceUnavailable, &reviewRefusal{Keys: keys, Target: target, Text: text, NamesUnknown: true})
		return
	case errors.Is(err, insight.ErrDecided), errors.Is(err, insight.ErrNotFound):
		h.reviewBack(c, "open", "e", "decided")
		return
	case errors.Is(err, insight.ErrRetrain):
		// Taught and stored; the next sync retrains (every instance syncs every few seconds).
		h.Log.Error("review: model not retrained after teaching", "err", err)
	case err != nil:
		internalError(c, err)
		return
	}
	h.audit(c, "review.teach", t.ID, "intent="+intent+" topic="+topic+" items="+strings.Join(keys, ","))
	h.reviewBack(c, "open", "m", "taught")
}

func (h *Console) reviewIgnore(c *gin.Context) {
	h.reviewDecide(c, "open", "review.ignore", "ignored", h.Review.Ignore)
}

func (h *Console) reviewReopen(c *gin.Context) {
	h.reviewDecide(c, "done", "review.reopen", "reopened", h.Review.Reopen)
}

// reviewDecide carries out ignore or reopen on the form's items, audits what changed and returns to
// tab with a notice.
func (h *Console) reviewDecide(c *gin.Context, tab, action, flash string, decide func(context.Context, []string, string) error) {
	keys := reviewKeys(c)
	switch err := decide(context.WithoutCancel(c.Request.Context()), keys, h.me(c).Email); {
	case errors.Is(err, insight.ErrBadTeach):
		h.reviewBack(c, tab, "e", "bad")
		return
	case errors.Is(err, insight.ErrDecided):
		// Some were decided by someone else meanwhile; the others changed.
		h.audit(c, action, strings.Join(keys, ","), "partly: some were decided meanwhile")
		h.reviewBack(c, tab, "e", "decided")
		return
	case err != nil:
		internalError(c, err)
		return
	}
	h.audit(c, action, strings.Join(keys, ","), "")
	h.reviewBack(c, tab, "m", flash)
}

func (h *Console) reviewRevert(c *gin.Context) {
	id := c.PostForm("id")
	t, err := h.Review.Revert(context.WithoutCancel(c.Request.Context()), id, h.me(c).Email)
	if errors.Is(err, insight.ErrReverted) || t.ID == "" && errors.Is(err, insight.ErrNotFound) {
		h.reviewBack(c, "taught", "e", "reverted")
		return
	}
	if t.ID != "" { // reverted by this request, whatever failed after
		h.audit(c, "review.revert", id, "intent="+t.Intent+" topic="+t.Topic)
	}
	switch {
	case errors.Is(err, insight.ErrRetrain):
		h.Log.Error("review: model not retrained after a revert", "err", err)
	case err != nil:
		internalError(c, err)
		return
	}
	h.reviewBack(c, "taught", "m", "reverted")
}

// reviewBack returns to a tab of the page with a notice (POST, redirect, GET).
func (h *Console) reviewBack(c *gin.Context, tab, k, v string) {
	q := url.Values{}
	q.Set("tab", tab)
	q.Set(k, v)
	c.Redirect(http.StatusSeeOther, "/console/review?"+q.Encode())
}
