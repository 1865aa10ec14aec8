package linesim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// hook is a webhook that checks each request's signature itself, keeps the raw bodies and parses
// them with the SDK.
type hook struct {
	raw    chan []byte
	events chan webhook.EventInterface
}

func newHook() *hook {
	return &hook{raw: make(chan []byte, 64), events: make(chan webhook.EventInterface, 64)}
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("X-Line-Signature") != Sign(testSecret, body) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	cb, err := webhook.ParseRequest(testSecret, r)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.raw <- body
	for _, ev := range cb.Events {
		h.events <- ev
	}
}

// nextImage returns the next image message event, skipping others (the follow of a new customer).
func nextImage(t *testing.T, h *hook) (webhook.MessageEvent, webhook.ImageMessageContent) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-h.events:
			if me, ok := ev.(webhook.MessageEvent); ok {
				if im, ok := me.Message.(webhook.ImageMessageContent); ok {
					return me, im
				}
				t.Fatalf("message event of %T", me.Message)
			}
		case <-timeout:
			t.Fatal("no image event")
		}
	}
}

type imageRig struct {
	api    *API
	apiURL string
	chat   *Chat
	url    string // the chat's server
	hook   *hook
}

func newImageRig(t *testing.T, opts ChatOptions) *imageRig {
	t.Helper()
	api, apiSrv, _ := newTestAPI(t, APIOptions{Now: time.Now})
	h := newHook()
	bot := httptest.NewServer(h)
	t.Cleanup(bot.Close)
	chat := NewChat(api, &Sender{BotURL: bot.URL, ChannelSecret: testSecret, Destination: "Ubot", API: api}, opts)
	srv := httptest.NewServer(chat)
	t.Cleanup(srv.Close)
	return &imageRig{api: api, apiURL: apiSrv.URL, chat: chat, url: srv.URL, hook: h}
}

