package handlers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/locales"
)

// consoleIDRe is a whole console message ID as a Go string literal ("console.chat.flash_claim"); a
// prefix that code completes ("console.label.") does not match.
var consoleIDRe = regexp.MustCompile(`^console\.[a-z0-9_.]*[a-z0-9]$`)

// templateCallRe finds the message IDs templates name: {{t "console.…" …}}, {{th "console.…" …}}.
var templateCallRe = regexp.MustCompile(`\b(?:t|th)\s+"([^"]+)"`)

// usedConsoleIDs collects every message ID the console uses: named in its templates, written as a
// string literal in its Go code, or built from the codes it names (console.label.<kind>_<code>, the
// error titles, the script's words, the language names), each with where it comes from.
func usedConsoleIDs(t *testing.T) map[string]string {
	t.Helper()
	used := map[string]string{}
	err := fs.WalkDir(consoleFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		b, err := fs.ReadFile(consoleFS, path)
		if err != nil {
			return err
		}
		for _, m := range templateCallRe.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && consoleIDRe.MatchString(s) {
					used[s] = fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
	}
	for kind, codes := range codeKinds {
		for _, c := range codes {
			used["console.label."+kind+"_"+strings.ReplaceAll(c, ".", "_")] = "codeKinds[" + kind + "]"
		}
	}
	for _, s := range errorStatuses {
		used["console.error.title_"+strconv.Itoa(s)] = "errorStatuses"
	}
	for _, id := range scriptIDs {
		used[id] = "scriptIDs"
	}
	for _, l := range consoleLangs {
		used["console.settings.lang_"+l] = "langOptions"
	}
	used[flows.NoticeJoined] = "settings preview"
	return used
}

// TestConsoleMessagesExist fails when the console uses a message ID that one of the catalogs lacks,
// and when the console catalogs hold messages nothing uses.
func TestConsoleMessagesExist(t *testing.T) {
	ids, err := locales.MessageIDs()
	if err != nil {
		t.Fatal(err)
	}
	used := usedConsoleIDs(t)
	if len(used) < 250 {
		t.Fatalf("only %d message IDs found: the scan is broken", len(used))
	}
	for id, where := range used {
		for _, lang := range consoleLangs {
			if !slices.Contains(ids[lang], id) {
				t.Errorf("%s uses %q, missing in the %s catalog", where, id, lang)
			}
		}
	}
	for _, id := range ids["ja"] {
		if strings.HasPrefix(id, "console.") && used[id] == "" {
			t.Errorf("%q is in the catalog but the console does not use it", id)
		}
	}
}

// bareTextRe finds words in the static text of a template (what is left once actions and tags are
// removed) and in human-readable attributes: every such word must come from the catalog.
var (
	actionRe    = regexp.MustCompile(`{{[^}]*}}`)
	tagRe       = regexp.MustCompile(`<[^>]*>`)
	wordRe      = regexp.MustCompile(`[A-Za-z]{2,}|[\p{Hiragana}\p{Katakana}\p{Han}]+`)
	attrRe      = regexp.MustCompile(`\b(?:placeholder|title|aria-label|alt)="([^"]*)"`)
	exampleText = map[string]bool{"hanako@example.jp": true, "090-1234-5678": true}
)

// TestConsoleTemplatesHaveNoBareText fails when a template writes words of its own instead of taking
// them from the catalog (an untranslated label).
func TestConsoleTemplatesHaveNoBareText(t *testing.T) {
	names, _ := fs.Glob(consoleFS, "templates/*.html")
	for _, n := range names {
		b, _ := fs.ReadFile(consoleFS, n)
		src := string(b)
		for _, m := range attrRe.FindAllStringSubmatch(src, -1) {
			if v := actionRe.ReplaceAllString(m[1], ""); wordRe.MatchString(v) && !exampleText[v] {
				t.Errorf("%s: attribute %q is not from the catalog", n, m[0])
			}
		}
		text := tagRe.ReplaceAllString(actionRe.ReplaceAllString(src, " "), " ")
		for _, w := range wordRe.FindAllString(text, -1) {
			t.Errorf("%s: %q is not from the catalog", n, w)
		}
	}
}

// TestTranscriptLinesInStaffLanguage: postbacks show the label of the button the customer tapped, the
// escalation manager's system lines and internal events are told in the staff member's language, and
// anything unknown is shown as stored.
func TestTranscriptLinesInStaffLanguage(t *testing.T) {
	b, err := locales.NewBundle()
	if err != nil {
		t.Fatal(err)
	}
	ja, en := newWords(b, "ja", slog.Default()), newWords(b, "en", slog.Default())
	at := time.Date(2026, 4, 1, 1, 2, 0, 0, time.UTC)
	sys := func(key, text string) bot.TranscriptEntry {
		return bot.TranscriptEntry{ID: "E1/sys/" + key, Role: bot.RoleSystem, Kind: "text", Text: text, At: at}
	}
	note := func(key, text string, n bot.SystemNote) bot.TranscriptEntry {
		e := sys(key, text)
		e.System = &n
		return e
	}
	cust := func(kind, text string) bot.TranscriptEntry {
		return bot.TranscriptEntry{ID: "ev/in", Role: bot.RoleCustomer, Kind: kind, Text: text, At: at}
	}
	cases := []struct {
		entry            bot.TranscriptEntry
		jaText, enText   string
		role, title      string
		jaExtra, enExtra string
	}{
		{cust("postback", "do=hcat&c=data"), "個人情報の取り扱い", "Personal data", bot.RoleCustomer, "do=hcat&c=data", "ボタンを選択", "tapped a button"},
		{cust("postback", "do=human"), "担当者と話す", "Talk to staff", bot.RoleCustomer, "do=human", "ボタンを選択", "tapped a button"},
		{cust("postback", "do=nothing-we-offer"), "do=nothing-we-offer", "do=nothing-we-offer", bot.RoleCustomer, "do=nothing-we-offer", "ボタンを選択", "tapped a button"},
		{cust("internal", flows.ResumePostback("handback", "E1", false)), "担当者の対応が終わり、自動応答に戻りました。",
			"Staff handed the chat back; the bot resumed the conversation.", bot.RoleSystem, "", "", ""},
		{cust("internal", flows.ResumePostback("closed", "E1", true)), "お問い合わせが対応済みになり、自動応答に戻りました。",
			"The chat was closed; the bot resumed the conversation.", bot.RoleSystem, "", "", ""},
		{cust("image", ""), "", "", bot.RoleCustomer, "", "画像を送信（ここには表示されません）", "sent an image (not shown here)"},
		{sys("escalated", "escalated: complaint"), "担当者への引き継ぎを受け付けました（理由：苦情）。", "Handed to staff (reason: Complaint).", bot.RoleSystem, "", "", ""},
		{sys("claimed", "claimed by 佐藤"), "佐藤が対応を始めました。", "Claimed by 佐藤.", bot.RoleSystem, "", "", ""},
		{sys("handback", "handback by 佐藤: handed back to the bot"), "佐藤が自動応答に戻しました。", "Handed back to the bot by 佐藤.", bot.RoleSystem, "", "", ""},
		{sys("closed", "closed by Sato: Mika: data_request"), "Sato: Mikaが対応済みにしました（対応結果：開示等の請求として担当部署へ引き継ぎ）。",
			"Closed by Sato: Mika (resolution: Data request forwarded).", bot.RoleSystem, "", "", ""},
		{sys("closed", "closed by 佐藤: spam or abuse"), "佐藤が対応済みにしました（対応結果：spam or abuse）。",
			"Closed by 佐藤 (resolution: spam or abuse).", bot.RoleSystem, "", "", ""},
		{sys("failed/joined", "joined notice not sent: it could not be rendered"), "担当者からのごあいさつを作成できなかったため、お客さまにはお知らせしていません。",
			"The customer was not told who joined: the notice could not be written.", bot.RoleSystem, "joined notice not sent: it could not be rendered", "", ""},
		{sys("failed/queued", `notice "queued" not delivered (status 500)`), "お客さまへの「受付のご案内」をお届けできませんでした（LINEの応答コード：500）。",
			"The customer did not get the notice “request received” (LINE status 500).", bot.RoleSystem, `notice "queued" not delivered (status 500)`, "", ""},
		{sys("failed/m1", "delivery failed: LINE refused the message (400): the customer may have blocked the account"),
			"メッセージをお届けできませんでした。お客さまがアカウントをブロックしている可能性があります。",
			"Delivery failed: LINE refused the message; the customer may have blocked the account.", bot.RoleSystem,
			"delivery failed: LINE refused the message (400): the customer may have blocked the account", "", ""},
		{sys("failed/m2", "delivery failed: LINE refused the message (429): slow down"), "メッセージをお届けできませんでした（LINEの応答コード：429）。",
			"Delivery failed: LINE refused the message (status 429).", bot.RoleSystem, "delivery failed: LINE refused the message (429): slow down", "", ""},
		{sys("something-new", "a line nobody knows"), "a line nobody knows", "a line nobody knows", bot.RoleSystem, "", "", ""},
		// Lines that carry their SystemNote are worded from it, whatever their English text says.
		{note("closed", "closed by a: b: c", bot.SystemNote{What: "closed", Who: "Sato: Mika", Resolution: "data_request"}),
			"Sato: Mikaが対応済みにしました（対応結果：開示等の請求として担当部署へ引き継ぎ）。",
			"Closed by Sato: Mika (resolution: Data request forwarded).", bot.RoleSystem, "", "", ""},
		{note("claimed", "claimed by someone", bot.SystemNote{What: "claimed", Who: "高橋"}), "高橋が対応を始めました。", "Claimed by 高橋.", bot.RoleSystem, "", "", ""},
		{note("escalated", "escalated: ?", bot.SystemNote{What: "escalated", Reason: "complaint"}), "担当者への引き継ぎを受け付けました（理由：苦情）。",
			"Handed to staff (reason: Complaint).", bot.RoleSystem, "", "", ""},
		{note("failed/m3", "delivery failed: LINE refused the message (400): blocked", bot.SystemNote{What: "failed", Status: 400}),
			"メッセージをお届けできませんでした。お客さまがアカウントをブロックしている可能性があります。",
			"Delivery failed: LINE refused the message; the customer may have blocked the account.", bot.RoleSystem,
			"delivery failed: LINE refused the message (400): blocked", "", ""},
	}
	for _, c := range cases {
		for _, v := range []struct {
			w           *words
			text, extra string
		}{{ja, c.jaText, c.jaExtra}, {en, c.enText, c.enExtra}} {
			l := v.w.toLine(c.entry)
			if l.Text != v.text || l.Role != c.role || l.Title != c.title || l.Extra != v.extra || l.At != "2026-04-01 10:02" {
				t.Errorf("%s %s %q:\n got text %q role %s title %q extra %q at %s\nwant text %q role %s title %q extra %q",
					v.w.lang, c.entry.ID, c.entry.Text, l.Text, l.Role, l.Title, l.Extra, l.At, v.text, c.role, c.title, v.extra)
			}
		}
	}
	if got := ja.toLine(bot.TranscriptEntry{Role: bot.RoleStaff, Text: "x"}).Who; got != "スタッフ" {
		t.Errorf("staff line's author %q", got)
	}
}
