package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// RequestDesk is what the console's request pages need of the request service (*request.Service):
// the queue, one request with its documents and package, and the staff's operations on it.
type RequestDesk interface {
	// List returns one page of the requests that match f, newest first, and the next page's cursor.
	List(f request.Filter) (page []request.Request, next string)
	// Get returns one request by its reference (bot.ErrNotFound if there is none).
	Get(ref string) (request.Request, error)
	// HasOpen reports whether a customer has a request still being worked on (the chat page's badge).
	HasOpen(userID string) bool
	// Location is the desk's time zone: due dates are days in it.
	Location() *time.Location
	// Subscribe delivers the reference of every request that changes (the live queue).
	Subscribe() (<-chan string, func())

	Documents(ctx context.Context, ref string) ([]request.Document, error)
	OpenDocument(ctx context.Context, ref, id string) (request.Document, []byte, error)

	Transition(ctx context.Context, ref string, t request.Transition) (request.Request, error)
	Extend(ctx context.Context, ref string, due time.Time, reason string, a request.Actor) (request.Request, error)
	Note(ctx context.Context, ref, text string, a request.Actor) (request.Request, error)

	PackageFor(ctx context.Context, ref string) (request.PackageContent, error)
	AttachFile(ctx context.Context, ref, name, contentType string, data []byte, a request.Actor) (request.Request, error)
	File(ctx context.Context, ref, id string) (request.FileInfo, []byte, error)
	RevokeLink(ctx context.Context, ref string, a request.Actor) (request.Request, error)
	ReissueLink(ctx context.Context, ref string, a request.Actor) (request.Request, error)
	MarkPosted(ctx context.Context, ref string, a request.Actor) (request.Request, error)
}

// requestAuditActions are what the request pages write to the audit log; auditActions includes them
// (the audit page names every action through the catalog (console.label.action_<action>). package.download is written
// by the request service when a customer opens their package link).
var requestAuditActions = []string{"request.open", "request.document.view", "request.package.view",
	"request.file.download", "request.transition", "request.transition.refused", "request.extend",
	"request.extend.refused", "request.note", "request.attach", "request.attach.refused", "request.link.revoke",
	"request.link.revoke.refused", "request.link.reissue", "request.link.reissue.refused", "request.posted",
	"request.posted.refused", request.AuditDownload, request.AuditWithdrawn, request.AuditAutomatic,
	request.AuditErased, request.AuditDocsDelete, request.AuditRequestDeleted}

// registerRequests mounts the request pages: admins and privacy officers only (agents and marketing
// get 403; 503 when the deployment has no request service). The upload of a package file checks the
// body's size before anything reads it (the CSRF check reads the form).
func (h *Console) registerRequests(g *gin.RouterGroup) {
	allowed := []gin.HandlerFunc{h.authenticate, h.requireRole(account.RoleAdmin, account.RolePrivacy), h.needs(h.Requests != nil)}
	g.POST("/requests/:id/files", append(allowed, h.limitUpload, h.csrf, h.attachRequestFile)...)

	rq := g.Group("", append(allowed, h.csrf)...)
	rq.GET("/requests", h.requestsPage)
	rq.GET("/api/requests", h.requestsJSON)
	rq.GET("/api/requests/events", h.requestEvents)
	rq.GET("/requests/:id", h.requestPage)
	rq.GET("/requests/:id/documents/:doc", h.requestDocument)
	rq.GET("/requests/:id/package", h.requestPackage)
	rq.GET("/requests/:id/files/:file", h.requestFile)
	rq.POST("/requests/:id/transition", h.transitionRequest)
	rq.POST("/requests/:id/extend", h.extendRequest)
	rq.POST("/requests/:id/note", h.noteRequest)
	rq.POST("/requests/:id/link/revoke", h.revokeRequestLink)
	rq.POST("/requests/:id/link/reissue", h.reissueRequestLink)
	rq.POST("/requests/:id/posted", h.markRequestPosted)
}

// requestActor is the staff member as the request service records them.
func requestActor(st account.Staff) request.Actor {
	name := st.Name
	if name == "" {
		name = st.Email
	}
	return request.Actor{Kind: request.ActorStaff, ID: st.Email, Name: name}
}

// --- names of the request vocabulary, in the staff member's language ---

