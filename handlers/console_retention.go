package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot/retention"
	"github.com/enemane/privacybot/flows"
)

// RetentionDesk is what the admin's page of retention periods needs of the sweeper
// (*retention.Sweeper): the periods in force, the latest sweeps' reports, and a sweep now.
type RetentionDesk interface {
	// Policy is the periods in force.
	Policy() retention.Policy
	// Last returns the newest sweep reports, at most limit.
	Last(ctx context.Context, limit int) ([]retention.Report, error)
	// Once sweeps every kind now; retention.ErrBusy while another sweep runs.
	Once(ctx context.Context, trigger string) (retention.Report, error)
}

var _ RetentionDesk = (*retention.Sweeper)(nil)

// retentionHistoryShown is how many of the latest sweeps the page lists.
const retentionHistoryShown = 20

// retentionFromIDs say when each kind's period starts (what the sweeper's target counts from); a kind
// not listed (added later) is shown without it. The kinds' names are the shared catalog's
// retention.kind.<kind>.
var retentionFromIDs = map[flows.DataKind]string{
	flows.DataTranscript:    "console.retention.from_transcript",
	flows.DataConversations: "console.retention.from_conversations",
	flows.DataSteps:         "console.retention.from_steps",
	flows.DataEscalations:   "console.retention.from_escalations",
	flows.DataRequests:      "console.retention.from_requests",
	flows.DataDocuments:     "console.retention.from_documents",
	flows.DataPackages:      "console.retention.from_packages",
	flows.DataConsent:       "console.retention.from_consent",
	flows.DataOutbox:        "console.retention.from_outbox",
	flows.DataAudit:         "console.retention.from_audit",
}

// retentionTriggerIDs name what started a sweep; an unknown trigger is shown as it is.
var retentionTriggerIDs = map[string]string{
	retention.TriggerSchedule: "console.retention.trigger_schedule",
	retention.TriggerStaff:    "console.retention.trigger_staff",
}

// retentionNoTarget is the error the sweeper reports for a kind nothing deletes (worded by the catalog).
const retentionNoTarget = "no target"

// retentionPeriodRow is one kind's period as the page shows it.
type retentionPeriodRow struct {
	Kind, Code, Period, From string
}

// retentionKindRow is one kind's part of a sweep.
type retentionKindRow struct {
	Kind, Code, Cutoff, Deleted string
	Error                       string // as the sweeper reported it, worded when known
}

// retentionSweepRow is one sweep as the page shows it.
type retentionSweepRow struct {
	ID, Instance, Trigger, TriggerCode string
	Started, Finished, Took            string
	Deleted                            string
	Failed                             bool
	Kinds                              []retentionKindRow
}

// kindName names a kind of data through the shared catalog (the code when it has no name).
func (w *words) kindName(k flows.DataKind) string {
	if s, ok := w.lookup("retention.kind." + string(k)); ok {
		return s
	}
	return string(k)
}

// period says a period: N日・N年 / N days, N years.
func (w *words) period(p flows.Period) string {
	if p.Unit == flows.Years {
		return w.T("console.retention.period_years", "Count", p.N)
	}
	return w.T("console.retention.period_days", "Count", p.N)
}

// took says how long a sweep took.
func (w *words) took(d time.Duration) string {
	switch {
	case d < time.Second:
		return w.T("console.retention.took_under_second")
	case d < time.Minute:
		return w.T("console.retention.took_seconds", "Count", int(d.Seconds()))
	}
	return w.T("console.retention.took_minutes", "Minutes", int(d.Minutes()), "Seconds", int(d.Seconds())%60)
}

// count says a number of items (12,345件 / 12,345 items).
func (w *words) count(n int64) string {
	return w.T("console.retention.count", "Count", n, "N", groupDigits(n))
}

// groupDigits writes n with a comma every three digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func (w *words) retentionPeriods(p retention.Policy) []retentionPeriodRow {
	out := make([]retentionPeriodRow, len(p))
	for i, x := range p {
		r := retentionPeriodRow{Kind: w.kindName(x.Kind), Code: string(x.Kind), Period: w.period(x)}
		if id, ok := retentionFromIDs[x.Kind]; ok {
			r.From = w.T(id)
		}
		out[i] = r
	}
	return out
}

