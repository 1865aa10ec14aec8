package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunNLUClassifiesLines(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("クッキーを無効にできますか\nwhat's the weather?\nメールは止めないで\n")
	if err := runNLU(nil, in, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []struct{ text, intent string }{
		{"クッキーを無効にできますか", "faq.10"}, {"what's the weather?", "none"}, {"メールは止めないで", "optin"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, l := range lines {
		var got nluLine
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		if got.Text != want[i].text || got.Intent != want[i].intent {
			t.Errorf("line %d = %+v, want %s -> %s", i, got, want[i].text, want[i].intent)
		}
	}
	if !strings.Contains(lines[0], `"topic":"10.disable"`) || !strings.Contains(lines[0], `"confidence":`) {
		t.Errorf("line 0 lacks topic or confidence: %s", lines[0])
	}
}

func TestRunNLUEval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "set.tsv")
	data := "text\tlabels\n個人情報の保存期間は？\tfaq.13\n蓄電池の値段は？\tnone\nHello\tfaq.1\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runNLU([]string{"eval", path}, nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accuracy: 0.6667 (2/3)", "precision", "most confused", "faq.1", "misses: 1", `"Hello" want faq.1 got menu`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("eval output lacks %q:\n%s", want, out.String())
		}
	}
	if err := runNLU([]string{"bogus"}, nil, &out); err == nil {
		t.Error("bad arguments accepted")
	}
}