var (
	requestKindIDs = map[flows.RequestKind]string{
		flows.KindDisclosure:        "console.requests.kind_disclosure",
		flows.KindPurposeNotice:     "console.requests.kind_purpose_notice",
		flows.KindCorrection:        "console.requests.kind_correction",
		flows.KindAddition:          "console.requests.kind_addition",
		flows.KindDeletion:          "console.requests.kind_deletion",
		flows.KindSuspension:        "console.requests.kind_suspension",
		flows.KindErasure:           "console.requests.kind_erasure",
		flows.KindStopThirdParty:    "console.requests.kind_stop_third_party",
		flows.KindThirdPartyRecords: "console.requests.kind_third_party_records",
	}
	requestStatusIDs = map[flows.RequestStatus]string{
		flows.StatusReceived:        "console.requests.status_received",
		flows.StatusDocumentsNeeded: "console.requests.status_documents_needed",
		flows.StatusVerified:        "console.requests.status_verified",
		flows.StatusRejected:        "console.requests.status_rejected",
		flows.StatusInProgress:      "console.requests.status_in_progress",
		flows.StatusCompleted:       "console.requests.status_completed",
		flows.StatusRefused:         "console.requests.status_refused",
		flows.StatusWithdrawn:       "console.requests.status_withdrawn",
	}
	requesterIDs = map[flows.Requester]string{
		flows.RequesterSelf:  "console.requests.requester_self",
		flows.RequesterAgent: "console.requests.requester_agent",
		flows.RequesterLegal: "console.requests.requester_legal",
	}
	// erasedIDs name the collections an erasure counts (store.EraseCustomer).
	erasedIDs = map[string]string{
		"transcript": "console.requests.erased_transcript", "steps": "console.requests.erased_steps",
		"deliveries": "console.requests.erased_deliveries", "conversations": "console.requests.erased_conversations",
		"documents": "console.requests.erased_documents", "escalations": "console.requests.erased_escalations",
	}
	repKindIDs = map[string]string{
		flows.RepParent:   "console.requests.rep_parent",
		flows.RepGuardian: "console.requests.rep_guardian",
	}
	docsByIDs = map[flows.DocumentsBy]string{
		flows.DocsChat:  "console.requests.docs_by_chat",
		flows.DocsLater: "console.requests.docs_by_later",
		flows.DocsPost:  "console.requests.docs_by_post",
	}
	deliveryIDs = map[flows.DeliveryMethod]string{
		flows.DeliveryElectronic: "console.requests.delivery_electronic",
		flows.DeliveryPost:       "console.requests.delivery_post",
		flows.DeliveryNone:       "console.requests.delivery_none",
	}
	customerGroundIDs = map[flows.Ground]string{
		flows.GroundBeyondPurpose: "console.requests.cground_beyond_purpose",
		flows.GroundImproper:      "console.requests.cground_improper",
		flows.GroundUnneeded:      "console.requests.cground_unneeded",
		flows.GroundLeaked:        "console.requests.cground_leaked",
		flows.GroundRightsAtRisk:  "console.requests.cground_rights_at_risk",
		flows.GroundOther:         "console.requests.cground_other",
	}
)

// codeName names a code through ids; a code the console does not know is shown as it is.
func codeName[K ~string | ~uint16](w *words, ids map[K]string, code K) string {
	if id, ok := ids[code]; ok {
		return w.T(id)
	}
	return fmt.Sprint(code)
}

// kindNames names each kind of a set, in display order.
func (w *words) kindNames(k flows.RequestKind) []string {
	var out []string
	for _, one := range k.List() {
		out = append(out, codeName(w, requestKindIDs, one))
	}
	return out
}

// daysLeft says how long is left until a request's due date: "" once it is closed.
func (w *words) daysLeft(r request.Request, now time.Time, loc *time.Location) (text string, overdue bool) {
	if !r.Open() {
		return "", false
	}
	n := r.DaysLeft(now, loc)
	switch {
	case now.After(r.DueAt):
		return w.T("console.requests.overdue_days", "Count", max(1, -n)), true
	case n <= 0:
		return w.T("console.requests.due_today"), false
	}
	return w.T("console.requests.days_left", "Count", n), false
}

// --- the queue ---

// requestRow is a request as the queue shows it (also the JSON of the live view), in the staff
// member's language; Status stays a code for the page's styles.
type requestRow struct {
	Ref         string   `json:"ref"`
	Link        string   `json:"link"`
	Kinds       []string `json:"kinds"`
	Requester   string   `json:"requester"`
	Status      string   `json:"status"`
	StatusLabel string   `json:"statusLabel"`
	Received    string   `json:"received"`
	Due         string   `json:"due"`
	Left        string   `json:"left"`
	Urgent      bool     `json:"urgent"`
	Overdue     bool     `json:"overdue"`
}

