package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/store"
)

// requestConfig is the personal-data requests' configuration (README: configuration).
type requestConfig struct {
	DocumentKey string // DOCUMENT_KEY: base64 of 32 bytes (required with LINE credentials)
	DueDays     int    // REQUEST_DUE_DAYS (default 14)
	FeeText     string // REQUEST_FEE_TEXT ("" = no fee)
	LinkDays    int    // PACKAGE_LINK_DAYS (default 14)
	WebhookURL  string // REQUEST_WEBHOOK_URL: the back office's webhook
	WebhookKey  string // REQUEST_WEBHOOK_SECRET (16 characters or more, required with the URL)
}

// RequestWebhookDestination is the outbox destination of the back office's request webhook.
const RequestWebhookDestination = "request_webhook"

func loadRequestConfig() (requestConfig, error) {
	c := requestConfig{DocumentKey: os.Getenv("DOCUMENT_KEY"), FeeText: os.Getenv("REQUEST_FEE_TEXT"),
		WebhookURL: os.Getenv("REQUEST_WEBHOOK_URL"), WebhookKey: os.Getenv("REQUEST_WEBHOOK_SECRET")}
	var err error
	if c.DueDays, err = positive("REQUEST_DUE_DAYS", 14, 90); err != nil {
		return c, err
	}
	if c.LinkDays, err = positive("PACKAGE_LINK_DAYS", 14, 90); err != nil {
		return c, err
	}
	if c.WebhookURL != "" && len(c.WebhookKey) < 16 {
		return c, errors.New("REQUEST_WEBHOOK_SECRET (16 characters or more) is required with REQUEST_WEBHOOK_URL")
	}
	return c, nil
}

func positive(name string, def, maxV int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxV {
		return 0, fmt.Errorf("%s must be a number of days from 1 to %d, got %q", name, maxV, v)
	}
	return n, nil
}

// documentSealer makes the sealer of identity documents: from DOCUMENT_KEY, or in local mode from a
// key file it creates in DATA_DIR (and says so). With LINE credentials the key is required: documents
// must not be sealed with a key that lives next to them.
func documentSealer(cfg config, rc requestConfig, log *slog.Logger) (*request.Sealer, error) {
	if rc.DocumentKey != "" {
		key, err := request.ParseKey(rc.DocumentKey)
		if err != nil {
			return nil, err
		}
		return request.NewSealer(key)
	}
	if !cfg.LocalMode {
		return nil, errors.New("DOCUMENT_KEY is required with LINE credentials (identity documents are encrypted with it); make one with: openssl rand -base64 32")
	}
	key, file, created, err := request.LocalKey(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("local document key: %w", err)
	}
	if created {
		log.Warn("local mode: generated a document key for identity documents; set DOCUMENT_KEY in production", "file", file)
	}
	return request.NewSealer(key)
}

// storeAuditor writes the request service's own audit entries (package downloads, withdrawals in the
// chat, the desk's automatic moves, erasures) to the audit log.
type storeAuditor struct {
	st  *store.Store
	now func() time.Time
}

func (a storeAuditor) Audit(ctx context.Context, action, target, detail string) error {
	return a.st.Audit(ctx, account.AuditEntry{At: a.now(), Actor: request.AuditActor(action), Action: action, Target: target, Detail: detail})
}

// wireRequests builds the request service on the store; serve opens it before the pipeline starts
// and runs its document fetcher and digest.
func wireRequests(cfg config, rc requestConfig, st *store.Store, ob interface {
	request.Queue
	Destinations() []string
}, raiser request.Raiser, metrics *bot.Metrics, log *slog.Logger) (*request.Service, error) {
	sealer, err := documentSealer(cfg, rc, log)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("TZ: %w", err)
	}
	var alertTo []string
	var backOffice string
	for _, d := range ob.Destinations() {
		switch d {
		case bot.StaffLINEDestination, bot.StaffWebhookDestination:
			alertTo = append(alertTo, d)
		case RequestWebhookDestination:
			backOffice = d
		}
	}
	return request.New(request.Config{
		Store: st, Holdings: st, Content: bot.NewContentClient(cfg.ChannelToken, cfg.APIDataBaseURL, nil).Instrument(metrics),
		Sealer: sealer, Raiser: raiser, Outbox: ob, AlertTo: alertTo, BackOfficeTo: backOffice,
		Audit: storeAuditor{st: st, now: time.Now}, BaseURL: cfg.BaseURL, Location: loc,
		DueDays: rc.DueDays, LinkDays: rc.LinkDays, Log: log,
	}), nil
}
