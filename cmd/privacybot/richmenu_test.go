package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/flows/nlu"
	"github.com/enemane/privacybot/linesim"
)

// richMenuEnv is a fake LINE for the command: the simulator behind two servers, the API endpoint
// (which refuses image uploads, as api.line.me does) and the data endpoint (which takes only them).
type richMenuEnv struct {
	sim        *linesim.API
	uploads    atomic.Int32
	failUpload atomic.Bool
}

func newRichMenuEnv(t *testing.T) *richMenuEnv {
	t.Helper()
	e := &richMenuEnv{sim: linesim.NewAPI(linesim.APIOptions{AccessToken: "test-token"})}
	isContent := func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/content") }
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isContent(r) {
			http.Error(w, "images go to the data endpoint", http.StatusNotFound)
			return
		}
		e.sim.ServeHTTP(w, r)
	}))
	data := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isContent(r) {
			http.Error(w, "not a data endpoint call", http.StatusNotFound)
			return
		}
		e.uploads.Add(1)
		if e.failUpload.Load() {
			http.Error(w, `{"message":"boom"}`, http.StatusInternalServerError)
			return
		}
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	t.Cleanup(data.Close)
	t.Setenv("LINE_CHANNEL_ACCESS_TOKEN", "test-token")
	t.Setenv("LINE_CHANNEL_SECRET", "test-secret")
	t.Setenv("LINE_API_BASE_URL", api.URL)
	t.Setenv("LINE_API_DATA_BASE_URL", data.URL)
	return e
}

