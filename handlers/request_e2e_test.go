package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/linesim"
)

// lockedBuffer is a log sink the test reads afterwards.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// requestBot is the bot under test with the request service and the consent history wired as in
// production, and what its pipeline and request service logged at info level.
type requestBot struct {
	*harness
	svc  *request.Service
	cons *consent.Consents
	logs *lockedBuffer
}

// requestHarness starts the bot with the request service wired as in production: its effect sink,
// the steps' desk, the raiser, and the document fetcher reading the simulator's content endpoint.
func requestHarness(t *testing.T) *requestBot {
	t.Helper()
	api := linesim.NewAPI(linesim.APIOptions{AccessToken: testToken})
	content := httptest.NewServer(api) // the data endpoint (the same fake platform)
	t.Cleanup(content.Close)
	key := bytes.Repeat([]byte{7}, 32)
	sealer, err := request.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	var svc *request.Service
	var cons *consent.Consents
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	raiser := &bot.Raiser{Now: time.Now, Log: quietLog()}
	h := newHarness(t, harnessOpts{api: api, procTweak: func(cfg *bot.Config) {
		st := cfg.Journal.(interface {
			request.Store
			request.Holdings
			bot.Inboxer
		})
		raiser.Inbox = st
		svc = request.New(request.Config{Store: st, Holdings: st, Sealer: sealer, Raiser: raiser,
			Content: bot.NewContentClient(testToken, content.URL, nil), Location: time.FixedZone("JST", 9*3600),
			FetchBackoff: 10 * time.Millisecond, BaseURL: "https://desk.example", Log: log})
		cfg.Log = log
		if err := svc.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		rend, err := bot.NewRenderer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if cons, err = consent.Open(context.Background(), st.(consent.Store), consent.Options{Render: rend.Text, Log: quietLog()}); err != nil {
			t.Fatal(err)
		}
		cfg.Effects, cfg.Requests = bot.EffectSinks{cons, svc}, svc
	}})
	raiser.SetDispatcher(h.proc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &requestBot{harness: h, svc: svc, cons: cons, logs: logs}
}

// chat is one customer talking to the harness: it sends, waits for the answers, and taps chips by
// their label as a customer would.
type chat struct {
	h    *harness
	user string
	seen int
	last []linesim.Delivered
}

func (c *chat) wait(n int) []string {
	c.h.t.Helper()
	ds := c.h.waitDeliveries(c.user, c.seen+n)
	c.last = ds[c.seen:]
	c.seen = len(ds)
	return texts(c.last)
}

func (c *chat) say(text string, answers int) string {
	c.h.t.Helper()
	c.h.send(c.h.sender.TextEvent(c.user, text))
	return strings.Join(c.wait(answers), "\n")
}

// tap sends the postback of the chip labelled label in the last answer.
func (c *chat) tap(label string, answers int) string {
	c.h.t.Helper()
	return c.post(c.chip(label), answers)
}

func (c *chat) post(data string, answers int) string {
	c.h.t.Helper()
	c.h.send(c.h.sender.PostbackEvent(c.user, data))
	return strings.Join(c.wait(answers), "\n")
}

// chip returns the data of the chip labelled label in the last answer.
func (c *chat) chip(label string) string {
	c.h.t.Helper()
	for i := len(c.last) - 1; i >= 0; i-- {
		for _, m := range c.last[i].Messages {
			var v struct {
				QuickReply struct {
					Items []struct {
						Action struct{ Label, Data string } `json:"action"`
					} `json:"items"`
				} `json:"quickReply"`
			}
			_ = json.Unmarshal(m, &v)
			for _, it := range v.QuickReply.Items {
				if it.Action.Label == label && it.Action.Data != "" {
					return it.Action.Data
				}
			}
		}
	}
	c.h.t.Fatalf("no chip %q in %q", label, texts(c.last))
	return ""
}

var refRe = regexp.MustCompile(`R-\d{8}-\d{4}`)

// The whole flow through /callback: a customer asks for disclosure in Japanese, sends a photo of their
// ID (fetched from the simulator's content endpoint, which fails at first), confirms, and gets a
// reference number and a due date; the photo is stored sealed, and its bytes are nowhere in the
// store's files.
func TestRequestFlowEndToEnd(t *testing.T) {
	rb := requestHarness(t)
	h, svc := rb.harness, rb.svc
	c := &chat{h: h, user: "U" + strings.Repeat("e2", 16)}
	c.say("開示請求したい", 1)
	c.tap("選択完了", 1)
	c.tap("ご本人", 1)
	c.say("山田 花子", 1)
	c.say("岡山県岡山市北区今2-6-10", 1)
	c.say("090-1234-5678", 1) // then what to hide, and the photo request
	marker := []byte("E2E-ID-PHOTO-MARKER")
	img := append(linesim.SampleIDCard(), marker...)
	h.api.SetContentFault(linesim.ContentFault{Status: 500, Count: 2}) // LINE fails twice
	h.send(h.sender.ImageEventWithType(c.user, img, "image/png"))
	if got := strings.Join(c.wait(1), "\n"); !strings.Contains(got, "1枚目") {
		t.Fatalf("after the photo: %q", got)
	}
	c.tap("送信完了", 1)
	c.tap("電子で受け取る", 1) // the summary
	confirm := c.chip("この内容で申請")
	got := c.post(confirm, 2)
	ref := refRe.FindString(got)
	if ref == "" || !strings.Contains(got, "回答期限") {
		t.Fatalf("no reference and due date after confirming: %q", got)
	}
	r, err := svc.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kinds != flows.KindDisclosure || r.Requester != flows.RequesterSelf || r.Name != "山田 花子" ||
		r.Phone != "+819012345678" || r.Delivery != flows.DeliveryElectronic || r.Lang != flows.Ja || r.WordingID == "" {
		t.Errorf("request = %+v", r)
	}
	waitFor(t, "the photo to be stored", func() bool {
		docs, _ := svc.Documents(context.Background(), ref)
		return len(docs) == 1 && docs[0].Status == request.DocStored
	})
	doc, plain, err := svc.OpenDocument(context.Background(), ref, mustDocs(t, svc, ref)[0].ID)
	if err != nil || !bytes.Equal(plain, img) || doc.ContentType != "image/png" {
		t.Fatalf("document: %v", err)
	}
	// A double tap on confirm creates nothing new.
	c.post(confirm, 1)
	if n := len(svc.ForUser(c.user)); n != 1 {
		t.Errorf("%d requests after a double tap", n)
	}
	// 申請状況 lists it.
	if got := c.say("申請状況", 1); !strings.Contains(got, ref) {
		t.Errorf("status: %q", got)
	}
	h.settle()
	h.stop()
	// Nothing personal is logged at info level: not the photo, the name, the address or the phone.
	logged := rb.logs.String()
	for _, secret := range []string{string(marker), "山田", "花子", "岡山市北区今", "090-1234-5678", "+819012345678", "9012345678"} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	// The photo's bytes appear nowhere in the embedded engine's files (they are sealed), and the
	// transcript has only a placeholder for it.
	_ = filepath.Walk(engineDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, marker) {
			t.Errorf("the photo's bytes are in %s", p)
		}
		return nil
	})
}

func mustDocs(t *testing.T, svc *request.Service, ref string) []request.Document {
	t.Helper()
	docs, err := svc.Documents(context.Background(), ref)
	if err != nil || len(docs) == 0 {
		t.Fatalf("documents of %s: %v", ref, err)
	}
	return docs
}