// upload posts a file as the page does and returns the status and the decoded answer.
func (r *imageRig) upload(t *testing.T, userID, name, ctype string, body io.Reader) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("POST", r.url+"/sim/api/image?userId="+userID+"&name="+name, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// content fetches a message's content from the fake Messaging API, through the SDK's blob client.
func (r *imageRig) content(t *testing.T, id string) (string, []byte) {
	t.Helper()
	blob, err := messaging_api.NewMessagingApiBlobAPI(testToken, messaging_api.WithBlobEndpoint(r.apiURL))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := blob.GetMessageContent(id)
	if err != nil {
		t.Fatalf("content %s: %v", id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Header.Get("Content-Type"), b
}

func TestChatSendsImage(t *testing.T) {
	r := newImageRig(t, ChatOptions{MaxImageBytes: 1 << 20})
	ctx := context.Background()
	cu, err := r.chat.AddCustomer(ctx, "画像の人", "ja")
	if err != nil {
		t.Fatal(err)
	}

	// A picture through the page's API.
	pic := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 5000)...)
	st, ans := r.upload(t, cu.UserID, "card.png", "image/png", bytes.NewReader(pic))
	if st != 200 || ans["messageId"] == "" {
		t.Fatalf("upload: %d %v", st, ans)
	}
	id := ans["messageId"]
	me, im := nextImage(t, r.hook)
	if im.Id != id || im.ContentProvider == nil || im.ContentProvider.Type != "line" || im.QuoteToken == "" || im.MarkAsReadToken == "" {
		t.Fatalf("image event %+v", im)
	}
	if me.ReplyToken == "" || me.Source.(webhook.UserSource).UserId != cu.UserID {
		t.Fatalf("event %+v", me)
	}
	var raw []byte
	for raw = range r.hook.raw {
		if bytes.Contains(raw, []byte(`"type":"image"`)) {
			break
		}
	}
	for _, want := range []string{`"id":"` + id + `"`, `"contentProvider":{"type":"line"}`, `"quoteToken":"`, `"markAsReadToken":"`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("webhook body lacks %s: %s", want, raw)
		}
	}
	if ct, b := r.content(t, id); ct != "image/png" || !bytes.Equal(b, pic) {
		t.Fatalf("content %q, %d bytes", ct, len(b))
	}
	// The page shows it from its own path, safely.
	resp, err := http.Get(r.url + "/sim/api/content/" + id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(b, pic) || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("page content: %d %v", resp.StatusCode, resp.Header)
	}

	// Not an image, declared as what the browser said; and no type at all (sniffed).
	st, ans = r.upload(t, cu.UserID, "notes.txt", "text/plain", strings.NewReader("<script>alert(1)</script>"))
	if st != 200 {
		t.Fatalf("text file: %d %v", st, ans)
	}
	if _, im := nextImage(t, r.hook); im.Id != ans["messageId"] {
		t.Fatalf("text file event %+v", im)
	}
	if ct, _ := r.content(t, ans["messageId"]); ct != "text/plain" {
		t.Errorf("declared type %q", ct)
	}
	resp, err = http.Get(r.url + "/sim/api/content/" + ans["messageId"])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("Content-Disposition") != "attachment" {
		t.Errorf("a non-image is served to the page as %v", resp.Header)
	}
	_, ans = r.upload(t, cu.UserID, "x", "", strings.NewReader("GIF89a....."))
	if ct, _ := r.content(t, ans["messageId"]); ct != "image/gif" {
		t.Errorf("sniffed type %q", ct)
	}
	nextImage(t, r.hook)

	// Too large: declared, and streamed without a length. Nothing reaches the bot.
	big := bytes.Repeat([]byte{1}, 1<<20+1)
	if st, ans := r.upload(t, cu.UserID, "big", "image/jpeg", bytes.NewReader(big)); st != 413 || !strings.Contains(ans["error"], "1 MB") {
		t.Errorf("oversize: %d %v", st, ans)
	}
	if st, ans := r.upload(t, cu.UserID, "big", "image/jpeg", io.MultiReader(bytes.NewReader(big))); st != 413 || ans["error"] == "" {
		t.Errorf("oversize, chunked: %d %v", st, ans)
	}
	if st, _ := r.upload(t, cu.UserID, "empty", "image/png", strings.NewReader("")); st != 400 {
		t.Errorf("empty: %d", st)
	}
	if st, _ := r.upload(t, "Unobody", "x", "image/png", bytes.NewReader(pic)); st != 404 {
		t.Errorf("unknown customer: %d", st)
	}

	// The sample ID card.
	b, _ = json.Marshal(map[string]string{"userId": cu.UserID})
	resp, err = http.Post(r.url+"/sim/api/sample-id", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if _, im := nextImage(t, r.hook); resp.StatusCode != 200 || im.Id != ans["messageId"] {
		t.Fatalf("sample: %d %v %+v", resp.StatusCode, ans, im)
	}
	if ct, got := r.content(t, ans["messageId"]); ct != "image/png" || !bytes.Equal(got, SampleIDCard()) {
		t.Fatalf("sample content %q, %d bytes", ct, len(got))
	}

	// From Go, past the page's limit, and then as a blocked customer.
	id2, err := r.chat.SendImage(ctx, cu.UserID, big, "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	if _, im := nextImage(t, r.hook); im.Id != id2 {
		t.Fatalf("Go image %+v", im)
	}
	if ct, data, ok := r.api.Content(id2); !ok || ct != "image/jpeg" || len(data) != len(big) {
		t.Fatalf("stored %q %d %v", ct, len(data), ok)
	}
	if _, err := r.chat.SendImage(ctx, "Unobody", pic, ""); !errors.Is(err, ErrUnknownCustomer) {
		t.Errorf("unknown: %v", err)
	}
	r.chat.mu.Lock()
	r.chat.customerLocked(cu.UserID).Blocked = true
	r.chat.mu.Unlock()
	if _, err := r.chat.SendImage(ctx, cu.UserID, pic, ""); !errors.Is(err, ErrBlockedCustomer) {
		t.Errorf("blocked: %v", err)
	}

	// The conversation, as a page opened now gets it.
	_, entries := r.chat.snapshot()
	var got []string
	for _, e := range entries {
		if e.Kind == "image" {
			got = append(got, fmt.Sprintf("%s|%s|%d", e.Name, e.CType, e.Size))
			if e.MsgID == "" || e.Status != 200 {
				t.Errorf("entry %+v", e)
			}
		}
	}
	want := []string{fmt.Sprintf("card.png|image/png|%d", len(pic)), "notes.txt|text/plain|25", "x|image/gif|11",
		fmt.Sprintf("sample-id.png|image/png|%d", len(SampleIDCard())), fmt.Sprintf("|image/jpeg|%d", len(big))}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("image entries\n got %v\nwant %v", got, want)
	}
}

func TestImageEventWithType(t *testing.T) {
	a, _, _ := newTestAPI(t, APIOptions{})
	s := &Sender{API: a}
	ev := s.ImageEventWithType("U1", []byte("\x89PNG\r\n\x1a\n"), "image/jpeg")
	if ev.Type != "message" || ev.Message.Type != "image" || ev.Message.ContentProvider.Type != "line" || ev.Message.QuoteToken == "" {
		t.Fatalf("event %+v %+v", ev, ev.Message)
	}
	if ct, _, ok := a.Content(ev.Message.ID); !ok || ct != "image/jpeg" {
		t.Fatalf("declared type %q %v", ct, ok)
	}
	if ct, _, _ := a.Content(s.ImageEvent("U1", []byte("\x89PNG\r\n\x1a\n")).Message.ID); ct != "image/png" {
		t.Fatalf("sniffed type %q", ct)
	}
}

func TestSampleIDCard(t *testing.T) {
	b := SampleIDCard()
	b[0] = 0 // a copy: the next call is unharmed
	img, err := png.Decode(bytes.NewReader(SampleIDCard()))
	if err != nil {
		t.Fatal(err)
	}
	if sz := img.Bounds().Size(); sz.X != sampleCardW || sz.Y != sampleCardH {
		t.Fatalf("size %v", sz)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Error("the corner outside the card is not transparent")
	}
	red := 0
	for y := 0; y < sampleCardH; y++ {
		for x := 0; x < sampleCardW; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r > 0xc000 && g < 0x6000 && bl < 0x6000 {
				red++
			}
		}
	}
	if red < 2000 {
		t.Errorf("the SAMPLE stamp is missing (%d red pixels)", red)
	}
	if len(b) > 64<<10 {
		t.Errorf("sample card of %d bytes", len(b))
	}
}
