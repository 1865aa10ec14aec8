package handlers

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// loadRequest reads the request of the path; a missing one is the 404 page.
func (h *Console) loadRequest(c *gin.Context) (request.Request, bool) {
	r, err := h.Requests.Get(c.Param("id"))
	if errors.Is(err, bot.ErrNotFound) {
		h.deny(c, http.StatusNotFound, "console.requests.not_found")
		return r, false
	}
	if err != nil {
		internalError(c, err)
		return r, false
	}
	return r, true
}

// reqFormBack is what a staff member wrote into a form the request page refused, shown again with the
// problem, so nothing typed is lost.
type reqFormBack struct {
	Form    string // "to-<status>", "extend", "note", "attach"
	Reason  string
	Note    string
	Outcome string
	Ground  string
	Due     string
}

func (h *Console) requestPage(c *gin.Context) {
	r, ok := h.loadRequest(c)
	if !ok {
		return
	}
	h.audit(c, "request.open", r.ID, "")
	h.renderRequest(c, r, http.StatusOK, requestFlashIDs[c.Query("m")], nil)
}

// requestFlashIDs are the request page's messages after an action (?m=…): codes, never input.
var requestFlashIDs = map[string]string{
	"transition": "console.requests.flash_transition", "extend": "console.requests.flash_extend",
	"note": "console.requests.flash_note", "attach": "console.requests.flash_attach",
	"revoke": "console.requests.flash_revoke", "reissue": "console.requests.flash_reissue",
	"posted": "console.requests.flash_posted",
}

// reqDocRow is an identity document's metadata as the page lists it (never its content).
type reqDocRow struct {
	ID, Link, Status, StatusLabel, Problem, Type, Size, SHA, Created string
	Seq                                                              int
	Viewable                                                         bool
}

// reqHistoryRow is one change of a request as the page lists it.
type reqHistoryRow struct {
	At, What, From, To, Reason, Note, Actor, Due string
}

// reqTransitionForm is the form of one status a request may move to.
type reqTransitionForm struct {
	To, Label, Button, Hint string
	NeedsReason, Refuse     bool
	NeedsOutcome, Erases    bool
	Open                    bool // shown opened (the form the staff member just sent)
}

// reqChatLink is one of the customer's chats with staff.
type reqChatLink struct{ Link, Created, Status string }

