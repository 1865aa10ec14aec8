package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// The request page's forms. Each is a POST with the session's CSRF token; what it changes is audited;
// what the service refuses is shown on the page in the staff member's language, with what was typed.

// reqFailure is why a form was refused: the problem's catalog ID and what the form held.
type reqFailure struct {
	problem string
	back    reqFormBack
}

// refusalGroundIDs name the grounds of policy item 5(1) for staff; refusalTextIDs are what the
// customer reads for each, in the catalog of the customer's language (RefusalOther is written by staff).
var (
	refusalGroundIDs = map[request.RefusalGround]string{
		request.RefusalHarm:       "console.requests.ground_harm",
		request.RefusalBusiness:   "console.requests.ground_business",
		request.RefusalIllegal:    "console.requests.ground_illegal",
		request.RefusalNational:   "console.requests.ground_national",
		request.RefusalCrime:      "console.requests.ground_crime",
		request.RefusalPublicDuty: "console.requests.ground_public_duty",
		request.RefusalOtherLaw:   "console.requests.ground_other_law",
		request.RefusalOther:      "console.requests.ground_other",
	}
	refusalTextIDs = map[request.RefusalGround]string{
		request.RefusalHarm:       "console.requests.refusal_text_harm",
		request.RefusalBusiness:   "console.requests.refusal_text_business",
		request.RefusalIllegal:    "console.requests.refusal_text_illegal",
		request.RefusalNational:   "console.requests.refusal_text_national",
		request.RefusalCrime:      "console.requests.refusal_text_crime",
		request.RefusalPublicDuty: "console.requests.refusal_text_public_duty",
		request.RefusalOtherLaw:   "console.requests.refusal_text_other_law",
	}
)

// customerWords is the console's vocabulary in a customer's language (for the texts they read).
func (h *Console) customerWords(lang flows.Lang) *words {
	if lang == flows.En {
		return h.vocab["en"]
	}
	return h.vocab["ja"]
}

// refusalOptions are the grounds for the refusal form (in the staff member's language) and, for each
// of the seven, the text the customer will read (in the customer's language).
func (h *Console) refusalOptions(w *words, lang flows.Lang) (grounds, texts []option) {
	cw := h.customerWords(lang)
	for _, g := range request.RefusalGrounds() {
		grounds = append(grounds, option{string(g), w.T(refusalGroundIDs[g])})
		if id, ok := refusalTextIDs[g]; ok {
			texts = append(texts, option{w.T(refusalGroundIDs[g]), cw.T(id)})
		}
	}
	return grounds, texts
}

// requestProblem maps the service's errors to a status and the page's problem (status 0: not one of
// them).
func requestProblem(err error) (int, string) {
	switch {
	case errors.Is(err, bot.ErrNotFound):
		return http.StatusNotFound, "console.requests.not_found"
	case errors.Is(err, request.ErrTransition):
		return http.StatusConflict, "console.requests.problem_transition"
	case errors.Is(err, request.ErrConflict):
		return http.StatusConflict, "console.requests.problem_conflict"
	case errors.Is(err, request.ErrLinkGone):
		return http.StatusConflict, "console.requests.problem_link_gone"
	case errors.Is(err, request.ErrReasonRequired):
		return http.StatusBadRequest, "console.requests.problem_reason"
	case errors.Is(err, request.ErrTooLong):
		return http.StatusBadRequest, "console.requests.problem_too_long"
	case errors.Is(err, request.ErrInvalidFile):
		return http.StatusBadRequest, "console.requests.problem_file"
	}
	return 0, ""
}