// run runs the command and returns the richMenuId it printed last.
func (e *richMenuEnv) run(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := runRichMenu(args, &out); err != nil {
		t.Fatalf("richmenu %v: %v\n%s", args, err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1]
}

// ours returns the menus named by this command.
func (e *richMenuEnv) ours() []linesim.RichMenu {
	var out []linesim.RichMenu
	for _, m := range e.sim.RichMenus() {
		if strings.HasPrefix(menuBody(m).Name, richMenuNamePrefix) {
			out = append(out, m)
		}
	}
	return out
}

func menuBody(m linesim.RichMenu) messaging_api.RichMenuResponse {
	var r messaging_api.RichMenuResponse
	_ = json.Unmarshal(m.Body, &r)
	return r
}

func TestRichMenuCreatesUploadsAndSetsDefault(t *testing.T) {
	e := newRichMenuEnv(t)
	id := e.run(t)
	menus := e.sim.RichMenus()
	if len(menus) != 1 {
		t.Fatalf("%d menus, want 1", len(menus))
	}
	m := menus[0]
	if m.ID != id || e.sim.DefaultRichMenu() != id {
		t.Fatalf("printed %q, created %q, default %q", id, m.ID, e.sim.DefaultRichMenu())
	}
	if m.ImageType != "image/png" || !bytes.Equal(m.Image, richMenuImage) || e.uploads.Load() != 1 {
		t.Fatalf("image %s, %d bytes, %d uploads: want the embedded PNG once through the data endpoint",
			m.ImageType, len(m.Image), e.uploads.Load())
	}
	body := menuBody(m)
	if body.Size == nil || body.Size.Width != 2500 || body.Size.Height != 1686 || !body.Selected ||
		body.Name != richMenuName || body.ChatBarText != "メニュー / Menu" {
		t.Fatalf("menu = %+v", body)
	}
	want := []struct {
		x, y, w, h int64
		kind, data string
	}{
		{0, 236, 1250, 725, "postback", flows.FAQPostback(flows.FAQMenuTopic)},
		{1250, 236, 1250, 725, "postback", "do=optout"},
		{0, 961, 1250, 725, "postback", flows.RequestStartPostback},
		{1250, 961, 1250, 725, "postback", "do=human"},
		{1660, 0, 400, 236, "postback", "do=lang&l=ja"},
		{2060, 0, 440, 236, "postback", "do=lang&l=en"},
	}
	if len(body.Areas) != len(want) {
		t.Fatalf("%d areas, want %d", len(body.Areas), len(want))
	}
	for i, w := range want {
		a := body.Areas[i]
		b := a.Bounds
		if b.X != w.x || b.Y != w.y || b.Width != w.w || b.Height != w.h {
			t.Errorf("area %d bounds %+v, want %v", i, *b, w)
		}
		switch act := a.Action.(type) { // decoded actions are values
		case messaging_api.PostbackAction:
			if w.kind != "postback" || act.Data != w.data || act.DisplayText == "" || act.Label == "" {
				t.Errorf("area %d action %+v, want %s %q", i, act, w.kind, w.data)
			}
		case messaging_api.MessageAction:
			if w.kind != "message" || act.Text != w.data || act.Label == "" {
				t.Errorf("area %d action %+v, want %s %q", i, act, w.kind, w.data)
			}
		default:
			t.Errorf("area %d action %T", i, act)
		}
	}
}

func TestRichMenuRerunReplacesOwnMenusOnly(t *testing.T) {
	e := newRichMenuEnv(t)
	// A menu someone made by hand for a campaign is not ours to delete.
	api, err := messaging_api.NewMessagingApiAPI("test-token", messaging_api.WithEndpoint(os.Getenv("LINE_API_BASE_URL")))
	if err != nil {
		t.Fatal(err)
	}
	hand := richMenuRequest()
	hand.Name = "campaign 2025"
	if _, err := api.CreateRichMenu(hand); err != nil {
		t.Fatal(err)
	}
	first := e.run(t)
	second := e.run(t)
	if first == second {
		t.Fatalf("the second run printed the first menu %q", first)
	}
	ours := e.ours()
	if len(ours) != 1 || ours[0].ID != second || e.sim.DefaultRichMenu() != second {
		t.Fatalf("after two runs: our menus %d (want only %s), default %q", len(ours), second, e.sim.DefaultRichMenu())
	}
	if all := e.sim.RichMenus(); len(all) != 2 || menuBody(all[0]).Name != "campaign 2025" {
		t.Fatalf("the hand-made menu went: %d menus left", len(all))
	}
}

func TestRichMenuFailedUploadLeavesNoHalfMenu(t *testing.T) {
	e := newRichMenuEnv(t)
	before := e.run(t)
	e.failUpload.Store(true)
	var out bytes.Buffer
	err := runRichMenu(nil, &out)
	if err == nil || !strings.Contains(err.Error(), "upload rich menu image") {
		t.Fatalf("err = %v, want the upload's failure", err)
	}
	ours := e.ours()
	if len(ours) != 1 || ours[0].ID != before || e.sim.DefaultRichMenu() != before {
		t.Fatalf("after a failed run: %d menus, default %q; want the earlier menu %s untouched",
			len(ours), e.sim.DefaultRichMenu(), before)
	}
}

func writePNG(t *testing.T, w, h int) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "menu.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRichMenuRejectsBadImagesBeforeCallingLINE(t *testing.T) {
	e := newRichMenuEnv(t)
	big := filepath.Join(t.TempDir(), "big.png")
	if err := os.WriteFile(big, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 1<<20)...), 0o600); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(t.TempDir(), "menu.txt")
	if err := os.WriteFile(text, []byte("not an image"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, path, want string }{
		{"wrong size", writePNG(t, 2500, 843), "2500×843, the menu declares 2500×1686"},
		{"small", writePNG(t, 1200, 810), "1200×810"},
		{"over 1 MB", big, "at most 1048576"},
		{"not an image", text, "not a PNG or JPEG"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runRichMenu([]string{"--image", c.path}, &out)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	if n := len(e.sim.RichMenus()); n != 0 {
		t.Fatalf("%d menus created despite the bad images", n)
	}
	// The right size from a file is taken.
	id := e.run(t, "--image", writePNG(t, 2500, 1686))
	if e.sim.DefaultRichMenu() != id {
		t.Fatalf("default %q, want %q", e.sim.DefaultRichMenu(), id)
	}
}

func TestRichMenuDryRunCallsNothing(t *testing.T) {
	e := newRichMenuEnv(t)
	t.Setenv("LINE_CHANNEL_ACCESS_TOKEN", "") // a dry run needs no channel
	t.Setenv("LINE_CHANNEL_SECRET", "")
	var out bytes.Buffer
	if err := runRichMenu([]string{"--dry-run"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"chatBarText": "メニュー / Menu"`) || !strings.Contains(out.String(), "dry run") {
		t.Fatalf("dry run printed:\n%s", out.String())
	}
	if len(e.sim.RichMenus()) != 0 {
		t.Fatal("a dry run created a menu")
	}
	// Without a dry run and without a channel, the command refuses instead of guessing.
	if err := runRichMenu(nil, &out); err == nil || !strings.Contains(err.Error(), "LINE_CHANNEL_ACCESS_TOKEN") {
		t.Fatalf("err = %v, want a hint at the channel's variables", err)
	}
}

func TestValidateRichMenuLimits(t *testing.T) {
	if err := validateRichMenu(richMenuRequest()); err != nil {
		t.Fatalf("the shipped menu is invalid: %v", err)
	}
	if _, err := checkRichMenuImage(richMenuImage, richMenuRequest().Size); err != nil {
		t.Fatalf("the shipped image is invalid: %v", err)
	}
	for _, c := range []struct {
		name   string
		change func(m *messaging_api.RichMenuRequest)
		want   string
	}{
		{"chat bar text over 14", func(m *messaging_api.RichMenuRequest) {
			m.ChatBarText = "個人情報お問い合わせ窓口メニュー"
		}, "chatBarText"},
		{"empty chat bar text", func(m *messaging_api.RichMenuRequest) { m.ChatBarText = "" }, "chatBarText"},
		{"too wide", func(m *messaging_api.RichMenuRequest) { m.Size.Width = 2600 }, "size"},
		{"too tall", func(m *messaging_api.RichMenuRequest) { m.Size.Height = 2500 }, "size"},
		{"area past the edge", func(m *messaging_api.RichMenuRequest) { m.Areas[3].Bounds.Width = 1300 }, "outside"},
		{"negative area", func(m *messaging_api.RichMenuRequest) { m.Areas[0].Bounds.X = -1 }, "outside"},
		{"overlapping areas", func(m *messaging_api.RichMenuRequest) { m.Areas[1].Bounds.X = 1200 }, "overlaps"},
		{"no areas", func(m *messaging_api.RichMenuRequest) { m.Areas = nil }, "0 areas"},
		{"label over 20", func(m *messaging_api.RichMenuRequest) {
			m.Areas[0].Action = &messaging_api.PostbackAction{Label: strings.Repeat("あ", 21), Data: "do=menu"}
		}, "label"},
		{"empty postback data", func(m *messaging_api.RichMenuRequest) {
			m.Areas[0].Action = &messaging_api.PostbackAction{Label: "x"}
		}, "data"},
		{"no action", func(m *messaging_api.RichMenuRequest) { m.Areas[0].Action = nil }, "no action"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := richMenuRequest()
			c.change(m)
			err := validateRichMenu(m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// A tap on each area, as the bot receives it (a postback, or the text a message action makes the
// customer send, classified by the intent model), starts what the tile promises.
func TestRichMenuTapsStartTheirFlows(t *testing.T) {
	model, err := nlu.Load()
	if err != nil {
		t.Fatal(err)
	}
	classify := (&deskInsight{classifier: insight.NewClassifier(model, nil, nil)}).classify
	rend, err := bot.NewRenderer(map[string]string{"PolicyURL": "https://example.jp/privacy/"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		reply  string // the first reply's catalog ID ("" when the step only escalates)
		flow   flows.FlowID
		lang   flows.Lang
		effect flows.EffectKind
	}{
		"policy":     {reply: flows.FAQMenuPromptID},
		"optout":     {reply: "optout.pick", flow: flows.FlowOptOut},
		"disclosure": {reply: "request.kinds", flow: flows.FlowRequest},
		"staff":      {flow: flows.FlowStaff, effect: flows.EffectEscalate},
		"ja":         {reply: "lang.switched", lang: flows.Ja},
		"en":         {reply: "lang.switched", lang: flows.En},
	}
	areas := richMenuAreas()
	if len(areas) != len(want) {
		t.Fatalf("%d areas, %d expectations", len(areas), len(want))
	}
	for _, a := range areas {
		t.Run(a.Key, func(t *testing.T) {
			w, ok := want[a.Key]
			if !ok {
				t.Fatalf("no expectation for area %q", a.Key)
			}
			var in flows.Input
			switch act := a.Action.(type) {
			case *messaging_api.PostbackAction:
				in = flows.Input{Kind: flows.InputPostback, Postback: act.Data}
			case *messaging_api.MessageAction:
				in = flows.Input{Kind: flows.InputText, Text: act.Text, Intent: classify(act.Text)}
				if in.Intent.Name != "disclosure" {
					t.Fatalf("%q is classified %+v, want disclosure", act.Text, in.Intent)
				}
			default:
				t.Fatalf("action %T", act)
			}
			res := flows.Step(flows.State{}, in)
			if res.State.Flow != w.flow || res.State.Lang != w.lang {
				t.Errorf("state %+v, want flow %q lang %q", res.State, w.flow, w.lang)
			}
			if w.reply != "" {
				if len(res.Replies) == 0 || res.Replies[0].ID != w.reply {
					t.Fatalf("replies %+v, want %s first", res.Replies, w.reply)
				}
				lang := w.lang
				if lang == "" {
					lang = flows.Ja
				}
				msgs, err := rend.Render(lang, res.Replies)
				if err != nil || len(msgs) == 0 || msgs[0].Text == "" {
					t.Fatalf("render: %v, %+v", err, msgs)
				}
			}
			if w.effect != "" {
				if len(res.Effects) != 1 || res.Effects[0].Kind != w.effect ||
					res.Effects[0].Escalation == nil || res.Effects[0].Escalation.Reason != flows.ReasonHuman {
					t.Fatalf("effects %+v, want one %s for a person", res.Effects, w.effect)
				}
			}
		})
	}
}
