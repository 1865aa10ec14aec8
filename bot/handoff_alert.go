package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/enemane/privacybot/flows"
)

// Alert tells staff of a new escalation. It carries no customer text (a staff group or a webhook
// receiver is no place for personal data): the link leads to the console, behind a login.
type Alert struct {
	ID        string    `json:"id"`
	Reason    string    `json:"reason"`
	Category  string    `json:"category,omitempty"`
	Priority  string    `json:"priority"`
	Lang      string    `json:"lang"`
	CreatedAt time.Time `json:"createdAt"`
	URL       string    `json:"url"`
}

// Alerter delivers staff alerts. Alert may be called again for the same escalation (after a crash);
// implementations deduplicate by Alert.ID where they can.
type Alerter interface {
	Alert(ctx context.Context, a Alert) error
}

// alert tells staff of a new escalation. It is called while the escalation effect is applied, so an
// error makes the pipeline apply the effect again (alerts are idempotent by escalation ID).
func (h *Handoffs) alert(_ context.Context, e Escalation) error {
	if len(h.cfg.Alerters) == 0 {
		return nil
	}
	a := Alert{ID: e.ID, Reason: e.Reason, Category: e.Category, Priority: e.Priority, Lang: string(e.Lang),
		CreatedAt: e.CreatedAt, URL: h.cfg.BaseURL + "/console/chats/" + e.ID}
	for _, al := range h.cfg.Alerters {
		h.alerts.Add(1)
		go func() {
			defer h.alerts.Done()
			ctx, cancel := context.WithTimeout(h.alertCtx, 30*time.Second)
			defer cancel()
			for attempt := 0; ; attempt++ {
				err := al.Alert(ctx, a)
				if err == nil {
					return
				}
				if attempt == 4 || ctx.Err() != nil {
					h.cfg.Log.Error("staff alert failed", "escalation", e.ID, "err", err)
					return
				}
				t := time.NewTimer(backoff(500*time.Millisecond, 5*time.Second, attempt, 0))
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
			}
		}()
	}
	return nil
}

// GroupAlerter pushes alerts to a staff LINE group, in Japanese, with a retry key derived from the
// escalation so a repeated alert arrives once.
type GroupAlerter struct {
	LINE     StaffLINE
	GroupID  string
	Renderer *Renderer
}

// Alert implements Alerter.
func (g *GroupAlerter) Alert(ctx context.Context, a Alert) error {
	text, err := g.Renderer.Text(flows.Ja, flows.NoticeStaffAlert, map[string]string{
		"Reason": a.Reason, "Category": a.Category, "Priority": a.Priority, "Lang": a.Lang, "URL": a.URL})
	if err != nil {
		return err
	}
	r := g.LINE.Push(ctx, g.GroupID, RetryKey(a.ID+"/alert", 0), []Message{{Text: text}})
	if r.Outcome == Accepted || r.Outcome == AlreadyDone {
		return nil
	}
	if r.Outcome == Permanent {
		return fmt.Errorf("group push refused (%d); not retried: %w", r.Status, r.Err)
	}
	return fmt.Errorf("group push: %s (%d)", r.Outcome, r.Status)
}

// WebhookAlerter POSTs alerts as JSON, signed: X-Privacybot-Signature is "sha256=" and the hex
// HMAC-SHA256 of the body keyed with Secret; X-Privacybot-Delivery is the escalation ID (the same on
// a repeat, for the receiver to deduplicate).
type WebhookAlerter struct {
	URL    string
	Secret string
	HTTP   *http.Client
}

// Sign returns the signature header value of body.
func (w *WebhookAlerter) Sign(body []byte) string {
	mac := hmac.New(sha256.New, []byte(w.Secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Alert implements Alerter.
func (w *WebhookAlerter) Alert(ctx context.Context, a Alert) error {
	body, err := json.Marshal(struct {
		Type string `json:"type"`
		Alert
	}{"escalation.created", a})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Privacybot-Signature", w.Sign(body))
	req.Header.Set("X-Privacybot-Delivery", a.ID)
	hc := w.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("staff webhook answered %d", res.StatusCode)
	}
	return nil
}