// renderRequest renders the request page with status; problem (a catalog ID) and fb say what went
// wrong with a form.
func (h *Console) renderRequest(c *gin.Context, r request.Request, status int, flash string, fail *reqFailure) {
	w, now, loc := h.words(c), h.Now(), h.Requests.Location()
	ctx := c.Request.Context()
	row := w.requestRow(r, now, loc)
	fb := reqFormBack{}
	data := gin.H{"Title": r.ID, "R": r, "Row": row, "Flash": flash, "Phone": nationalPhone(r.Phone),
		"Requester": codeName(w, requesterIDs, r.Requester), "DocsBy": codeName(w, docsByIDs, r.DocsBy),
		"Delivery": codeName(w, deliveryIDs, r.Delivery), "CustomerLanguage": w.Label("lang", string(r.Lang)),
		"Updated": clock(r.UpdatedAt), "Link": requestLink(r.ID)}
	if fail != nil {
		data["Problem"], fb = fail.problem, fail.back
	}
	data["Back"] = fb
	if r.RepKind != "" {
		data["RepKind"] = codeName(w, repKindIDs, r.RepKind)
	}
	if r.Ground != "" {
		data["Ground"] = codeName(w, customerGroundIDs, r.Ground)
	}
	if r.WordingID != "" {
		data["Receipt"] = h.receipt(r)
	}
	if r.Erasure != nil {
		var counts []option
		for _, k := range slices.Sorted(maps.Keys(r.Erasure.Counts)) {
			counts = append(counts, option{k, w.T("console.requests.erased_count", "What", codeName(w, erasedIDs, k),
				"Count", int(r.Erasure.Counts[k]))})
		}
		data["Erased"], data["ErasedCounts"] = clock(r.Erasure.At), counts
	}

	docs, err := h.Requests.Documents(ctx, r.ID)
	if err != nil {
		internalError(c, err)
		return
	}
	rows := make([]reqDocRow, len(docs))
	for i, d := range docs {
		rows[i] = w.reqDocRow(r.ID, d)
	}
	data["Docs"] = rows

	var hist, notes []reqHistoryRow
	for _, ch := range r.History {
		hr := w.reqHistoryRow(ch, loc)
		if ch.What == request.ChangeNote {
			notes = append(notes, hr)
			continue
		}
		hist = append(hist, hr)
	}
	slices.Reverse(hist)
	slices.Reverse(notes)
	data["History"], data["Notes"] = hist, notes

	var forms []reqTransitionForm
	for _, to := range request.Next(r.Status) {
		f := reqTransitionForm{To: string(to), Label: codeName(w, requestStatusIDs, to), NeedsReason: request.NeedsReason(to),
			Refuse: to == flows.StatusRefused, Open: fb.Form == "to-"+string(to)}
		f.Button, f.Hint = w.T(toButtonIDs[to]), w.T(toHintIDs[to])
		if to == flows.StatusCompleted {
			f.NeedsOutcome = r.Kinds&outcomeKinds != 0
			f.Erases = r.Kinds&flows.KindsErase != 0
		}
		forms = append(forms, f)
	}
	data["Forms"] = forms
	if slices.Contains(request.Next(r.Status), flows.StatusRefused) {
		data["Grounds"], data["GroundTexts"] = h.refusalOptions(w, r.Lang)
		data["CustomerLang"] = w.Label("lang", string(r.Lang))
	}
	if r.Open() {
		data["MinDue"] = r.DueAt.In(loc).AddDate(0, 0, 1).Format(time.DateOnly)
	}
	if r.Kinds&flows.KindsAnswered != 0 {
		data["Package"] = w.reqPackageView(r, now)
	}
	data["Chats"], data["SearchLink"] = h.chatLinks(c, r.UserID)
	c.Status(status)
	h.render(c, "request", data)
}

// toButtonIDs and toHintIDs are the button and the explanation of the form of each status a request
// can move to.
var (
	toButtonIDs = map[flows.RequestStatus]string{
		flows.StatusReceived:        "console.requests.to_received",
		flows.StatusDocumentsNeeded: "console.requests.to_documents_needed",
		flows.StatusVerified:        "console.requests.to_verified",
		flows.StatusRejected:        "console.requests.to_rejected",
		flows.StatusInProgress:      "console.requests.to_in_progress",
		flows.StatusCompleted:       "console.requests.to_completed",
		flows.StatusRefused:         "console.requests.to_refused",
		flows.StatusWithdrawn:       "console.requests.to_withdrawn",
	}
	toHintIDs = map[flows.RequestStatus]string{
		flows.StatusReceived:        "console.requests.hint_received",
		flows.StatusDocumentsNeeded: "console.requests.hint_documents_needed",
		flows.StatusVerified:        "console.requests.hint_verified",
		flows.StatusRejected:        "console.requests.hint_rejected",
		flows.StatusInProgress:      "console.requests.hint_in_progress",
		flows.StatusCompleted:       "console.requests.hint_completed",
		flows.StatusRefused:         "console.requests.hint_refused",
		flows.StatusWithdrawn:       "console.requests.hint_withdrawn",
	}
)

// outcomeKinds are the kinds whose completion tells the customer what was changed (訂正/追加/削除).
const outcomeKinds = flows.KindCorrection | flows.KindAddition | flows.KindDeletion

