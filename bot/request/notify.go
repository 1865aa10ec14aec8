package request

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/flows"
)

// View is a request as the back office sees it: the API's and the webhook's representation.
type View struct {
	ID         string    `json:"id"`
	LineUserID string    `json:"lineUserId"`
	Kinds      []string  `json:"kinds"`
	Requester  string    `json:"requester"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"receivedAt"`
	DueAt      time.Time `json:"dueAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	Delivery   string    `json:"delivery"`
	Documents  int       `json:"documents"`
	Language   string    `json:"language"`
}

// View returns the back office's view of a request (documents counted from the store).
func (s *Service) View(ctx context.Context, r Request) (View, error) {
	// Times in the desk's zone, whether the request was just made or read back from the store (UTC).
	loc := s.cfg.Location
	v := View{ID: r.ID, LineUserID: r.UserID, Kinds: r.Kinds.Names(), Requester: string(r.Requester),
		Status: string(r.Status), ReceivedAt: r.ReceivedAt.In(loc), DueAt: r.DueAt.In(loc), UpdatedAt: r.UpdatedAt.In(loc),
		Delivery: string(r.Delivery), Language: string(r.Lang)}
	if v.Kinds == nil {
		v.Kinds = []string{}
	}
	docs, err := s.cfg.Store.Documents(ctx, r.UserID, r.Draft)
	if err != nil {
		return v, err
	}
	for _, d := range docs {
		if d.Status == DocStored || d.Status == DocDeleted {
			v.Documents++
		}
	}
	return v, nil
}

// Types of the back office's webhook messages and of the staff alerts.
const (
	WebhookType = "request.changed" // every change of a request (payload: Event)
	AlertType   = "request.created" // a new request, to staff
	DigestType  = "requests.digest" // the daily digest, to staff
)

// Event is the back office's webhook payload: what changed and the request as it is now.
type Event struct {
	Type    string    `json:"type"`
	Change  string    `json:"change"` // created, status.<status>, extended, package.link, erased
	Request View      `json:"request"`
	At      time.Time `json:"at"`
}

// webhook queues the back office's message about a change (keyed by the request and the change's
// position in its history: telling again queues nothing new).
func (s *Service) webhook(ctx context.Context, r Request, change string, seq int) {
	if s.cfg.Outbox == nil || s.cfg.BackOfficeTo == "" {
		return
	}
	v, err := s.View(ctx, r)
	if err != nil {
		s.cfg.Log.Error("request webhook: documents not counted", "request", r.ID, "err", err)
	}
	body, err := json.Marshal(Event{Type: WebhookType, Change: change, Request: v, At: r.UpdatedAt})
	if err == nil {
		err = s.cfg.Outbox.Enqueue(ctx, outbox.Message{Destination: s.cfg.BackOfficeTo, Type: WebhookType,
			Key: fmt.Sprintf("%s/%d", r.ID, seq), Payload: body, CreatedAt: r.UpdatedAt})
	}
	if err != nil {
		s.cfg.Log.Error("request webhook not queued", "request", r.ID, "err", err)
	}
}

// Alert is a staff alert of a new request: no personal data (the link leads to the console).
type Alert struct {
	Type      string    `json:"type"`
	ID        string    `json:"id"`
	Kinds     []string  `json:"kinds"`
	Requester string    `json:"requester"`
	DueAt     time.Time `json:"dueAt"`
	URL       string    `json:"url"`
}

func (s *Service) alert(ctx context.Context, r Request) error {
	if s.cfg.Outbox == nil {
		return nil
	}
	body, err := json.Marshal(Alert{Type: AlertType, ID: r.ID, Kinds: r.Kinds.Names(), Requester: string(r.Requester),
		DueAt: r.DueAt, URL: s.cfg.BaseURL + "/console/requests/" + r.ID})
	if err != nil {
		return err
	}
	for _, to := range s.cfg.AlertTo {
		if err := s.cfg.Outbox.Enqueue(ctx, outbox.Message{Destination: to, Type: AlertType, Key: "request-" + r.ID,
			Payload: body, CreatedAt: r.ReceivedAt}); err != nil {
			return fmt.Errorf("staff alert of request %s: %w", r.ID, err)
		}
	}
	return nil
}

// Digest is the daily digest to staff: the open requests due within two days or overdue.
type Digest struct {
	Type    string        `json:"type"`
	Day     string        `json:"day"`
	Due     []DigestEntry `json:"due"`
	Overdue []DigestEntry `json:"overdue"`
	URL     string        `json:"url"`
}

// DigestEntry is one request of the digest.
type DigestEntry struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	DueAt    time.Time `json:"dueAt"`
	DaysLeft int       `json:"daysLeft"`
}

// DigestFor builds the digest of the day of now: nothing to say → ok is false.
func (s *Service) DigestFor(now time.Time) (Digest, bool) {
	d := Digest{Type: DigestType, Day: now.In(s.cfg.Location).Format(time.DateOnly),
		URL: s.cfg.BaseURL + "/console/requests"}
	open, _ := s.List(Filter{Status: []flows.RequestStatus{flows.StatusReceived, flows.StatusDocumentsNeeded,
		flows.StatusVerified, flows.StatusInProgress}, Limit: 200})
	for i := len(open) - 1; i >= 0; i-- {
		r := open[i]
		left := r.DaysLeft(now, s.cfg.Location)
		e := DigestEntry{ID: r.ID, Status: string(r.Status), DueAt: r.DueAt, DaysLeft: left}
		switch {
		case now.After(r.DueAt):
			d.Overdue = append(d.Overdue, e)
		case left <= 2:
			d.Due = append(d.Due, e)
		}
	}
	return d, len(d.Due)+len(d.Overdue) > 0
}

// digestLoop queues the digest once a day at DigestHour (keyed by the day: a restart on the same day
// queues nothing new).
func (s *Service) digestLoop(ctx context.Context) {
	for {
		now := s.cfg.Now().In(s.cfg.Location)
		next := time.Date(now.Year(), now.Month(), now.Day(), s.cfg.DigestHour, 0, 0, 0, s.cfg.Location)
		if !next.After(now) {
			s.sendDigest(ctx, now)
			next = next.AddDate(0, 0, 1)
		}
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *Service) sendDigest(ctx context.Context, now time.Time) {
	d, ok := s.DigestFor(now)
	if !ok || s.cfg.Outbox == nil {
		return
	}
	body, err := json.Marshal(d)
	if err != nil {
		return
	}
	for _, to := range s.cfg.AlertTo {
		if err := s.cfg.Outbox.Enqueue(ctx, outbox.Message{Destination: to, Type: DigestType, Key: "digest-" + d.Day,
			Payload: body, CreatedAt: now}); err != nil {
			s.cfg.Log.Error("request digest not queued", "err", err)
		}
	}
}

// GroupFormats word the request alerts and the digest for the staff LINE group (bot.GroupAlerter),
// naming kinds, requesters and statuses with the catalogs' words.
func GroupFormats() map[string]bot.AlertFormat {
	return map[string]bot.AlertFormat{
		AlertType: func(payload []byte, word func(string) string) (string, map[string]string, error) {
			var a Alert
			if err := json.Unmarshal(payload, &a); err != nil {
				return "", nil, fmt.Errorf("request alert payload: %w", err)
			}
			kinds := make([]string, len(a.Kinds))
			for i, k := range a.Kinds {
				kinds[i] = word("request.label.kind_" + k)
			}
			return "staff.request.alert", map[string]string{"Ref": a.ID, "Kinds": strings.Join(kinds, "、"),
				"Requester": word(requesterLabel[a.Requester]), "Due": a.DueAt.Format(time.DateOnly), "URL": a.URL}, nil
		},
		DigestType: func(payload []byte, word func(string) string) (string, map[string]string, error) {
			var d Digest
			if err := json.Unmarshal(payload, &d); err != nil {
				return "", nil, fmt.Errorf("request digest payload: %w", err)
			}
			list := func(es []DigestEntry) string {
				var b strings.Builder
				for _, e := range es {
					fmt.Fprintf(&b, "\n・%s（%s、期限 %s）", e.ID, word("console.requests.status_"+e.Status), e.DueAt.Format(time.DateOnly))
				}
				return b.String()
			}
			return "staff.request.digest", map[string]string{"Day": d.Day, "Overdue": strconv.Itoa(len(d.Overdue)),
				"Due": strconv.Itoa(len(d.Due)), "List": list(d.Overdue) + list(d.Due), "URL": d.URL}, nil
		},
	}
}

// requesterLabel is the catalog label of each requester (the chat's chips).
var requesterLabel = map[string]string{
	string(flows.RequesterSelf): "request.label.who_self", string(flows.RequesterAgent): "request.label.who_agent",
	string(flows.RequesterLegal): "request.label.who_legal",
}
