package handlers

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/flows"
)

// historyRow is one consent record of a person's history, in the staff member's language.
type historyRow struct {
	At, Recorded             string
	OptOut                   bool
	Channels                 []string
	Source, Reference, Staff string
	Identifiers              []option // Value: the words for the identifier, Label: what was given
	WordingID, WordingLang   string
	WordingText              string
}

// channelRow is one channel's current state.
type channelRow struct {
	Label, At, Reference string
	OptedOut, Known      bool
}

// identifierIDs name the identifiers a record can carry, in display order.
var identifierIDs = []string{"console.optouts.id_name", "console.optouts.id_phone", "console.optouts.id_email",
	"console.optouts.id_postal", "console.optouts.id_customer"}

func (w *words) toHistoryRow(r consent.Record) historyRow {
	hr := historyRow{At: clock(r.At), OptOut: r.Action == flows.ConsentOptOut, Source: w.Label("source", string(r.Source)),
		Reference: r.Reference, Staff: r.Staff, WordingID: r.WordingID, WordingLang: string(r.WordingLang),
		WordingText: visibleControls(r.WordingText)}
	if rc := clock(r.RecordedAt); rc != hr.At {
		hr.Recorded = rc
	}
	for _, ch := range flows.ChannelList() {
		if r.Channels&ch != 0 {
			hr.Channels = append(hr.Channels, w.Label("channel", ch.Name()))
		}
	}
	for i, v := range []string{r.Name, nationalPhone(r.Phone), r.Email, r.Postal, r.Customer} {
		if v != "" {
			hr.Identifiers = append(hr.Identifiers, option{w.T(identifierIDs[i]), visibleControls(v)})
		}
	}
	return hr
}

func (h *Console) optoutHistory(c *gin.Context) {
	subject := c.Param("subject")
	recs := h.Consents.History(subject)
	if len(recs) == 0 {
		h.deny(c, http.StatusNotFound, "console.error.no_consent_record")
		return
	}
	w := h.words(c)
	_, states, _ := h.Consents.Since(recs[len(recs)-1].Seq-1, 1)
	var cur consent.State
	if len(states) == 1 {
		cur = states[0]
	}
	chans := make([]channelRow, 0, 7)
	for i, ch := range flows.ChannelList() {
		st := cur.Channels[i]
		chans = append(chans, channelRow{Label: w.Label("channel", ch.Name()), At: clock(st.At), Reference: st.Reference,
			OptedOut: st.OptedOut, Known: st.Seq != 0})
	}
	rows := make([]historyRow, len(recs))
	for i, r := range recs {
		rows[len(recs)-1-i] = w.toHistoryRow(r) // newest first
	}
	recorded := ""
	if ref := c.Query("recorded"); ref != "" {
		for _, r := range recs {
			if r.Reference == ref {
				recorded = ref
			}
		}
	}
	h.audit(c, "optout.history", subject, "")
	h.render(c, "optouts_history", gin.H{"Title": w.T("console.history.title"), "Subject": visibleControls(subject),
		"Kind": w.subjectKind(subject), "Cur": w.toOptoutRow(cur, &sourceCache{h: h, seen: map[int64]flows.ConsentSource{}}),
		"ChannelStates": chans, "Records": rows, "NewURL": "/console/optouts/new?subject=" + url.QueryEscape(subject),
		"Recorded": recorded})
}
