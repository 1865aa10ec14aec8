package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/bot/outbox"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// wireHandoff builds the escalation manager (effect sink, handoff index, console backend) and the
// staff console on a store. Staff alerts are queued in ob for each staff destination it has (the
// LINE group, the webhook; see openOutbox).
func wireHandoff(cfg config, st *store.Store, line *bot.LINE, rend *bot.Renderer, ob *outbox.Outbox, log *slog.Logger) (*bot.Handoffs, *handlers.Console, error) {
	var alerters []bot.Alerter
	for _, dest := range []string{bot.StaffLINEDestination, bot.StaffWebhookDestination} {
		if hasDestination(ob, dest) {
			alerters = append(alerters, &bot.OutboxAlerter{Outbox: ob, Destination: dest})
		}
	}
	h := bot.NewHandoffs(bot.HandoffConfig{Store: st, Inbox: st, LINE: line, Renderer: rend,
		Profile: line.ProfileName, Alerters: alerters, BaseURL: cfg.BaseURL, Log: log, Metrics: line.Metrics()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Load(ctx); err != nil {
		return nil, nil, err
	}
	console := (&handlers.Console{Chats: h, Live: h.Hub(), Log: log,
		SecureCookies: strings.HasPrefix(cfg.BaseURL, "https://")}).UseBackend(st)
	return h, console, nil
}

// localAdminEmail is the account local mode creates for the developer at the keyboard.
const localAdminEmail = "admin@localhost"

// localAdmin creates (or resets) the local-mode admin with a fresh one-time password and prints it:
// the simulator has no other way in. The password opens one session (the console clears it at the
// first login); the next start prints a new one.
func localAdmin(ctx context.Context, st *store.Store, out io.Writer) error {
	const email = localAdminEmail
	pw := randomHex(12)
	hash, err := account.HashPassword(pw, 0)
	if err != nil {
		return err
	}
	acct := account.Staff{Email: email, Name: "管理者（ローカル）", Role: account.RoleAdmin, Hash: hash, OneTime: true, CreatedAt: time.Now()}
	if err := st.AddStaff(ctx, acct); err == account.ErrExists {
		// A new password, and the account enabled again; the name and language the developer chose
		// in the console's settings stay.
		if old, err := st.StaffByEmail(ctx, email); err == nil {
			acct.Name, acct.Lang, acct.CreatedAt = old.Name, old.Lang, old.CreatedAt
		}
		if err := st.SaveStaff(ctx, acct); err != nil {
			return err
		}
		_ = st.DeleteSessionsOf(ctx, email)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(out, "  Staff console: log in as %s (good for one login; restart for another) with the one-time password %s\n", email, pw)
	return nil
}

// retireLocalAdmin disables the local-mode admin when the server starts with LINE credentials on a
// store that local mode once used: an account whose password went to a log has no place in production.
func retireLocalAdmin(ctx context.Context, st *store.Store, log *slog.Logger) error {
	acct, err := st.StaffByEmail(ctx, localAdminEmail)
	if errors.Is(err, bot.ErrNotFound) || (err == nil && acct.Disabled && len(acct.Hash) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	acct.Disabled, acct.Hash = true, nil
	if err := st.SaveStaff(ctx, acct); err != nil {
		return err
	}
	log.Warn("the local-mode admin account was disabled: LINE credentials are set", "account", localAdminEmail)
	return st.DeleteSessionsOf(ctx, localAdminEmail)
}