var (
	docStatusIDs = map[string]string{
		request.DocFetching: "console.requests.doc_fetching", request.DocStored: "console.requests.doc_stored",
		request.DocRejected: "console.requests.doc_rejected", request.DocDeleted: "console.requests.doc_deleted",
	}
	docProblemIDs = map[string]string{
		flows.DocNotImage: "console.requests.doc_not_image", flows.DocTooLarge: "console.requests.doc_too_large",
		flows.DocTooMany: "console.requests.doc_too_many", flows.DocFetchFailed: "console.requests.doc_fetch_failed",
	}
	changeIDs = map[string]string{
		request.ChangeCreated: "console.requests.change_created", request.ChangeStatus: "console.requests.change_status",
		request.ChangeExtended: "console.requests.change_extended", request.ChangeNote: "console.requests.change_note",
		request.ChangeDocument: "console.requests.change_document", request.ChangePackage: "console.requests.change_package",
		request.ChangeErased: "console.requests.change_erased", request.ChangeDocsGone: "console.requests.change_docs_gone",
		request.ChangeFilesGone: "console.requests.change_files_gone",
	}
	// changeNoteIDs word the notes the service writes itself (in English) into the history.
	changeNoteIDs = map[string]string{
		"link issued": "console.requests.note_link_issued", "link revoked": "console.requests.note_link_revoked",
		"posted": "console.requests.note_posted", "documents arrived": "console.requests.note_documents_arrived",
	}
)

func (w *words) reqDocRow(ref string, d request.Document) reqDocRow {
	row := reqDocRow{ID: d.ID, Seq: d.Seq, Status: d.Status, StatusLabel: codeName(w, docStatusIDs, d.Status), Type: d.ContentType,
		Created: clock(d.CreatedAt), Viewable: d.Status == request.DocStored}
	if d.Problem != "" {
		row.Problem = codeName(w, docProblemIDs, d.Problem)
	}
	if d.Size > 0 {
		row.Size = byteSize(d.Size)
	}
	if len(d.SHA256) >= 12 {
		row.SHA = d.SHA256[:12]
	}
	if row.Viewable {
		row.Link = requestLink(ref) + "/documents/" + url.PathEscape(d.ID)
	}
	return row
}

