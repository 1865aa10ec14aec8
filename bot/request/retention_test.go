package request_test

import (
	"context"
	"testing"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/enemane/privacybot/bot/request/requesttest"
	"github.com/enemane/privacybot/flows"
)

const month = 30 * 24 * time.Hour

// sweepAt runs one kind's sweep with the cutoff the period gives at the desk's clock.
func sweepAt(t *testing.T, d *requesttest.Desk, kind flows.DataKind, keep time.Duration) int64 {
	t.Helper()
	n, err := d.Sweep(context.Background(), kind, d.Clock.Now().Add(-keep))
	if err != nil {
		t.Fatalf("sweep %s: %v", kind, err)
	}
	return n
}

// Identity documents are deleted a fixed time after the identity decision; their metadata stays, the
// request records it, and sweeping again (or at once twice) deletes nothing more. Photos of a request
// never submitted go the same time after they arrived; an undecided request keeps its photos.
func TestDocumentsDeletedOnSchedule(t *testing.T) {
	img := pngBytes(t, "")
	c := &content{answers: map[string][]answer{"a": {{data: img, outcome: bot.Accepted}},
		"b": {{data: img, outcome: bot.Accepted}}, "draft": {{data: img, outcome: bot.Accepted}}}}
	d := runDesk(t, c)
	decided := d.Submit(t, "U1", flows.RequestSubmission{Draft: "D1", DocsBy: flows.DocsLater})
	d.Submit(t, "U2", flows.RequestSubmission{Draft: "D2", DocsBy: flows.DocsLater})
	send(t, d, "U1", "D1", "a", 1)
	send(t, d, "U2", "D2", "b", 1)
	send(t, d, "U3", "D3", "draft", 1) // a draft the customer never submits
	walk(t, d, decided.ID, flows.StatusVerified)

	d.Clock.Add(29 * 24 * time.Hour)
	if n := sweepAt(t, d, flows.DataDocuments, month); n != 0 {
		t.Fatalf("deleted %d before the period ended", n)
	}
	d.Clock.Add(2 * 24 * time.Hour)
	results := make(chan int64, 2)
	for range 2 {
		go func() {
			n, _ := d.Sweep(context.Background(), flows.DataDocuments, d.Clock.Now().Add(-month))
			results <- n
		}()
	}
	if n := <-results + <-results; n != 2 {
		t.Errorf("two sweeps at once deleted %d documents, want 2 (the decided request's and the draft's)", n)
	}
	if n := sweepAt(t, d, flows.DataDocuments, month); n != 0 {
		t.Errorf("a third sweep deleted %d", n)
	}
	docs := d.Store.Docs()
	if len(docs) != 2 {
		t.Fatalf("documents left %+v", docs)
	}
	for _, doc := range docs {
		switch doc.Draft {
		case "D1":
			if doc.Status != request.DocDeleted || doc.Sealed != nil || doc.DeletedAt.IsZero() || doc.SHA256 == "" {
				t.Errorf("decided request's document: %+v", doc)
			}
		case "D2":
			if doc.Status != request.DocStored || doc.Sealed == nil {
				t.Errorf("an undecided request's document was deleted: %s", doc.Status)
			}
		default:
			t.Errorf("the unsubmitted draft's photo is still there: %+v", doc)
		}
	}
	r, _ := d.Get(decided.ID)
	if last := r.History[len(r.History)-1]; last.What != request.ChangeDocsGone {
		t.Errorf("history ends with %+v", last)
	}
}

// The files attached to a data package go once the request is closed and its link has expired; the
// request itself goes the requests' period after it was closed, with its documents and files, and
// leaves the desk's index. Open requests stay however old.
func TestPackagesAndRequestsDeletedOnSchedule(t *testing.T) {
	d := requesttest.NewDesk(t, request.Config{LinkDays: 14}, requesttest.Documents(request.Document{ID: "doc-1",
		UserID: "U1", Draft: "D1", Seq: 1, Status: request.DocDeleted, CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, requesttest.Tokyo)}))
	done := d.Submit(t, "U1", flows.RequestSubmission{Draft: "D1", Kinds: flows.KindDisclosure,
		Delivery: flows.DeliveryElectronic, DocsBy: flows.DocsLater})
	open := d.Submit(t, "U2", flows.RequestSubmission{Draft: "D2", Kinds: flows.KindDisclosure,
		Delivery: flows.DeliveryElectronic, DocsBy: flows.DocsLater})
	staffer := request.Actor{Kind: request.ActorStaff, ID: "privacy@enemane.example", Name: "佐藤"}
	for _, ref := range []string{done.ID, open.ID} {
		if _, err := d.AttachFile(ctx, ref, "bill.pdf", "application/pdf", []byte("%PDF-1.4 "+ref), staffer); err != nil {
			t.Fatal(err)
		}
	}
	walk(t, d, done.ID, flows.StatusVerified, flows.StatusInProgress, flows.StatusCompleted)
	const years5 = 5 * 365 * 24 * time.Hour

	d.Clock.Add(10 * 24 * time.Hour) // the link still works
	if n := sweepAt(t, d, flows.DataPackages, 14*24*time.Hour); n != 0 || d.Store.Files() != 2 {
		t.Fatalf("files deleted while the link works: %d", n)
	}
	d.Clock.Add(6 * 24 * time.Hour) // past the link's last day
	if n := sweepAt(t, d, flows.DataPackages, 14*24*time.Hour); n != 1 || d.Store.Files() != 1 {
		t.Fatalf("files deleted after the link expired: %d, left %d", n, d.Store.Files())
	}
	if n := sweepAt(t, d, flows.DataPackages, 14*24*time.Hour); n != 0 {
		t.Errorf("a second package sweep deleted %d", n)
	}
	if r, _ := d.Get(done.ID); r.History[len(r.History)-1].What != request.ChangeFilesGone {
		t.Errorf("history ends with %+v", r.History[len(r.History)-1])
	}

	if n := sweepAt(t, d, flows.DataRequests, years5); n != 0 {
		t.Fatalf("requests deleted before their period: %d", n)
	}
	d.Clock.Add(years5)
	if n := sweepAt(t, d, flows.DataRequests, years5); n != 1 {
		t.Fatalf("requests deleted after five years: %d, want 1", n)
	}
	if _, err := d.Get(done.ID); err == nil {
		t.Error("the deleted request is still in the index")
	}
	if got := d.ForUser("U1"); len(got) != 0 {
		t.Errorf("the customer's requests after deletion %+v", got)
	}
	if d.Store.Request(done.ID).ID != "" || len(d.Store.Docs()) != 0 {
		t.Errorf("the request's record or documents are still stored")
	}
	if _, err := d.Get(open.ID); err != nil || d.Store.Files() != 1 {
		t.Errorf("the open request or its file went: %v", err)
	}
	if n := sweepAt(t, d, flows.DataRequests, years5); n != 0 {
		t.Errorf("a second request sweep deleted %d", n)
	}
	if got := d.Audit.Of(request.AuditRequestDeleted); len(got) != 1 || got[0] != done.ID+" " {
		t.Error("the deletion is not audited")
	}
}
