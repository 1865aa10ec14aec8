package request_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
)

// TestPackageHoldsWhatTheCustomerToldInTheirRequests: the package lists each of the customer's own
// requests with what they told the desk in it (identity, representative, details, how documents and
// answer go, the summary they confirmed as its catalog ID and data for the pages to word) and the
// metadata of its documents, never their content, and nothing of another customer's.
func TestPackageHoldsWhatTheCustomerToldInTheirRequests(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, requesttest.Tokyo)
	doc := func(id, user, draft string, seq int, status string) request.Document {
		return request.Document{ID: id, UserID: user, Draft: draft, MessageID: "mid-" + id, Seq: seq, Status: status,
			ContentType: "image/jpeg", Size: 1234, SHA256: "digest-" + id, KeyID: "key", CreatedAt: at,
			Sealed: []byte("SEALED-" + id)}
	}
	gone := doc("a-2", "U-alice", "D-alice", 2, request.DocDeleted)
	gone.DeletedAt, gone.Sealed = at.Add(48*time.Hour), nil
	d := requesttest.NewDesk(t, request.Config{}, requesttest.Documents(doc("a-1", "U-alice", "D-alice", 1, request.DocStored), gone,
		doc("b-1", "U-bob", "D-bob", 1, request.DocStored)))
	alice := d.Submit(t, "U-alice", flows.RequestSubmission{Draft: "D-alice",
		Kinds: flows.KindDisclosure | flows.KindCorrection | flows.KindSuspension, Correction: "旧姓のままです",
		Target: "請求書の宛名", Ground: flows.GroundOther, GroundText: "結婚したため", Requester: flows.RequesterLegal,
		RepKind: flows.RepGuardian, RepName: "後見 一郎", Name: "岡山 花子", Address: "岡山市北区1-2-3", Phone: "+819011112222",
		WordingData: map[string]string{"Name": "岡山 花子"}})
	bob := d.Submit(t, "U-bob", flows.RequestSubmission{Draft: "D-bob", Name: "Bob Smith", Address: "Kita-ku 9",
		Phone: "+819099998888", Lang: flows.En})
	officer := request.Actor{Kind: request.ActorStaff, ID: "privacy@enemane.example", Name: "佐藤"}
	if _, err := d.AttachFile(ctx, alice.ID, "bill.pdf", "application/pdf", []byte("%PDF-1.4 bill"), officer); err != nil {
		t.Fatal(err)
	}

	p, err := d.PackageFor(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Language != "ja" || len(p.Requests) != 1 {
		t.Fatalf("package %+v", p)
	}
	o := p.Requests[0]
	if o.Reference != alice.ID || o.Name != "岡山 花子" || o.Address != "岡山市北区1-2-3" || o.Phone != "+819011112222" ||
		o.Requester != "legal_representative" || o.RepresentativeKind != "guardian" || o.RepresentativeName != "後見 一郎" ||
		o.Correction != "旧姓のままです" || o.Target != "請求書の宛名" || o.Ground != "other" || o.GroundText != "結婚したため" ||
		o.DocumentsBy != "post" || o.Delivery != "electronic" || o.Language != "ja" ||
		o.WordingID != "request.summary" || o.WordingData["Name"] != "岡山 花子" {
		t.Errorf("the request as the package lists it: %+v", o)
	}
	if len(o.Documents) != 2 || o.Documents[0] != (request.DocumentInfo{Number: 1, Status: request.DocStored, ContentType: "image/jpeg",
		Size: 1234, ReceivedAt: at}) || o.Documents[1].Status != request.DocDeleted || !o.Documents[1].DeletedAt.Equal(at.Add(48*time.Hour)) {
		t.Errorf("documents %+v", o.Documents)
	}
	if len(p.Files) != 1 || p.Files[0].Name != "bill.pdf" || p.Files[0].SHA256 == "" {
		t.Errorf("files %+v", p.Files)
	}

	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	for _, never := range []string{"SEALED-", "mid-a-1", "digest-a-1", "privacy@enemane.example", "addedBy", "AddedBy",
		"wordingId", "request.summary", "Bob Smith", "+819099998888", bob.ID, "b-1"} {
		if strings.Contains(s, never) {
			t.Errorf("the package's JSON carries %q", never)
		}
	}
	for _, key := range regexp.MustCompile(`"([A-Za-z0-9_]+)":`).FindAllStringSubmatch(s, -1) {
		if !regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`).MatchString(key[1]) {
			t.Errorf("key %q is not lowerCamel", key[1])
		}
	}

	// Bob's package is his own.
	pb, err := d.PackageFor(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if pb.Language != "en" || len(pb.Requests) != 1 || pb.Requests[0].Name != "Bob Smith" || len(pb.Requests[0].Documents) != 1 ||
		pb.Requests[0].Documents[0].Number != 1 || len(pb.Files) != 0 {
		t.Errorf("Bob's package %+v", pb)
	}

	// A request with nothing to disclose has no package.
	fix := d.Submit(t, "U-carol", flows.RequestSubmission{Kinds: flows.KindCorrection, Correction: "x"})
	if _, err := d.PackageFor(ctx, fix.ID); !errors.Is(err, request.ErrNoPackage) {
		t.Errorf("a correction's package: %v", err)
	}
}