func (w *words) retentionSweep(r retention.Report) retentionSweepRow {
	s := retentionSweepRow{ID: r.ID, Instance: r.Instance, Trigger: r.Trigger, TriggerCode: r.Trigger,
		Started: clock(r.Started), Finished: clock(r.Finished), Took: w.took(r.Finished.Sub(r.Started)),
		Deleted: w.count(r.Deleted()), Failed: r.Failed()}
	if id, ok := retentionTriggerIDs[r.Trigger]; ok {
		s.Trigger = w.T(id)
	}
	for _, k := range r.Kinds {
		row := retentionKindRow{Kind: w.kindName(k.Kind), Code: string(k.Kind), Cutoff: clock(k.Cutoff),
			Deleted: w.count(k.Deleted), Error: k.Error}
		if k.Error == retentionNoTarget {
			row.Error = w.T("console.retention.error_no_target")
		}
		s.Kinds = append(s.Kinds, row)
	}
	return s
}

// registerRetention mounts the page of retention periods on the admin group (503 when the deployment
// has no sweeper).
func (h *Console) registerRetention(admin *gin.RouterGroup) {
	admin.GET("/retention", h.needs(h.Retention != nil), h.retentionPage)
	admin.POST("/retention/sweep", h.needs(h.Retention != nil), h.sweepNow)
}

// retentionFlashes and retentionProblems are the notices the page shows after a sweep (?m=, ?e=).
var (
	retentionFlashes  = map[string]string{"done": "console.retention.flash_done"}
	retentionProblems = map[string]string{"failed": "console.retention.problem_failed",
		"unsaved": "console.retention.problem_unsaved", "busy": "console.retention.problem_busy"}
)

// retentionPage shows the periods in force, the setting that writes them, the last sweep and the
// latest sweeps.
func (h *Console) retentionPage(c *gin.Context) {
	w := h.words(c)
	p := h.Retention.Policy()
	data := gin.H{"Title": w.T("console.retention.title"), "Periods": w.retentionPeriods(p),
		"Setting": "RETENTION=" + p.String()}
	n, countErr := strconv.ParseInt(c.Query("n"), 10, 64)
	if id := retentionFlashes[c.Query("m")]; id != "" && countErr == nil {
		data["Flash"] = w.T(id, "Count", n, "N", groupDigits(n))
	}
	switch id := retentionProblems[c.Query("e")]; {
	case c.Query("e") == "busy":
		data["Problem"] = w.T(id)
	case id != "" && countErr == nil:
		data["Problem"] = w.T(id, "Count", n, "N", groupDigits(n))
	}
	reports, err := h.Retention.Last(c.Request.Context(), retentionHistoryShown)
	if err != nil {
		h.Log.Error("retention: sweep reports not read", "err", err)
		data["HistoryDown"] = true
	}
	rows := make([]retentionSweepRow, len(reports))
	for i, r := range reports {
		rows[i] = w.retentionSweep(r)
	}
	if len(rows) > 0 {
		data["LastSweep"] = rows[0]
	}
	data["Sweeps"], data["Shown"] = rows, retentionHistoryShown
	h.render(c, "retention", data)
}

// sweepNow runs a sweep at an admin's request, audits it (the report's ID and the total deleted) and
// returns to the page with what happened. The sweep is not cut short when the admin leaves the page.
func (h *Console) sweepNow(c *gin.Context) {
	r, err := h.Retention.Once(context.WithoutCancel(c.Request.Context()), retention.TriggerStaff)
	back := url.Values{}
	switch {
	case errors.Is(err, retention.ErrBusy):
		back.Set("e", "busy")
	case err != nil && r.ID == "":
		internalError(c, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "retention sweep failed", Err: err})
		return
	default:
		// The sweep ran (even when its report could not be saved): what it deleted is audited.
		h.audit(c, "retention.sweep", r.ID, "deleted="+strconv.FormatInt(r.Deleted(), 10))
		back.Set("n", strconv.FormatInt(r.Deleted(), 10))
		switch {
		case err != nil:
			h.Log.Error("retention: sweep report not saved", "err", err)
			back.Set("e", "unsaved")
		case r.Failed():
			back.Set("e", "failed")
		default:
			back.Set("m", "done")
		}
	}
	c.Redirect(http.StatusSeeOther, "/console/retention?"+back.Encode())
}
