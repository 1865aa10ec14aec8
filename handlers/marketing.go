package handlers

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/flows"
)

// TokenVerifier checks a bearer token of the API (store.Tokens).
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (account.APIToken, error)
}

// ConsentReader reads the consent history and the current opt-out state.
type ConsentReader interface {
	Since(after int64, limit int) ([]consent.Record, []consent.State, bool)
	Subjects(chunk int, fn func(consent.State) error) error
	Match(phone, email string) []consent.State
}

// DeliveryLister reports the deliveries of an outbox destination (outbox.Outbox); the marketing API
// lists those of consent.MarketingDestination.
type DeliveryLister interface {
	Pending(destination string) []outbox.Delivery
	Delivered(destination string) []outbox.Delivery
	Failed(ctx context.Context, destination string) ([]outbox.Delivery, error)
}

// Marketing is the marketing API: the opt-out list (JSON feed with a cursor, CSV export), the check of
// one person, and the webhook delivery status. Every route needs a bearer token with the scope
// optouts (account.ScopeOptouts; every token made before tokens had scopes has it).
type Marketing struct {
	Tokens   TokenVerifier
	Consents ConsentReader
	Webhooks DeliveryLister   // nil: no webhook configured
	Now      func() time.Time // the clock that dates the CSV's file name; nil: time.Now
}

// Register mounts the API under /api/v1.
func (m *Marketing) Register(e *gin.Engine) {
	g := e.Group("/api/v1", m.Auth)
	g.GET("/optouts", m.List)
	g.GET("/optouts.csv", m.CSV)
	g.GET("/optouts/check", m.Check)
	g.GET("/webhook-deliveries", m.Deliveries)
}

// Auth requires "Authorization: Bearer <token>" with a live token of scope optouts (requireToken).
func (m *Marketing) Auth(c *gin.Context) { requireToken(c, m.Tokens, account.ScopeOptouts) }

// ctxAPIToken is the gin context key of the request's API token (account.APIToken).
const ctxAPIToken = "apiToken"

// apiToken is the token requireToken accepted for the request.
func apiToken(c *gin.Context) account.APIToken {
	tk, _ := c.Get(ctxAPIToken)
	t, _ := tk.(account.APIToken)
	return t
}

// bearer returns the middleware of an API whose routes need a token with scope (requireToken).
func bearer(tokens TokenVerifier, scope string) gin.HandlerFunc {
	return func(c *gin.Context) { requireToken(c, tokens, scope) }
}