func (w *words) requestRow(r request.Request, now time.Time, loc *time.Location) requestRow {
	row := requestRow{Ref: r.ID, Link: requestLink(r.ID), Kinds: w.kindNames(r.Kinds),
		Requester: codeName(w, requesterIDs, r.Requester), Status: string(r.Status),
		StatusLabel: codeName(w, requestStatusIDs, r.Status), Received: clock(r.ReceivedAt),
		Due: r.DueAt.In(loc).Format(time.DateOnly), Urgent: r.Urgent(now)}
	row.Left, row.Overdue = w.daysLeft(r, now, loc)
	return row
}

func requestLink(ref string) string { return "/console/requests/" + url.PathEscape(ref) }

// requestQuery is the queue's query: status ("" for the open requests, "all", or one status), kind
// (a machine name), overdue only, free text, and the cursor.
type requestQuery struct {
	Status  string
	Kind    string
	Overdue bool
	Q       string
	After   string
}

// requestPageSize is how many requests one page of the queue shows.
const requestPageSize = 50

// readRequestQuery reads the queue's query into the service's filter; problem is the catalog ID of
// what was ignored in it.
func readRequestQuery(c *gin.Context) (q requestQuery, f request.Filter, problem string) {
	q = requestQuery{Status: c.Query("status"), Kind: c.Query("kind"), Overdue: c.Query("overdue") == "1",
		Q: strings.TrimSpace(c.Query("q")), After: c.Query("after")}
	f = request.Filter{Overdue: q.Overdue, Limit: requestPageSize}
	switch st := flows.RequestStatus(q.Status); {
	case q.Status == "all":
	case flows.ValidStatus(st):
		f.Status = []flows.RequestStatus{st}
	default:
		if q.Status != "" {
			q.Status, problem = "", "console.requests.problem_filter"
		}
		for _, s := range flows.StatusList() {
			if s.Open() {
				f.Status = append(f.Status, s)
			}
		}
	}
	if q.Kind != "" {
		if k, ok := flows.ParseRequestKind(q.Kind); ok {
			f.Kind = k
		} else {
			q.Kind, problem = "", "console.requests.problem_filter"
		}
	}
	if len(q.Q) > 200 {
		q.Q = q.Q[:200]
	}
	if len(q.After) > 40 {
		q.After = ""
	}
	f.Query, f.After = q.Q, q.After
	return q, f, problem
}

// encode is the query as a query string ("" when empty), with the cursor after.
func (q requestQuery) encode(after string) string {
	v := url.Values{}
	for k, s := range map[string]string{"status": q.Status, "kind": q.Kind, "q": q.Q, "after": after} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Overdue {
		v.Set("overdue", "1")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func (h *Console) requestRows(c *gin.Context, f request.Filter) ([]requestRow, string) {
	w, now, loc := h.words(c), h.Now(), h.Requests.Location()
	list, next := h.Requests.List(f)
	rows := make([]requestRow, len(list))
	for i, r := range list {
		rows[i] = w.requestRow(r, now, loc)
	}
	return rows, next
}

func (h *Console) requestsPage(c *gin.Context) {
	w := h.words(c)
	q, f, problem := readRequestQuery(c)
	rows, next := h.requestRows(c, f)
	statuses := []option{{"all", w.T("console.requests.filter_all_statuses")}}
	for _, s := range flows.StatusList() {
		statuses = append(statuses, option{string(s), codeName(w, requestStatusIDs, s)})
	}
	kinds := make([]option, 0, len(requestKindIDs))
	for _, k := range flows.RequestKindList() {
		kinds = append(kinds, option{k.Name(), codeName(w, requestKindIDs, k)})
	}
	data := gin.H{"Title": w.T("console.requests.title"), "Rows": rows, "Q": q, "Statuses": statuses, "Kinds": kinds,
		"Problem": problem, "Filtered": q.Status != "" || q.Kind != "" || q.Overdue || q.Q != "",
		"Query": q.encode(q.After)}
	if next != "" {
		data["NextURL"] = "/console/requests" + q.encode(next)
	}
	if q.After != "" {
		data["FirstURL"] = "/console/requests" + q.encode("")
	}
	h.render(c, "requests", data)
}

// requestsJSON is the queue's rows for the live view (same query as the page).
func (h *Console) requestsJSON(c *gin.Context) {
	_, f, _ := readRequestQuery(c)
	rows, next := h.requestRows(c, f)
	c.JSON(http.StatusOK, gin.H{"rows": rows, "next": next})
}

// requestEvents streams "request" events (server-sent), each with the reference of a request that
// changed, until the client goes away. They carry no customer data.
func (h *Console) requestEvents(c *gin.Context) {
	ch, stop := h.Requests.Subscribe()
	defer stop()
	streamEvents(c, ch, func(ref string) (string, string) { return "request", ref })
}
