package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/bot/insight"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/flows"
)

// customer is one customer's data spread over the store the way the pipeline writes it; mark is put
// in everything the customer wrote or the bot said to them.
type customer struct {
	user, mark string
	t0         time.Time
}

func (c customer) seed(t *testing.T, s *Store, sl *request.Sealer, seq int64) {
	t.Helper()
	ctx := context.Background()
	at := func(min int) time.Time { return c.t0.Add(time.Duration(min) * time.Minute) }
	lines := []bot.TranscriptEntry{
		{ID: c.user + "-l1", UserID: c.user, Role: bot.RoleCustomer, Kind: "text", Text: "電話番号は 090-1111-2222 です " + c.mark, EventID: c.user + "-e1", At: at(0)},
		{ID: c.user + "-l2", UserID: c.user, Role: bot.RoleBot, Kind: "text", Text: "承りました " + c.mark, EventID: c.user + "-e1", At: at(1)},
		{ID: c.user + "-l3", UserID: c.user, Role: bot.RoleSystem, Kind: "system", At: at(2),
			System: &bot.SystemNote{What: "escalated", Reason: "complaint"}},
	}
	if err := s.AppendTranscript(ctx, lines...); err != nil {
		t.Fatal(err)
	}
	// The question the first line asked, in the review inbox (bot/insight): a copy of the words.
	q := insight.Question{Key: insight.QuestionKey(at(0), c.user+"-e1"), EventID: c.user + "-e1", UserID: c.user, At: at(0),
		Lang: "ja", Text: lines[0].Text, Intent: "none", Review: insight.StatusOpen, Reasons: []string{insight.ReasonUnanswered}}
	if err := s.RecordQuestion(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := s.flushQuestions(ctx); err != nil { // queued on the embedded engine: written now, for holders
		t.Fatal(err)
	}
	state := flows.State{Lang: flows.En, Flow: flows.FlowStaff,
		Handoff: flows.HandoffState{Category: "data", Description: "漏えいの件 " + c.mark},
		OptOut:  flows.OptOutData{Name: "岡山 花子 " + c.mark, Phone: "+819011112222", Email: "hanako@example.jp", Out: flows.ChanPhone}}
	if err := s.CommitStep(ctx, bot.Step{EventID: c.user + "-e1", UserID: c.user, Seq: 1, State: state, Lang: flows.En,
		Out: []bot.Message{{Text: "承りました " + c.mark}}, Plan: bot.PlanReply, EventAt: at(0), At: at(0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDelivery(ctx, bot.Delivery{EventID: c.user + "-e1", UserID: c.user, Status: bot.DeliverySent, Via: "reply", At: at(0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertConversations(ctx, []bot.Conversation{{UserID: c.user, Seq: 1, State: state, ProfileLang: flows.Ja, UpdatedAt: at(1)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEscalation(ctx, bot.Escalation{ID: c.user + "-x1", UserID: c.user, Name: "はなこ " + c.mark, Lang: flows.En,
		Reason: "complaint", Category: "data", Description: "漏えいの件 " + c.mark, Priority: "high", Status: bot.StatusClosed,
		EventID: c.user + "-e1", CreatedAt: at(2), ClosedAt: at(30), Resolution: "resolved", Version: 3}); err != nil {
		t.Fatal(err)
	}
	// The consent history and the request hold identifiers, not the chat's words: they stay.
	if err := s.InsertConsent(ctx, consent.Record{ID: c.user + "-e1/0", Seq: seq, Subject: consent.LINESubject(c.user),
		Action: flows.ConsentOptOut, Channels: flows.ChanPhone | flows.ChanMail, Phone: "+819011112222", Source: flows.SourceChat,
		WordingID: "optout.confirm", WordingLang: flows.Ja, WordingText: "電話と郵便をお止めします", Reference: "OPT-" + c.user,
		At: at(3), RecordedAt: at(3), EventID: c.user + "-e1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRequest(ctx, testRequest("R-"+c.user, c.user, "d1")); err != nil {
		t.Fatal(err)
	}
	for i, status := range []string{request.DocStored, request.DocRejected, request.DocFetching} {
		d := request.Document{ID: fmt.Sprintf("%s-doc%d", c.user, i), UserID: c.user, Draft: "d1", MessageID: "m", Seq: i + 1,
			Status: request.DocFetching, CreatedAt: at(4 + i)}
		if added, err := s.AddDocument(ctx, d); err != nil || !added {
			t.Fatalf("add document: %v %v", added, err)
		}
		d.Status = status
		switch status {
		case request.DocStored:
			sealed, err := sl.Seal([]byte("photo "+c.mark), "doc:"+d.ID)
			if err != nil {
				t.Fatal(err)
			}
			d.Sealed, d.KeyID, d.SHA256, d.Size, d.StoredAt = sealed, sl.KeyID(), "sum", 10, at(5)
		case request.DocRejected:
			d.Problem = "not_image"
		}
		if err := s.SaveDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCustomerDataIsTheCustomersOnly(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	sl := testSealer(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	a := customer{user: "Uaaaa0001", mark: "MARK-A", t0: t0}
	b := customer{user: "Ubbbb0002", mark: "MARK-B", t0: t0.Add(time.Hour)}
	a.seed(t, s, sl, 1)
	b.seed(t, s, sl, 2)

	got, err := s.CustomerData(ctx, a.user)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != a.user || got.Profile.Language != "en" {
		t.Fatalf("profile %+v", got.Profile)
	}
	if !got.Profile.FirstSeen.Equal(t0) || !got.Profile.LastSeen.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("first/last seen %v %v", got.Profile.FirstSeen, got.Profile.LastSeen)
	}
	wantFields := map[string]string{"optout.name": "岡山 花子 MARK-A", "optout.phone": "+819011112222",
		"optout.email": "hanako@example.jp", "handoff.description": "漏えいの件 MARK-A"}
	if fmt.Sprint(got.Profile.Fields) != fmt.Sprint(wantFields) {
		t.Fatalf("fields %v, want %v", got.Profile.Fields, wantFields)
	}
	if len(got.Transcript) != 3 || got.Transcript[0].Role != bot.RoleCustomer || !strings.Contains(got.Transcript[0].Text, "MARK-A") ||
		got.Transcript[2].Text != "escalated reason=complaint" {
		t.Fatalf("transcript %+v", got.Transcript)
	}
	if len(got.Consents) != 1 || got.Consents[0].Reference != "OPT-"+a.user || got.Consents[0].Wording != "電話と郵便をお止めします" ||
		got.Consents[0].Action != "optout" || fmt.Sprint(got.Consents[0].Channels) != fmt.Sprint(flows.Channels(flows.ChanPhone|flows.ChanMail).Names()) ||
		got.Consents[0].Phone != "+819011112222" {
		t.Fatalf("consents %+v", got.Consents)
	}
	if len(got.Escalations) != 1 || got.Escalations[0].ID != a.user+"-x1" || got.Escalations[0].Description != "漏えいの件 MARK-A" ||
		got.Escalations[0].Status != "closed" || got.Escalations[0].Resolution != "resolved" || got.Escalations[0].ClosedAt.IsZero() {
		t.Fatalf("escalations %+v", got.Escalations)
	}
	if strings.Contains(fmt.Sprintf("%+v", got), "MARK-B") || strings.Contains(fmt.Sprintf("%+v", got), b.user) {
		t.Fatal("another customer's data in the package")
	}

	none, err := s.CustomerData(ctx, "Unobody")
	if err != nil || len(none.Transcript) != 0 || none.Transcript == nil || none.Consents == nil || none.Escalations == nil ||
		none.Profile.Fields != nil || !none.Profile.FirstSeen.IsZero() {
		t.Fatalf("unknown customer: %+v, %v", none, err)
	}
}

// holders lists, per collection, the documents that hold needle anywhere in their stored form.
func holders(t *testing.T, s *Store, needle string) map[string]int {
	t.Helper()
	ctx := context.Background()
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, name := range names {
		cur, err := s.db.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			if bytes.Contains(cur.Current, []byte(needle)) {
				out[s.logicalName(name)]++
			}
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		_ = cur.Close(ctx)
	}
	return out
}

// byUserAnywhere counts, per collection, the documents keyed by or filed under the user.
func byUserAnywhere(t *testing.T, s *Store, userID string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	filter := bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "user", Value: userID}}, bson.D{{Key: "_id", Value: userID}},
		bson.D{{Key: "subject", Value: consent.LINESubject(userID)}}}}}
	out := map[string]int64{}
	for _, name := range names {
		n, err := s.db.Collection(name).CountDocuments(ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			out[s.logicalName(name)] += n
		}
	}
	return out
}

func TestEraseCustomerLeavesNothingOfTheChat(t *testing.T) {
	s, _ := openEmbedded(t) // sharded checkpoints and the write turn, as in production
	ctx := context.Background()
	sl := testSealer(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	a := customer{user: "Uerase0001", mark: "ERASE-ME-7f3a", t0: t0}
	b := customer{user: "Ukeep0002", mark: "KEEP-ME-19c4", t0: t0}
	a.seed(t, s, sl, 1)
	b.seed(t, s, sl, 2)
	if h := holders(t, s, a.mark); h[colTranscript] != 2 || h[colSteps] != 1 || h[colEscalations] != 1 {
		t.Fatalf("seeded marks %v", h)
	}
	keptBefore := holders(t, s, b.mark)

	counts, err := s.EraseCustomer(ctx, a.user)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{colTranscript: 3, colSteps: 1, colDeliveries: 1, colConversations: 1, colDocuments: 2, colEscalations: 1,
		colQuestions: 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("counts %v, want %v", counts, want)
	}

	// Nothing the customer wrote or was told is left, in any collection.
	if h := holders(t, s, a.mark); len(h) != 0 {
		t.Fatalf("the erased customer's words are still in %v", h)
	}
	// Only the records that must stay still name the customer.
	allowed := map[string]bool{colRequests: true, colConsentHistory: true, colEscalations: true, colDocuments: true}
	for name, n := range byUserAnywhere(t, s, a.user) {
		if !allowed[name] {
			t.Errorf("%d documents of the erased customer left in %s", n, name)
		}
	}
	for name := range holders(t, s, a.user) {
		if !allowed[name] {
			t.Errorf("the erased customer's ID is still in %s", name)
		}
	}
	if _, found, err := s.Conversation(ctx, a.user); err != nil || found {
		t.Fatalf("checkpoint after erasure: found=%v err=%v", found, err)
	}
	e, err := s.Escalation(ctx, a.user+"-x1")
	if err != nil || e.Description != "" || e.Name != "" || e.Status != bot.StatusClosed || e.Resolution != "resolved" ||
		e.Reason != "complaint" || !e.CreatedAt.Equal(t0.Add(2*time.Minute)) || e.Version != 4 {
		t.Fatalf("escalation after erasure %+v, %v", e, err)
	}
	docs, err := s.Documents(ctx, a.user, "d1")
	if err != nil || len(docs) != 3 {
		t.Fatalf("documents after erasure %+v, %v", docs, err)
	}
	for _, d := range docs {
		full, err := s.Document(ctx, d.ID)
		if err != nil || full.Sealed != nil {
			t.Fatalf("document %s keeps its bytes (%v)", d.ID, err)
		}
		switch d.Seq {
		case 1, 3:
			if full.Status != request.DocDeleted || full.DeletedAt.IsZero() || full.MessageID != "m" {
				t.Fatalf("document after erasure %+v", full)
			}
		case 2:
			if full.Status != request.DocRejected || full.Problem != "not_image" {
				t.Fatalf("rejected document changed %+v", full)
			}
		}
	}
	// The consent history and the request stay.
	data, err := s.CustomerData(ctx, a.user)
	if err != nil || len(data.Consents) != 1 || len(data.Transcript) != 0 || len(data.Escalations) != 1 ||
		data.Escalations[0].Description != "" || data.Profile.Fields != nil || data.Profile.Language != "" {
		t.Fatalf("customer data after erasure %+v, %v", data, err)
	}
	reqs, err := s.AllRequests(ctx)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("requests after erasure %d, %v", len(reqs), err)
	}

	// The other customer is untouched.
	if kept := holders(t, s, b.mark); fmt.Sprint(kept) != fmt.Sprint(keptBefore) {
		t.Fatalf("the other customer's data changed: %v, was %v", kept, keptBefore)
	}
	if d, err := s.Document(ctx, b.user+"-doc0"); err != nil || d.Status != request.DocStored || d.Sealed == nil {
		t.Fatalf("the other customer's document %+v, %v", d, err)
	}
	if _, found, _ := s.Conversation(ctx, b.user); !found {
		t.Fatal("the other customer's checkpoint is gone")
	}

	// Again: nothing left to erase.
	again, err := s.EraseCustomer(ctx, a.user)
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range again {
		if n != 0 {
			t.Fatalf("second erasure counted %d in %s", n, name)
		}
	}
	if len(again) != len(want) {
		t.Fatalf("second erasure counts %v", again)
	}
	if e, err := s.Escalation(ctx, a.user+"-x1"); err != nil || e.Version != 4 {
		t.Fatalf("second erasure touched the escalation: %+v, %v", e, err)
	}
}

// TestDocumentPlaintextNeverReachesTheFiles stores a sealed document and a sealed package file, as the
// service does, and reads every file of the data directory: the plaintext is in none, in any of the
// encodings the engine could use for it.
func TestDocumentPlaintextNeverReachesTheFiles(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, Config{DataDir: dir, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	sl := testSealer(t)
	marker := []byte("PLAINTEXT-IDENTITY-DOCUMENT-5b1e9c")
	noise := make([]byte, 4096)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	plain := append(append(append([]byte{}, marker...), noise...), marker...)

	d := request.Document{ID: "ev1/0", UserID: "U1", Draft: "d1", MessageID: "m1", Seq: 1, Status: request.DocFetching,
		CreatedAt: time.Now().UTC()}
	if _, err := s.AddDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	sealed, err := sl.Seal(plain, "doc:"+d.ID)
	if err != nil {
		t.Fatal(err)
	}
	d.Status, d.Sealed, d.KeyID, d.Size, d.StoredAt = request.DocStored, sealed, sl.KeyID(), len(plain), time.Now().UTC()
	if err := s.SaveDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	fileSealed, err := sl.Seal(plain, "file:R-1/f1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddFile(ctx, request.StoredFile{ID: "R-1/f1", Request: "R-1", Sealed: fileSealed, KeyID: sl.KeyID(),
		FileInfo: request.FileInfo{ID: "f1", Name: "data.bin", Size: len(plain)}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Document(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if opened, err := sl.Open(got.Sealed, got.KeyID, "doc:"+d.ID); err != nil || !bytes.Equal(opened, plain) {
		t.Fatalf("document does not open: %v", err)
	}
	s.Close(ctx) // every write on disk

	forbidden := map[string][]byte{
		"raw":    marker,
		"base64": []byte(base64.StdEncoding.EncodeToString(plain)[:48]),
		"hex":    []byte(hex.EncodeToString(plain)[:48]),
	}
	// The sealed value itself must be found, or the search looks in the wrong place.
	control := map[string][]byte{
		"raw":    sealed[16:64],
		"base64": []byte(base64.StdEncoding.EncodeToString(sealed)[:48]),
	}
	found := map[string]bool{}
	files := 0
	err = filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for enc, needle := range forbidden {
			if bytes.Contains(b, needle) {
				t.Errorf("the document's plaintext (%s) is in %s", enc, path)
			}
		}
		for enc, needle := range control {
			if bytes.Contains(b, needle) {
				found[enc] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 || len(found) == 0 {
		t.Fatalf("the sealed document was not found in %d files under %s: the scan proves nothing", files, dir)
	}
}