// byteSize writes a size for people: 980 B, 12.3 KB, 4.5 MB (of 1,024).
func byteSize(n int) string {
	switch {
	case n < 1<<10:
		return strconv.Itoa(n) + " B"
	case n < 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
}

func (w *words) reqHistoryRow(ch request.Change, loc *time.Location) reqHistoryRow {
	hr := reqHistoryRow{At: clock(ch.At), What: codeName(w, changeIDs, ch.What), Reason: visibleControls(ch.Reason),
		Actor: w.actorName(ch.Actor)}
	if ch.From != "" {
		hr.From = codeName(w, requestStatusIDs, ch.From)
	}
	if ch.To != "" {
		hr.To = codeName(w, requestStatusIDs, ch.To)
	}
	if !ch.Due.IsZero() {
		hr.Due = ch.Due.In(loc).Format(time.DateOnly)
	}
	hr.Note = visibleControls(ch.Note)
	if id, ok := changeNoteIDs[ch.Note]; ok {
		hr.Note = w.T(id)
	} else if file, ok := strings.CutPrefix(ch.Note, "attached "); ok && ch.What == request.ChangePackage {
		hr.Note = w.T("console.requests.note_attached", "Name", visibleControls(file))
	} else if n, ok := strings.CutPrefix(ch.Note, "photo "); ok && ch.What == request.ChangeDocument {
		hr.Note = w.T("console.requests.note_photo", "Seq", n)
	}
	return hr
}

// actorName says who made a change: the staff member, the back office's token, the customer, the desk.
func (w *words) actorName(a request.Actor) string {
	switch a.Kind {
	case request.ActorCustomer:
		return w.T("console.requests.actor_customer")
	case request.ActorSystem:
		return w.T("console.requests.actor_system")
	case request.ActorAPI:
		return w.T("console.requests.actor_api", "Name", visibleControls(a.ID))
	}
	if a.Name != "" && a.Name != a.ID {
		return visibleControls(a.Name) + " (" + a.ID + ")"
	}
	return visibleControls(a.ID)
}

// reqPackageView is the package section of a disclosure-type request: its files, its link and the post.
type reqPackageView struct {
	Files                              []reqFileRow
	Electronic, Post                   bool
	HasLink, LinkActive, Revoked       bool
	Expires, Posted                    string
	Downloads                          int
	CanAttach, CanRevoke, CanReissue   bool
	CanMarkPosted, CompletesWithLink   bool
	LinkState                          string
	MaxSize                            string
	UploadLimit                        int
	PreviewLink, UploadLink, Reference string
}

type reqFileRow struct{ Name, Type, Size, SHA, AddedBy, Added, Link string }

func (w *words) reqPackageView(r request.Request, now time.Time) reqPackageView {
	p := reqPackageView{Electronic: r.Delivery == flows.DeliveryElectronic, Post: r.Delivery == flows.DeliveryPost,
		CanAttach: r.Open(), MaxSize: byteSize(request.MaxFileSize), UploadLimit: request.MaxFileSize,
		PreviewLink: requestLink(r.ID) + "/package", UploadLink: requestLink(r.ID) + "/files", Reference: r.ID}
	p.CompletesWithLink = p.Electronic && r.Open()
	p.CanReissue = p.Electronic && r.Status == flows.StatusCompleted
	if pk := r.Package; pk != nil {
		for _, f := range pk.Files {
			fr := reqFileRow{Name: visibleControls(f.Name), Type: f.ContentType, Size: byteSize(f.Size), AddedBy: f.AddedBy,
				Added: clock(f.AddedAt), Link: requestLink(r.ID) + "/files/" + url.PathEscape(f.ID)}
			if len(f.SHA256) >= 12 {
				fr.SHA = f.SHA256[:12]
			}
			p.Files = append(p.Files, fr)
		}
		p.HasLink, p.Revoked, p.Downloads = pk.LinkHash != "", pk.Revoked, pk.Downloads
		p.Expires, p.Posted = clock(pk.ExpiresAt), clock(pk.PostedAt)
		p.LinkActive = p.HasLink && !pk.Revoked && now.Before(pk.ExpiresAt)
		p.CanRevoke = p.LinkActive
		switch {
		case !p.HasLink:
		case pk.Revoked:
			p.LinkState = w.T("console.requests.link_revoked")
		case !p.LinkActive:
			p.LinkState = w.T("console.requests.link_expired")
		default:
			p.LinkState = w.T("console.requests.link_active")
		}
	}
	p.CanMarkPosted = p.Post && p.Posted == "" && (r.Status == flows.StatusInProgress || r.Status == flows.StatusCompleted)
	return p
}

// chatLinks are the customer's chats with staff (newest first; the chat page is an escalation's) and
// the search for all of them.
func (h *Console) chatLinks(c *gin.Context, userID string) ([]reqChatLink, string) {
	search := "/console/search?" + url.Values{"q": {userID}}.Encode()
	if h.Search == nil {
		return nil, search
	}
	found, err := h.Search.SearchEscalations(c.Request.Context(), userID, time.Time{}, 20)
	if err != nil {
		h.Log.Warn("request page: the customer's chats", "err", err)
		return nil, search
	}
	w := h.words(c)
	var out []reqChatLink
	for _, e := range found {
		if e.UserID == userID && len(out) < 5 {
			out = append(out, reqChatLink{Link: "/console/chats/" + url.PathEscape(e.ID), Created: clock(e.CreatedAt),
				Status: w.Label("status", string(e.Status))})
		}
	}
	return out, search
}

// receipt is the summary the customer confirmed, worded again from its catalog ID and data in the
// customer's language: the text they agreed to, as they read it.
func (h *Console) receipt(r request.Request) string {
	kv := make([]any, 0, 2*len(r.WordingData))
	for _, k := range slices.Sorted(maps.Keys(r.WordingData)) {
		kv = append(kv, k, r.WordingData[k])
	}
	lang := "ja"
	if r.Lang == flows.En {
		lang = "en"
	}
	return visibleControls(newWords(h.Bundle, lang, h.Log).T(r.WordingID, kv...))
}
