package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/enemane/privacybot/store"
)

// clearEnv unsets the variables loadConfig reads, so the machine's own environment does not leak in.
func clearEnv(t *testing.T) {
	for _, k := range []string{"LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "BASE_URL", "FLY_APP_NAME", "FLY_MACHINE_ID",
		"LOCAL_MODE_BIND", "TRUSTED_PROXIES", "PORT", "LINE_API_BASE_URL", "STAFF_WEBHOOK_URL", "STAFF_WEBHOOK_SECRET",
		"METRICS_ADDR", "METRICS_TOKEN"} {
		t.Setenv(k, "")
	}
}

func TestLocalModeListensOnLoopbackByDefault(t *testing.T) {
	clearEnv(t)
	t.Setenv("PORT", "8181")
	c, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !c.LocalMode || c.ListenAddr != "127.0.0.1:8181" {
		t.Fatalf("local mode %v on %q, want loopback", c.LocalMode, c.ListenAddr)
	}
	t.Setenv("LOCAL_MODE_BIND", "0.0.0.0")
	if c, err = loadConfig(); err != nil || c.ListenAddr != "0.0.0.0:8181" {
		t.Fatalf("explicitly allowed: %q %v", c.ListenAddr, err)
	}
}

func TestLocalModeIsRefusedWhereTheServerIsDeployed(t *testing.T) {
	for name, env := range map[string][2]string{
		"on Fly.io":      {"FLY_APP_NAME", "enemane-privacybot"},
		"https BASE_URL": {"BASE_URL", "https://desk.example.jp"},
		"a Fly machine":  {"FLY_MACHINE_ID", "148e21ea7d5589"},
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(env[0], env[1])
			_, err := loadConfig()
			if err == nil || !strings.Contains(err.Error(), "LINE_CHANNEL_SECRET") {
				t.Fatalf("local mode without credentials %s: %v, want a refusal that names the secrets", name, err)
			}
		})
	}
}

func TestLINEModeListensEverywhereAndTrustsOnlyConfiguredProxies(t *testing.T) {
	clearEnv(t)
	t.Setenv("LINE_CHANNEL_SECRET", "s")
	t.Setenv("LINE_CHANNEL_ACCESS_TOKEN", "t")
	t.Setenv("BASE_URL", "https://desk.example.jp")
	t.Setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")
	c, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.LocalMode || c.ListenAddr != ":8080" || len(c.TrustedProxies) != 2 {
		t.Fatalf("config %+v", c)
	}
	t.Setenv("TRUSTED_PROXIES", "everyone")
	if _, err := loadConfig(); err == nil {
		t.Fatal("a malformed TRUSTED_PROXIES was accepted")
	}
}

// TestLocalAdminIsRetiredWhenLINECredentialsArrive: the admin local mode created (its password went
// to a log) is disabled the first time the server starts with LINE credentials on the same store.
func TestLocalAdminIsRetiredWhenLINECredentialsArrive(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	var printed bytes.Buffer
	if err := localAdmin(ctx, st, &printed); err != nil {
		t.Fatal(err)
	}
	pw := printed.String()[strings.LastIndex(printed.String(), " ")+1:]
	acct, err := st.StaffByEmail(ctx, localAdminEmail)
	if err != nil || !acct.OneTime || !acct.PasswordMatches(strings.TrimSpace(pw)) {
		t.Fatalf("local admin %+v %v: want a one-time account with the printed password", acct, err)
	}
	if err := retireLocalAdmin(ctx, st, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	acct, _ = st.StaffByEmail(ctx, localAdminEmail)
	if !acct.Disabled || acct.PasswordMatches(strings.TrimSpace(pw)) {
		t.Fatalf("after a start with LINE credentials: %+v, want disabled without a password", acct)
	}
}

func TestStaffWebhookNeedsARealSecret(t *testing.T) {
	clearEnv(t)
	t.Setenv("STAFF_WEBHOOK_URL", "https://hooks.example.jp/staff")
	t.Setenv("STAFF_WEBHOOK_SECRET", "short")
	if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), "STAFF_WEBHOOK_SECRET") {
		t.Fatalf("a 5-character secret: %v, want a refusal", err)
	}
	t.Setenv("STAFF_WEBHOOK_SECRET", "a-secret-of-sixteen+")
	if _, err := loadConfig(); err != nil {
		t.Fatal(err)
	}
}

func TestDocumentKeyRequiredWithLINECredentials(t *testing.T) {
	t.Setenv("LINE_CHANNEL_SECRET", "s")
	t.Setenv("LINE_CHANNEL_ACCESS_TOKEN", "t")
	t.Setenv("DOCUMENT_KEY", "")
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := documentSealer(cfg, cfg.Requests, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "DOCUMENT_KEY") {
		t.Errorf("no key with LINE credentials: %v", err)
	}
	cfg.Requests.DocumentKey = "short"
	if _, err := documentSealer(cfg, cfg.Requests, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("a bad key was accepted")
	}
	t.Setenv("REQUEST_DUE_DAYS", "0")
	if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), "REQUEST_DUE_DAYS") {
		t.Errorf("REQUEST_DUE_DAYS=0: %v", err)
	}
	t.Setenv("REQUEST_DUE_DAYS", "")
	t.Setenv("REQUEST_WEBHOOK_URL", "https://backoffice.example/hook")
	if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), "REQUEST_WEBHOOK_SECRET") {
		t.Errorf("webhook without a secret: %v", err)
	}
}