// requireToken requires "Authorization: Bearer <token>" with a live token that has scope: 401 (with
// WWW-Authenticate) when the token is missing, unknown or revoked, 403 when it lacks the scope, 503 when
// the store does not answer. Every answer is marked no-store; the accepted token is in the context
// (apiToken).
func requireToken(c *gin.Context, tokens TokenVerifier, scope string) {
	c.Header("Cache-Control", "no-store")
	h := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="privacybot"`)
		fail(c, http.StatusUnauthorized, "missing_token", "an Authorization: Bearer token is required", nil)
		return
	}
	tk, err := tokens.Verify(c.Request.Context(), strings.TrimSpace(token))
	switch {
	case errors.Is(err, account.ErrTokenInvalid):
		c.Header("WWW-Authenticate", `Bearer realm="privacybot", error="invalid_token"`)
		fail(c, http.StatusUnauthorized, "invalid_token", "the token is unknown or revoked", nil)
		return
	case err != nil:
		fail(c, http.StatusServiceUnavailable, "store_unavailable", "tokens cannot be checked now", err)
		return
	case !tk.Has(scope):
		c.Header("WWW-Authenticate", `Bearer realm="privacybot", error="insufficient_scope", scope="`+scope+`"`)
		fail(c, http.StatusForbidden, "insufficient_scope", "the token does not have the scope "+scope+
			" (it has "+strings.Join(tk.Granted(), ", ")+")", nil)
		return
	}
	c.Set(ctxAPIToken, tk)
	c.Next()
}

// optoutItem is one consent record in the JSON feed.
type optoutItem struct {
	Cursor string `json:"cursor"`
	consent.View
	Action  string   `json:"action"`
	Staff   string   `json:"staff,omitempty"`
	Wording *wording `json:"wording,omitempty"`
}

type wording struct {
	ID   string `json:"id"`
	Lang string `json:"lang"`
	Text string `json:"text,omitempty"`
}

const (
	defaultPage = 500
	maxPage     = 1000
)

// List answers GET /api/v1/optouts?since=CURSOR&limit=N: the consent history after the cursor, oldest
// first, each record with the subject's current opt-outs. The cursor of the last item (also
// next_cursor) continues the feed; a client polls with its last next_cursor and never misses or
// repeats a record.
func (m *Marketing) List(c *gin.Context) {
	after, err := parseCursor(c.Query("since"))
	if err != nil {
		fail(c, http.StatusBadRequest, "bad_cursor", "since must be a cursor returned by this API", nil)
		return
	}
	limit := defaultPage
	if s := c.Query("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxPage {
			fail(c, http.StatusBadRequest, "bad_limit", "limit must be between 1 and 1000", nil)
			return
		}
	}
	recs, states, more := m.Consents.Since(after, limit)
	items := make([]optoutItem, len(recs))
	next := after
	for i, r := range recs {
		items[i] = optoutItem{Cursor: formatCursor(r.Seq), View: r.View(states[i].OptedOut()),
			Action: string(r.Action), Staff: r.Staff}
		if r.WordingID != "" {
			items[i].Wording = &wording{ID: r.WordingID, Lang: string(r.WordingLang), Text: r.WordingText}
		}
		next = r.Seq
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": formatCursor(next), "has_more": more})
}

// The cursor is the sequence number of the last record read, opaque to clients.
func formatCursor(seq int64) string { return strconv.FormatInt(seq, 10) }

func parseCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("bad cursor")
	}
	return n, nil
}

// channelCheck is the answer of the check endpoint for one channel.
type channelCheck struct {
	MayContact bool       `json:"may_contact"`
	OptedOutAt *time.Time `json:"opted_out_at,omitempty"`
	Reference  string     `json:"reference,omitempty"`
}

// Check answers GET /api/v1/optouts/check?phone=…&email=…: per channel, whether the person may be
// contacted. Phone numbers are normalised first (090-1234-5678, 09012345678, full-width digits and
// +81 90 1234 5678 are one number). Everyone known by the phone number or the e-mail address counts:
// if any of them opted out of a channel, the channel is closed.
func (m *Marketing) Check(c *gin.Context) {
	rawPhone, rawEmail := c.Query("phone"), c.Query("email")
	if rawPhone == "" && rawEmail == "" {
		fail(c, http.StatusBadRequest, "missing_identifier", "give phone, email or both", nil)
		return
	}
	var phone, email string
	var ok bool
	if rawPhone != "" {
		if phone, ok = flows.NormalizePhone(rawPhone); !ok {
			fail(c, http.StatusBadRequest, "invalid_phone", "phone is not a Japanese phone number", nil)
			return
		}
	}
	if rawEmail != "" {
		if email, ok = flows.NormalizeEmail(rawEmail); !ok {
			fail(c, http.StatusBadRequest, "invalid_email", "email is not an e-mail address", nil)
			return
		}
	}
	matches := m.Consents.Match(phone, email)
	channels := map[string]channelCheck{}
	mayAll := true
	for i, ch := range flows.ChannelList() {
		cc := channelCheck{MayContact: true}
		for _, s := range matches {
			if st := s.Channels[i]; st.OptedOut && (cc.OptedOutAt == nil || st.At.After(*cc.OptedOutAt)) {
				at := st.At.UTC()
				cc = channelCheck{MayContact: false, OptedOutAt: &at, Reference: st.Reference}
			}
		}
		mayAll = mayAll && cc.MayContact
		channels[ch.Name()] = cc
	}
	c.JSON(http.StatusOK, gin.H{"phone": phone, "email": email, "matched": len(matches), "channels": channels,
		"may_contact_all": mayAll})
}

// Deliveries answers GET /api/v1/webhook-deliveries: the outgoing webhook's pending deliveries (with
// attempts, last error and next attempt, in seq order), the recently delivered (newest first) and
// the failed ones (given up after 24 h, or refused; newest first).
func (m *Marketing) Deliveries(c *gin.Context) {
	none := []consent.WebhookDelivery{}
	if m.Webhooks == nil {
		c.JSON(http.StatusOK, gin.H{"configured": false, "pending": none, "delivered": none, "failed": none})
		return
	}
	failed, err := m.Webhooks.Failed(c.Request.Context(), consent.MarketingDestination)
	if err != nil {
		fail(c, http.StatusServiceUnavailable, "store_unavailable", "failed deliveries cannot be read now", err)
		return
	}
	view := func(ds []outbox.Delivery) []consent.WebhookDelivery {
		out := make([]consent.WebhookDelivery, len(ds))
		for i, d := range ds {
			out[i] = consent.WebhookDeliveryOf(d)
		}
		return out
	}
	pending := view(m.Webhooks.Pending(consent.MarketingDestination))
	slices.SortStableFunc(pending, func(a, b consent.WebhookDelivery) int { return cmp.Compare(a.Seq, b.Seq) })
	c.JSON(http.StatusOK, gin.H{"configured": true, "pending": pending,
		"delivered": view(m.Webhooks.Delivered(consent.MarketingDestination)), "failed": view(failed)})
}

// CSV answers GET /api/v1/optouts.csv: everyone who has opted out of at least one channel, one row
// each, streamed (constant memory whatever the size).
func (m *Marketing) CSV(c *gin.Context) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	serveOptOutCSV(c, now, m.Consents)
}

// serveOptOutCSV sends the opt-out CSV as optouts-YYYYMMDD.csv, the day of now in Japan.
func serveOptOutCSV(c *gin.Context, now time.Time, consents ConsentReader) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="optouts-`+now.In(tokyo).Format("20060102")+`.csv"`)
	c.Status(http.StatusOK)
	if err := WriteOptOutCSV(c.Writer, consents); err != nil {
		// Headers are gone; the truncated body is all the client can be told.
		_ = c.Error(err)
	}
}