// requestDone ends a form: on success it is audited and the page shown again with flash; otherwise
// the page shows the problem (a refusal by the lifecycle is audited as action.refused).
func (h *Console) requestDone(c *gin.Context, r request.Request, action, detail, flash string, fb reqFormBack, err error) {
	if err == nil {
		h.audit(c, action, r.ID, detail)
		c.Redirect(http.StatusSeeOther, requestLink(r.ID)+"?m="+flash)
		return
	}
	status, problem := requestProblem(err)
	switch status {
	case 0:
		internalError(c, err)
		return
	case http.StatusNotFound:
		h.deny(c, status, problem)
		return
	case http.StatusConflict:
		h.audit(c, action+".refused", r.ID, strings.TrimSpace(detail+" "+err.Error()))
	}
	if fb.Form == "note" && errors.Is(err, request.ErrReasonRequired) {
		problem = "console.requests.problem_note_empty"
	}
	if cur, err := h.Requests.Get(r.ID); err == nil {
		r = cur // changed by someone else meanwhile: show it as it is now
	}
	h.refuseForm(c, r, status, problem, fb)
}

func (h *Console) refuseForm(c *gin.Context, r request.Request, status int, problem string, fb reqFormBack) {
	h.renderRequest(c, r, status, "", &reqFailure{problem: problem, back: fb})
}

// transitionRequest moves a request to another status. A refusal names one of the seven grounds of
// policy item 5(1), worded in the customer's language (staff may add to it), or a reason staff write;
// completing a 訂正/追加/削除 request says what was changed.
func (h *Console) transitionRequest(c *gin.Context) {
	r, ok := h.loadRequest(c)
	if !ok {
		return
	}
	to := flows.RequestStatus(c.PostForm("to"))
	fb := reqFormBack{Form: "to-" + string(to), Reason: c.PostForm("reason"), Note: c.PostForm("note"),
		Outcome: c.PostForm("outcome"), Ground: c.PostForm("ground")}
	detail := string(r.Status) + "→" + string(to)
	if !flows.ValidStatus(to) {
		to, detail = "", string(r.Status)+"→?"
	}
	t := request.Transition{To: to, Reason: fb.Reason, Note: fb.Note, Outcome: fb.Outcome, Actor: requestActor(h.me(c))}
	if !request.Allowed(r.Status, to) {
		h.requestDone(c, r, "request.transition", detail, "transition", fb, request.ErrTransition)
		return
	}
	if to == flows.StatusRefused {
		g := request.RefusalGround(fb.Ground)
		if _, known := refusalGroundIDs[g]; !known {
			h.refuseForm(c, r, http.StatusBadRequest, "console.requests.problem_ground", fb)
			return
		}
		if id, ok := refusalTextIDs[g]; ok {
			t.Reason = h.customerWords(r.Lang).T(id)
			if more := strings.TrimSpace(fb.Reason); more != "" {
				t.Reason += "\n" + more
			}
		}
		detail += " ground=" + string(g)
	}
	if to == flows.StatusCompleted && r.Kinds&outcomeKinds != 0 && strings.TrimSpace(fb.Outcome) == "" {
		h.refuseForm(c, r, http.StatusBadRequest, "console.requests.problem_outcome", fb)
		return
	}
	_, err := h.Requests.Transition(c.Request.Context(), r.ID, t)
	h.requestDone(c, r, "request.transition", detail, "transition", fb, err)
}

// extendRequest moves the due date to a later day, with a reason the customer reads.
func (h *Console) extendRequest(c *gin.Context) {
	r, ok := h.loadRequest(c)
	if !ok {
		return
	}
	fb := reqFormBack{Form: "extend", Reason: c.PostForm("reason"), Due: strings.TrimSpace(c.PostForm("due"))}
	loc := h.Requests.Location()
	due, err := time.ParseInLocation(time.DateOnly, fb.Due, loc)
	if err != nil {
		h.refuseForm(c, r, http.StatusBadRequest, "console.requests.problem_date", fb)
		return
	}
	day := due.Format(time.DateOnly)
	if r.Open() && day <= r.DueAt.In(loc).Format(time.DateOnly) {
		h.refuseForm(c, r, http.StatusBadRequest, "console.requests.problem_due_earlier", fb)
		return
	}
	_, err = h.Requests.Extend(c.Request.Context(), r.ID, due, fb.Reason, requestActor(h.me(c)))
	h.requestDone(c, r, "request.extend", "due="+day, "extend", fb, err)
}

