package linesim

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// flexBot answers a text with a Flex bubble and quick-reply chips, the
// postback "optout" with a confirmation text, and an image with a text (after
// passing the event to images), all by raw JSON as a bot would send it.
func flexBot(t *testing.T, apiURL string, images chan<- webhook.ImageMessageContent) http.Handler {
	reply := func(token, messages string) {
		body := `{"replyToken":"` + token + `","messages":` + messages + `}`
		req, _ := http.NewRequest("POST", apiURL+"/v2/bot/message/reply", bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("reply: %v %v", resp, err)
			return
		}
		resp.Body.Close()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb, err := webhook.ParseRequest(testSecret, r)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, ev := range cb.Events {
			switch e := ev.(type) {
			case webhook.MessageEvent:
				if im, ok := e.Message.(webhook.ImageMessageContent); ok {
					images <- im
					reply(e.ReplyToken, `[{"type":"text","text":"画像を受け取りました"}]`)
					continue
				}
				tm := e.Message.(webhook.TextMessageContent)
				call := func(path, body string) {
					req, _ := http.NewRequest("POST", apiURL+path, bytes.NewReader([]byte(body)))
					req.Header.Set("Authorization", "Bearer "+testToken)
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				}
				call("/v2/bot/chat/markAsRead", `{"markAsReadToken":"`+tm.MarkAsReadToken+`"}`)
				call("/v2/bot/chat/loading/start", `{"chatId":"`+e.Source.(webhook.UserSource).UserId+`","loadingSeconds":5}`)
				reply(e.ReplyToken, `[{"type":"flex","altText":"menu","contents":{"type":"bubble",
				  "body":{"type":"box","layout":"vertical","spacing":"md","contents":[
				    {"type":"text","text":"見出し","weight":"bold","size":"xl","color":"#1DB446"},
				    {"type":"separator"},
				    {"type":"box","layout":"baseline","contents":[{"type":"text","text":"左","flex":1},{"type":"text","text":"右","flex":3,"color":"javascript:alert(1)"}]},
				    {"type":"button","style":"primary","action":{"type":"message","label":"ボタン","text":"押した"}}]}},
				  "quickReply":{"items":[{"type":"action","action":{"type":"postback","label":"やめる","data":"optout","displayText":"配信停止"}}]}}]`)
			case webhook.PostbackEvent:
				reply(e.ReplyToken, `[{"type":"text","text":"停止しました <script>x</script>"}]`)
			}
		}
	})
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func TestChatPageInBrowser(t *testing.T) {
	chrome := findChromium()
	if chrome == "" || os.Getenv("LINESIM_SKIP_BROWSER") != "" {
		t.Skip("no chromium on PATH")
	}
	api, apiSrv, _ := newTestAPI(t, APIOptions{Now: time.Now})
	images := make(chan webhook.ImageMessageContent, 16)
	bot := httptest.NewServer(flexBot(t, apiSrv.URL, images))
	defer bot.Close()
	const pageLimit = 64 << 10
	chat := NewChat(api, &Sender{BotURL: bot.URL, ChannelSecret: testSecret, Destination: "Ubot", API: api},
		ChatOptions{MaxImageBytes: pageLimit})
	srv := httptest.NewServer(chat)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/sim/")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	poll := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}

	// The first customer is added automatically (with a follow event).
	poll("first pane", `document.querySelectorAll(".phone").length === 1 && !!document.querySelector(".phone .sys")`)
	hostile := `<img src=x onerror="document.title='pwned'">`
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(".phone .text"), hostile),
		chromedp.Click(chromedp.CSS(".phone .send")),
	); err != nil {
		t.Fatal(err)
	}
	poll("flex reply", `!!document.querySelector(".phone .fx-bubble")`)
	poll("read mark", `!!document.querySelector(".row.user .meta .read")`)
	if n := eval(`String(document.querySelectorAll(".typing").length)`); n != "0" {
		t.Errorf("loading indicator stays after the answer: %s", n)
	}
	if got := eval(`document.querySelector(".row.user .bubble").textContent`); got != hostile {
		t.Errorf("customer bubble %q", got)
	}
	if n := eval(`String(document.querySelectorAll(".log img").length) + document.title`); n != "0LINE simulator" {
		t.Errorf("customer text was parsed as HTML: %s", n)
	}
	head := eval(`(() => { const e = [...document.querySelectorAll(".fx-text")].find(x => x.textContent === "見出し");
		return e ? getComputedStyle(e).fontWeight + " " + getComputedStyle(e).color : "missing"; })()`)
	if head != "700 rgb(29, 180, 70)" {
		t.Errorf("flex heading style %q", head)
	}
	if c := eval(`(() => { const e = [...document.querySelectorAll(".fx-text")].find(x => x.textContent === "右"); return e.style.color + "|" + e.style.flex; })()`); c != "|3 1 0px" {
		t.Errorf("flex text style %q (colour must be dropped, flex kept)", c)
	}

	// Tap the quick-reply chip: postback with displayText shown as the customer's bubble.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".phone .chip"))); err != nil {
		t.Fatal(err)
	}
	poll("postback answer", `[...document.querySelectorAll(".row.bot .bubble")].some(b => b.textContent === "停止しました <script>x</script>")`)
	poll("displayText bubble", `[...document.querySelectorAll(".row.user .bubble")].some(b => b.textContent === "配信停止")`)
	if n := eval(`String(document.querySelectorAll(".phone .chip").length)`); n != "0" {
		t.Errorf("chips stay after tapping: %s", n)
	}

	// Flex button (message action) sends its text.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".phone .fx-button"))); err != nil {
		t.Fatal(err)
	}
	poll("button text", `[...document.querySelectorAll(".row.user .bubble")].some(b => b.textContent === "押した")`)

	// Images: a picture and a text file through the file input, the sample ID, and a file over the page's limit.
	dir := t.TempDir()
	pic := tinyPNG(t, 40, 30)
	files := map[string][]byte{"pic.png": pic, "notes.txt": []byte("not a picture"), "big.png": bytes.Repeat([]byte{1}, pageLimit+1)}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	upload := func(name string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(".phone input.file"), []string{filepath.Join(dir, name)})); err != nil {
			t.Fatal(err)
		}
	}
	imgShown := func(w int) string {
		return `[...document.querySelectorAll(".row.user img.imgmsg")].some(i => i.complete && i.naturalWidth === ` + strconv.Itoa(w) + `)`
	}
	upload("pic.png")
	poll("picture bubble", imgShown(40))
	upload("notes.txt")
	poll("file bubble", `[...document.querySelectorAll(".row.user .bubble.filemsg")].some(b => b.textContent.includes("notes.txt"))`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".phone .sample"))); err != nil {
		t.Fatal(err)
	}
	poll("sample ID bubble", imgShown(sampleCardW))
	upload("big.png")
	poll("oversize notice", `[...document.querySelectorAll(".phone .sys")].some(s => s.textContent.includes("ファイルが大きすぎます") && s.textContent.includes("big.png"))`)
	wantContent := [][]byte{pic, files["notes.txt"], SampleIDCard()}
	wantType := []string{"image/png", "text/plain", "image/png"}
	for i := range wantContent {
		var im webhook.ImageMessageContent
		select {
		case im = <-images:
		case <-ctx.Done():
			t.Fatalf("image event %d never came", i)
		}
		ct, data, ok := api.Content(im.Id)
		if !ok || ct != wantType[i] || !bytes.Equal(data, wantContent[i]) || im.ContentProvider.Type != "line" || im.QuoteToken == "" {
			t.Errorf("image %d: %q %d bytes %v, event %+v", i, ct, len(data), ok, im)
		}
	}
	poll("answers to the images", `[...document.querySelectorAll(".row.bot .bubble")].filter(b => b.textContent === "画像を受け取りました").length === 3`)
	select {
	case im := <-images:
		t.Errorf("the file over the page's limit was sent: %+v", im)
	default:
	}

	// Block, language switch, second customer.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".phone .block"))); err != nil {
		t.Fatal(err)
	}
	poll("blocked", `document.querySelector(".phone .text").disabled && document.querySelector(".phone .attach").disabled && document.querySelector(".phone .sample").disabled`)
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(".phone .lang"), "en")); err != nil {
		t.Fatal(err)
	}
	eval(`(() => { document.querySelector(".phone .lang").dispatchEvent(new Event("change")); return ""; })()`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("add"))); err != nil {
		t.Fatal(err)
	}
	poll("second pane", `document.querySelectorAll(".phone").length === 2`)
	cs := chat.Customers()
	if len(cs) != 2 || !cs[0].Blocked || !api.Blocked(cs[0].UserID) {
		t.Errorf("customers %+v", cs)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p, _ := api.Profile(cs[0].UserID); p.Language != "en" && time.Now().Before(deadline); p, _ = api.Profile(cs[0].UserID) {
		time.Sleep(20 * time.Millisecond)
	}
	if p, _ := api.Profile(cs[0].UserID); p.Language != "en" {
		t.Errorf("language switch: %+v", p)
	}
}

// tinyPNG returns a w×h PNG of one colour.
func tinyPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{0x30, 0x60, 0xc0, 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