// WriteOptOutCSV writes the current opt-out list as CSV to w: UTF-8 with a BOM (Excel reads Japanese),
// CRLF, every cell quoted and formula-safe (appendCell), times in Japan time (appendTime), phone as
// stored (E.164) and phone_domestic, last, as dialled in Japan (docs/marketing.md says why).
func WriteOptOutCSV(w interface{ Write([]byte) (int, error) }, consents ConsentReader) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	row := make([]byte, 0, 1024)
	row = append(row, "\xEF\xBB\xBF"...)
	header := []string{"subject", "name", "phone", "email", "postal_code", "customer_number", "opted_out"}
	for _, ch := range flows.ChannelList() {
		header = append(header, "stop_"+ch.Name())
	}
	header = append(header, "updated_at", "phone_domestic")
	for i, h := range header {
		row = appendCell(row, h, i == 0)
	}
	row = append(row, '\r', '\n')
	err := consents.Subjects(512, func(s consent.State) error {
		out := s.OptedOut()
		if out == 0 {
			return nil
		}
		row = appendCell(row, s.Subject, true)
		for _, v := range []string{s.Name, s.Phone, s.Email, s.Postal, s.Customer} {
			row = appendCell(row, v, false)
		}
		row = append(row, ',', '"')
		sep := false
		for _, ch := range flows.ChannelList() {
			if out&ch != 0 {
				if sep {
					row = append(row, ' ')
				}
				row, sep = append(row, ch.Name()...), true
			}
		}
		row = append(row, '"')
		for _, ch := range s.Channels {
			if ch.OptedOut {
				row = appendTime(row, ch.At)
			} else {
				row = appendCell(row, "", false)
			}
		}
		row = appendTime(row, s.UpdatedAt)
		row = append(row, ',', '"')
		row = appendDomesticPhone(row, s.Phone)
		row = append(row, '"', '\r', '\n')
		if _, err := bw.Write(row); err != nil {
			return err
		}
		row = row[:0]
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := bw.Write(row); err != nil { // the header of an empty list
		return err
	}
	return bw.Flush()
}

// appendTime appends a cell with t in Japan time, RFC 3339 with the offset (2026-12-05T01:30:00+09:00).
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, ',', '"')
	b = t.In(tokyo).AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendDomesticPhone appends a Japanese E.164 number as dialled in Japan, with hyphens (text to a
// spreadsheet): 090-1234-5678 (also 080, 070, 050, 020), 0800-123-4567, 0120-123-456 (0570, 0990),
// 03-1234-5678 (06), else 086-239-7675. Area codes of 2 to 5 digits are not looked up: the digits are
// exact, the first hyphen may differ from the directory's. Anything else appends nothing.
func appendDomesticPhone(b []byte, e164 string) []byte {
	rest, ok := strings.CutPrefix(e164, "+81")
	if !ok || len(rest) < 9 || len(rest) > 10 || strings.Trim(rest, "0123456789") != "" {
		return b
	}
	n, first, last := 1+len(rest), 3, 4 // n digits: "0" + rest
	switch {
	case n == 11 && strings.HasPrefix(rest, "800"):
		first = 4
	case n == 11:
	case strings.HasPrefix(rest, "120"), strings.HasPrefix(rest, "570"), strings.HasPrefix(rest, "990"):
		first, last = 4, 3
	case rest[0] == '3' || rest[0] == '6':
		first = 2
	}
	b = append(b, '0')
	b = append(b, rest[:first-1]...)
	b = append(b, '-')
	b = append(b, rest[first-1:n-1-last]...)
	b = append(b, '-')
	return append(b, rest[n-1-last:]...)
}

// appendCell appends one quoted CSV cell. A value a spreadsheet could read as a formula (formulaLed)
// gets a leading apostrophe; everything else, a phone number in E.164 among it, is written as it is.
func appendCell(b []byte, v string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	if formulaLed(v) {
		b = append(b, '\'')
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, v[i])
	}
	return append(b, '"')
}

// formulaLed reports whether v starts like a formula (OWASP CSV injection: = + - @, tab or CR first)
// and is not a phone number in E.164 (a plus and 7 to 15 digits, the first not 0, nothing else), which
// holds no function, reference or operator. A plus and anything else stays neutralised: Excel works
// +81-90-1234-5678 out as a sum. Domestic forms (090-1234-5678, (086) 239-7675) start with a digit or
// "(" and are never touched.
func formulaLed(v string) bool {
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return false
	}
	e164 := v[0] == '+' && len(v) >= 8 && len(v) <= 16 && v[1] != '0' && strings.Trim(v[1:], "0123456789") == ""
	return !e164
}
