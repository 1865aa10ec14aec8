package linesim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// echoBot replies to text events with the text and a quick reply.
func echoBot(t *testing.T, api *messaging_api.MessagingApiAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb, err := webhook.ParseRequest(testSecret, r)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, ev := range cb.Events {
			me, ok := ev.(webhook.MessageEvent)
			if !ok {
				continue
			}
			tm := me.Message.(webhook.TextMessageContent)
			_, err := api.ReplyMessage(&messaging_api.ReplyMessageRequest{ReplyToken: me.ReplyToken,
				Messages: []messaging_api.MessageInterface{messaging_api.TextMessage{Text: "echo " + tm.Text,
					QuickReply: &messaging_api.QuickReply{Items: []messaging_api.QuickReplyItem{
						{Action: messaging_api.PostbackAction{Label: "やめる", Data: "optout", DisplayText: "配信停止"}}}}}}})
			if err != nil {
				t.Errorf("reply: %v", err)
			}
		}
	})
}

type sse struct {
	event string
	data  map[string]any
}

func readSSE(t *testing.T, body io.Reader, out chan<- sse) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ev string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev = line[7:]
		case strings.HasPrefix(line, "data: "):
			var m map[string]any
			if err := json.Unmarshal([]byte(line[6:]), &m); err != nil {
				t.Errorf("bad SSE data %q", line)
			}
			out <- sse{ev, m}
		}
	}
	close(out)
}

func TestChatRoundTrip(t *testing.T) {
	api, apiSrv, _ := newTestAPI(t, APIOptions{Now: time.Now})
	bot := httptest.NewServer(echoBot(t, sdkClient(t, apiSrv.URL)))
	defer bot.Close()
	sender := &Sender{BotURL: bot.URL, ChannelSecret: testSecret, Destination: "Ubot", API: api}
	chat := NewChat(api, sender, ChatOptions{})
	srv := httptest.NewServer(chat)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/sim/")
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("page: %v %v", resp, err)
	}
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/sim/api/stream", nil)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	events := make(chan sse, 64)
	go readSSE(t, stream.Body, events)
	next := func(want string) sse {
		for {
			select {
			case e, ok := <-events:
				if !ok {
					t.Fatalf("stream ended waiting for %s", want)
				}
				if e.event == want {
					return e
				}
			case <-ctx.Done():
				t.Fatalf("timeout waiting for %s", want)
			}
		}
	}
	next("ready")

	postJSON := func(path string, v any) map[string]any {
		b, _ := json.Marshal(v)
		r, err := http.Post(srv.URL+"/sim/api/"+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, r.StatusCode, m)
		}
		return m
	}
	cu := postJSON("customers", map[string]string{"language": "en"})["customer"].(map[string]any)
	uid := cu["userId"].(string)
	if c := next("customer"); c.data["userId"] != uid || c.data["language"] != "en" {
		t.Errorf("customer event %v", c.data)
	}
	if e := next("entry"); e.data["kind"] != "follow" {
		t.Errorf("follow entry %v", e.data)
	}
	if s := next("status"); s.data["status"] != float64(200) {
		t.Errorf("status %v", s.data)
	}

	postJSON("text", map[string]string{"userId": uid, "text": "<b>hi</b>"})
	if e := next("entry"); e.data["from"] != "user" || e.data["text"] != "<b>hi</b>" {
		t.Errorf("user entry %v", e.data)
	}
	bot1 := next("entry")
	if bot1.data["from"] != "bot" || bot1.data["kind"] != "reply" || !strings.Contains(mustJSON(bot1.data["messages"]), "echo \\u003cb\\u003ehi") {
		t.Errorf("bot entry %v", bot1.data)
	}

	postJSON("postback", map[string]string{"userId": uid, "data": "optout", "displayText": "配信停止"})
	if e := next("entry"); e.data["kind"] != "postback" || e.data["data"] != "optout" {
		t.Errorf("postback entry %v", e.data)
	}
	postJSON("follow", map[string]any{"userId": uid, "follow": false})
	if c := next("customer"); c.data["blocked"] != true || !api.Blocked(uid) {
		t.Errorf("block %v", c.data)
	}
	postJSON("profile", map[string]any{"userId": uid, "language": "ja"})
	if p, _ := api.Profile(uid); p.Language != "ja" {
		t.Errorf("profile %+v", p)
	}
	if got := chat.Customers(); len(got) != 1 || !got[0].Blocked {
		t.Errorf("customers %+v", got)
	}

	// A page opened later gets the history replayed.
	req2, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/sim/api/stream", nil)
	s2, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Body.Close()
	ev2 := make(chan sse, 64)
	go readSSE(t, s2.Body, ev2)
	var kinds []string
	for e := range ev2 {
		if e.event == "ready" {
			break
		}
		if e.event == "entry" {
			kinds = append(kinds, e.data["kind"].(string))
		}
	}
	if strings.Join(kinds, ",") != "follow,text,reply,postback,unfollow" {
		t.Errorf("replay %v", kinds)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestChatAssetsAvoidHTMLInjection guards the rule that message content is
// never parsed as HTML by the page.
func TestChatAssetsAvoidHTMLInjection(t *testing.T) {
	err := fs.WalkDir(chatFiles, "chatpage", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, _ := chatFiles.ReadFile(p)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s uses %s", p, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
