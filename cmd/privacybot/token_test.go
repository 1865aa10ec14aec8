package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestTokenAddPrintsTokenLast runs the token subcommand against the embedded engine of a fresh DATA_DIR.
func TestTokenAddPrintsTokenLast(t *testing.T) {
	t.Setenv("DATA_DIR", t.TempDir())
	t.Setenv("MONGODB_URI", "")
	t.Setenv("LINE_CHANNEL_SECRET", "")
	t.Setenv("LINE_CHANNEL_ACCESS_TOKEN", "")
	var out bytes.Buffer
	if err := runToken([]string{"add", "--name", "crm"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	tok := lines[len(lines)-1]
	if !strings.HasPrefix(tok, "pbm_") || len(tok) < 40 {
		t.Fatalf("last line %q is not a token", tok)
	}
	out.Reset()
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
