package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/store"
)

// tokenEnv points the token subcommand at the embedded engine of a fresh DATA_DIR, and returns it.
func tokenEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DATA_DIR", dir)
	t.Setenv("MONGODB_URI", "")
	t.Setenv("LINE_CHANNEL_SECRET", "")
	t.Setenv("LINE_CHANNEL_ACCESS_TOKEN", "")
	return dir
}

// addToken runs token add and returns its output's lines; the last is the token.
func addToken(t *testing.T, args ...string) []string {
	t.Helper()
	var out bytes.Buffer
	if err := runToken(append([]string{"add"}, args...), &out); err != nil {
		t.Fatalf("token add %v: %v", args, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if tok := lines[len(lines)-1]; !strings.HasPrefix(tok, "pbm_") || len(tok) < 40 {
		t.Fatalf("last line %q is not a token", tok)
	}
	return lines
}

// TestTokenAddPrintsTokenLast runs the token subcommand against the embedded engine of a fresh DATA_DIR.
func TestTokenAddPrintsTokenLast(t *testing.T) {
	tokenEnv(t)
	lines := addToken(t, "--name", "crm")
	tok := lines[len(lines)-1]
	if len(lines) != 2 || lines[0] != `created token "crm" (scope optouts); it is shown only now:` {
		t.Fatalf("output %q", lines)
	}
	var out bytes.Buffer
	if err := runToken([]string{"revoke", "--name", "crm"}, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runToken([]string{"list"}, &out); err != nil || !strings.Contains(out.String(), "crm") || strings.Contains(out.String(), tok) {
		t.Fatalf("list: %v %q", err, out.String())
	}
	if err := runToken([]string{"add"}, &out); err == nil {
		t.Fatal("add without --name must fail")
	}
}

// TestTokenScopes: --scope repeated or comma-separated, optouts by default, unknown scopes refused, the
// scopes listed and stored.
func TestTokenScopes(t *testing.T) {
	dir := tokenEnv(t)
	for _, c := range []struct {
		name  string
		args  []string
		first string
	}{
		{"backoffice", []string{"--scope", "requests"}, `created token "backoffice" (scope requests); it is shown only now:`},
		{"crm", nil, `created token "crm" (scope optouts); it is shown only now:`},
		{"both", []string{"--scope", "requests", "--scope", "optouts"}, `created token "both" (scopes optouts,requests); it is shown only now:`},
		{"comma", []string{"--scope", "requests, optouts"}, `created token "comma" (scopes optouts,requests); it is shown only now:`},
		{"legacy-name", []string{"--scope", "marketing:read"}, `created token "legacy-name" (scope optouts); it is shown only now:`},
	} {
		lines := addToken(t, append([]string{"--name", c.name}, c.args...)...)
		if len(lines) != 2 || lines[0] != c.first {
			t.Fatalf("%s: output %q", c.name, lines)
		}
	}
	for _, args := range [][]string{
		{"--name", "x", "--scope", "admin"},
		{"--name", "x", "--scope", ","},
		{"--name", "x", "--scope", "requests", "optouts"}, // a second scope without --scope
	} {
		var out bytes.Buffer
		if err := runToken(append([]string{"add"}, args...), &out); err == nil {
			t.Fatalf("add %v must fail", args)
		}
	}
	var out bytes.Buffer
	if err := runToken([]string{"list"}, &out); err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for i, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(line)
		if i == 0 {
			if !slices.Equal(f, []string{"NAME", "SCOPES", "CREATED", "REVOKED"}) {
				t.Fatalf("header %q", line)
			}
			continue
		}
		listed[f[0]] = f[1]
	}
	want := map[string]string{"backoffice": "requests", "crm": "optouts", "both": "optouts,requests",
		"comma": "optouts,requests", "legacy-name": "optouts"}
	if len(listed) != len(want) {
		t.Fatalf("listed %v", listed)
	}
	for k, v := range want {
		if listed[k] != v {
			t.Fatalf("listed %v, want %v", listed, want)
		}
	}
	// What the API sees: the scopes as stored.
	lines := addToken(t, "--name", "check", "--scope", "requests")
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	tk, err := store.NewTokens(st).Verify(ctx, lines[len(lines)-1])
	if err != nil || tk.Name != "check" || !tk.Has(account.ScopeRequests) || tk.Has(account.ScopeOptouts) {
		t.Fatalf("verify: %+v %v", tk, err)
	}
}