// noteRequest adds an internal note (never sent to the customer).
func (h *Console) noteRequest(c *gin.Context) {
	r, ok := h.loadRequest(c)
	if !ok {
		return
	}
	fb := reqFormBack{Form: "note", Note: c.PostForm("text")}
	_, err := h.Requests.Note(c.Request.Context(), r.ID, fb.Note, requestActor(h.me(c)))
	h.requestDone(c, r, "request.note", "", "note", fb, err)
}

// maxUploadBody bounds the body of the upload form: the file and the form's other fields.
const maxUploadBody = request.MaxFileSize + 1<<20

// limitUpload refuses an upload body over the limit before anything reads it, and reads the form
// (into memory: the file is never written to disk unencrypted) so the CSRF check finds its token.
func (h *Console) limitUpload(c *gin.Context) {
	tooLarge := func() {
		if r, ok := h.loadRequest(c); ok {
			h.refuseForm(c, r, http.StatusRequestEntityTooLarge, "console.requests.problem_file_large", reqFormBack{Form: "attach"})
		}
		c.Abort()
	}
	if c.Request.ContentLength > maxUploadBody {
		tooLarge()
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxUploadBody)
	var tooBig *http.MaxBytesError
	if err := c.Request.ParseMultipartForm(maxUploadBody); errors.As(err, &tooBig) {
		tooLarge()
		return
	}
	c.Next()
}

// attachRequestFile adds a file from another system to the request's data package (stored
// encrypted by the service).
func (h *Console) attachRequestFile(c *gin.Context) {
	r, ok := h.loadRequest(c)
	if !ok {
		return
	}
	fb := reqFormBack{Form: "attach"}
	fh, err := c.FormFile("file")
	if err != nil {
		h.refuseForm(c, r, http.StatusBadRequest, "console.requests.problem_no_file", fb)
		return
	}
	f, err := fh.Open()
	if err != nil {
		internalError(c, err)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, request.MaxFileSize+1))
	if err != nil {
		internalError(c, err)
		return
	}
	if len(data) > request.MaxFileSize {
		h.refuseForm(c, r, http.StatusRequestEntityTooLarge, "console.requests.problem_file_large", fb)
		return
	}
	sum := sha256.Sum256(data)
	_, err = h.Requests.AttachFile(c.Request.Context(), r.ID, fh.Filename, fh.Header.Get("Content-Type"), data, requestActor(h.me(c)))
	h.requestDone(c, r, "request.attach", visibleControls(fh.Filename)+" sha256="+hex.EncodeToString(sum[:6]), "attach", fb, err)
}

func (h *Console) revokeRequestLink(c *gin.Context) {
	if r, ok := h.loadRequest(c); ok {
		_, err := h.Requests.RevokeLink(c.Request.Context(), r.ID, requestActor(h.me(c)))
		h.requestDone(c, r, "request.link.revoke", "", "revoke", reqFormBack{Form: "package"}, err)
	}
}

func (h *Console) reissueRequestLink(c *gin.Context) {
	if r, ok := h.loadRequest(c); ok {
		_, err := h.Requests.ReissueLink(c.Request.Context(), r.ID, requestActor(h.me(c)))
		h.requestDone(c, r, "request.link.reissue", "", "reissue", reqFormBack{Form: "package"}, err)
	}
}

func (h *Console) markRequestPosted(c *gin.Context) {
	if r, ok := h.loadRequest(c); ok {
		_, err := h.Requests.MarkPosted(c.Request.Context(), r.ID, requestActor(h.me(c)))
		h.requestDone(c, r, "request.posted", "", "posted", reqFormBack{Form: "package"}, err)
	}
}
