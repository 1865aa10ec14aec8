package request_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"sync"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
)

// content is LINE's content endpoint: per message, the answers to give in turn (the last repeats).
type content struct {
	mu      sync.Mutex
	answers map[string][]answer
	calls   map[string]int
	clock   *requesttest.Clock
	step    time.Duration // each call moves the clock (a slow endpoint)
}

type answer struct {
	data    []byte
	outcome bot.Outcome
	large   bool
}

func (c *content) MessageContent(_ context.Context, id string, _ int64) (bot.Content, bot.CallResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	as := c.answers[id]
	a := as[min(c.calls[id], len(as)-1)]
	c.calls[id]++
	if c.step > 0 {
		c.clock.Add(c.step)
	}
	return bot.Content{Data: a.data, TooLarge: a.large}, bot.CallResult{Outcome: a.outcome, Status: map[bot.Outcome]int{
		bot.Accepted: 200, bot.Retryable: 500, bot.Permanent: 404}[a.outcome]}
}

func pngBytes(t *testing.T, marker string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return append(b.Bytes(), marker...) // trailing bytes after IEND: still a PNG by its signature
}

// send applies the document effect of a photo and runs the fetcher until the document is decided.
func send(t *testing.T, d *requesttest.Desk, user, draft, mid string, seq int) request.Document {
	t.Helper()
	st := bot.Step{EventID: "ev-" + mid, UserID: user, Effects: []flows.Effect{{Kind: flows.EffectRequestDocument,
		Document: &flows.DocumentUpload{Draft: draft, MessageID: mid, Seq: seq}}}}
	if err := d.Apply(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	id := "ev-" + mid + ".0"
	var decided request.Document
	// Decided: stored, or refused and the customer told (the notice follows the refusal's save).
	d.Await(t, "document "+id+" to be decided", func() bool {
		for _, doc := range d.Store.Docs() {
			if doc.ID != id || doc.Status == request.DocFetching {
				continue
			}
			decided = doc
			if doc.Status == request.DocStored {
				return true
			}
			for _, e := range d.Raiser.Events() {
				if e.ID == "doc-"+id {
					return true
				}
			}
		}
		return false
	})
	return decided
}

func runDesk(t *testing.T, c *content) *requesttest.Desk {
	d := requesttest.NewDesk(t, request.Config{Content: c, FetchBackoff: time.Millisecond, FetchFor: time.Minute, MaxDocuments: 2})
	c.clock = d.Clock
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func TestDocumentFetchedWithRetriesCheckedAndSealed(t *testing.T) {
	img := pngBytes(t, "SECRET-MARKER-運転免許証")
	c := &content{answers: map[string][]answer{
		"m1": {{outcome: bot.Retryable}, {outcome: bot.Retryable}, {data: img, outcome: bot.Accepted}},
	}}
	d := runDesk(t, c)
	r := d.Submit(t, "U1", flows.RequestSubmission{Draft: "D1", DocsBy: flows.DocsLater})
	doc := send(t, d, "U1", "D1", "m1", 1)
	if doc.Status != request.DocStored || doc.ContentType != "image/png" || doc.Size != len(img) || len(doc.SHA256) != 64 {
		t.Fatalf("document = %+v", doc)
	}
	if c.calls["m1"] != 3 {
		t.Errorf("%d attempts, want 3", c.calls["m1"])
	}
	if bytes.Contains(doc.Sealed, []byte("SECRET-MARKER")) || bytes.Contains(doc.Sealed, img[:16]) {
		t.Error("the stored bytes are not encrypted")
	}
	got, plain, err := d.OpenDocument(context.Background(), r.ID, doc.ID)
	if err != nil || !bytes.Equal(plain, img) || got.Sealed != nil {
		t.Fatalf("open: %v, equal %v", err, bytes.Equal(plain, img))
	}
	// The request waited for documents: it is back to received, and the customer was told.
	d.Await(t, "the customer to be told", func() bool { return d.Raiser.Last().Notice.What == flows.NoticeStatus })
	after, _ := d.Get(r.ID)
	if after.Status != flows.StatusReceived {
		t.Errorf("status = %s", after.Status)
	}
	if n := d.Raiser.Last().Notice; n.Status != flows.StatusReceived || n.What != flows.NoticeStatus {
		t.Errorf("notice = %+v", n)
	}
	// A sealed document copied onto another record does not open (bound to its ID).
	other := doc
	other.ID = "copy"
	if err := d.Store.SaveDocument(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.OpenDocument(context.Background(), r.ID, "copy"); err == nil {
		t.Error("a copied sealed value opened")
	}
}

func TestDocumentsThatCannotBeUsed(t *testing.T) {
	cases := []struct {
		name    string
		answers []answer
		problem string
	}{
		{"HTML sent as an image", []answer{{data: []byte("<!doctype html><script>alert(1)</script>"), outcome: bot.Accepted}}, flows.DocNotImage},
		{"20 MB image", []answer{{large: true, outcome: bot.Accepted}}, flows.DocTooLarge},
		{"content gone at LINE", []answer{{outcome: bot.Permanent}}, flows.DocFetchFailed},
		{"endpoint failing past the window", []answer{{outcome: bot.Retryable}}, flows.DocFetchFailed},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mid := fmt.Sprintf("m%d", i)
			c := &content{answers: map[string][]answer{mid: tc.answers}, step: 20 * time.Second}
			d := runDesk(t, c)
			doc := send(t, d, "U1", "D1", mid, 3)
			if doc.Status != request.DocRejected || doc.Problem != tc.problem || doc.Sealed != nil {
				t.Fatalf("document = %+v", doc)
			}
			n := d.Raiser.Last().Notice
			if n.What != flows.NoticeDocument || n.Seq != 3 || n.Problem != tc.problem || n.Draft != "D1" {
				t.Errorf("notice = %+v", n)
			}
		})
	}
}

func TestTooManyDocuments(t *testing.T) {
	img := pngBytes(t, "")
	c := &content{answers: map[string][]answer{"a": {{data: img, outcome: bot.Accepted}},
		"b": {{data: img, outcome: bot.Accepted}}, "c": {{data: img, outcome: bot.Accepted}}}}
	d := runDesk(t, c) // MaxDocuments 2
	for i, mid := range []string{"a", "b"} {
		if doc := send(t, d, "U1", "D1", mid, i+1); doc.Status != request.DocStored {
			t.Fatalf("photo %d: %+v", i+1, doc)
		}
	}
	if doc := send(t, d, "U1", "D1", "c", 3); doc.Problem != flows.DocTooMany {
		t.Errorf("third photo: %+v", doc)
	}
}

func TestSealerKeys(t *testing.T) {
	key, err := request.ParseKey("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := request.NewSealer(key)
	sealed, _ := s.Seal([]byte("x"), "doc:1")
	other, _ := request.NewSealer(bytes.Repeat([]byte{1}, 32))
	if _, err := other.Open(sealed, s.KeyID(), "doc:1"); err == nil {
		t.Error("another key opened it")
	}
	if _, err := s.Open(sealed, other.KeyID(), "doc:1"); err != request.ErrWrongKey {
		t.Errorf("wrong key ID: %v", err)
	}
	if _, err := request.ParseKey("c2hvcnQ="); err == nil {
		t.Error("a short key was accepted")
	}
	dir := t.TempDir()
	k1, file, created, err := request.LocalKey(dir)
	if err != nil || !created {
		t.Fatal(err, created)
	}
	k2, _, created, err := request.LocalKey(dir)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Errorf("second read: %v created=%v", err, created)
	}
	_ = file
}

// A request whose only photo is refused waits for documents, whether the refusal came before the
// customer confirmed or after; the desk's own moves are audited.
func TestRequestWithNoUsablePhotoWaitsForDocuments(t *testing.T) {
	html := []byte("<!doctype html><p>not a photo</p>")
	c := &content{answers: map[string][]answer{"before": {{data: html, outcome: bot.Accepted}},
		"after": {{data: html, outcome: bot.Accepted}}}}
	d := runDesk(t, c)
	send(t, d, "U1", "D1", "before", 1) // refused before the request is submitted
	r := d.Submit(t, "U1", flows.RequestSubmission{Draft: "D1", DocsBy: flows.DocsChat, Documents: 1})
	if r.Status != flows.StatusDocumentsNeeded {
		t.Errorf("submitted with only a refused photo: %s", r.Status)
	}
	// Submitted with a photo still being fetched, which is then refused.
	st := bot.Step{EventID: "ev-after", UserID: "U2", Effects: []flows.Effect{{Kind: flows.EffectRequestDocument,
		Document: &flows.DocumentUpload{Draft: "D2", MessageID: "after", Seq: 1}}}}
	c.mu.Lock() // hold the fetcher until the request is in
	if err := d.Apply(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	r2 := d.Submit(t, "U2", flows.RequestSubmission{Draft: "D2", DocsBy: flows.DocsChat, Documents: 1})
	c.mu.Unlock()
	if r2.Status != flows.StatusReceived {
		t.Fatalf("submitted while the photo was being fetched: %s", r2.Status)
	}
	d.Await(t, "the request to wait for documents, audited", func() bool {
		got, _ := d.Get(r2.ID)
		return got.Status == flows.StatusDocumentsNeeded && d.Audit.Count(request.AuditAutomatic) == 1
	})
	if n := d.Audit.Count(request.AuditAutomatic); n != 1 {
		t.Errorf("%d automatic moves audited", n)
	}
}
