package request

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// Documents returns the metadata of a request's identity documents (no bytes), oldest first.
func (s *Service) Documents(ctx context.Context, ref string) ([]Document, error) {
	r, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	return s.cfg.Store.Documents(ctx, r.UserID, r.Draft)
}

// OpenDocument returns a stored document of a request, decrypted (the caller audits the view).
func (s *Service) OpenDocument(ctx context.Context, ref, id string) (Document, []byte, error) {
	r, err := s.Get(ref)
	if err != nil {
		return Document{}, nil, err
	}
	d, err := s.cfg.Store.Document(ctx, id)
	if err != nil {
		return Document{}, nil, err
	}
	if d.UserID != r.UserID || d.Draft != r.Draft || d.Status != DocStored {
		return Document{}, nil, bot.ErrNotFound
	}
	plain, err := s.cfg.Sealer.Open(d.Sealed, d.KeyID, "doc:"+d.ID)
	d.Sealed = nil
	return d, plain, err
}

// attach records a photo the customer sent (EffectRequestDocument) and queues its fetch. The
// document's ID comes from the event and the effect's index, so applying the effect again finds it.
func (s *Service) attach(ctx context.Context, userID, id string, up flows.DocumentUpload) error {
	d := Document{ID: id, UserID: userID, Draft: up.Draft, MessageID: up.MessageID, URL: up.URL, Seq: up.Seq,
		Status: DocFetching, CreatedAt: s.cfg.Now()}
	added, err := s.cfg.Store.AddDocument(ctx, d)
	if err != nil {
		return err
	}
	if added {
		s.queueFetch(d)
	}
	return nil
}

// queueFetch queues a document for the fetcher unless this process has it queued or in hand
// already; it reports whether it queued it.
func (s *Service) queueFetch(d Document) bool {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	if s.fetching[d.ID] {
		return false
	}
	select {
	case s.fetch <- d:
		s.fetching[d.ID] = true
		return true
	default:
		// Full (a burst far above a desk's volume): the document stays "fetching" in the store and is
		// picked up at the next start, or by RequeueStranded; LINE keeps content for a while.
		s.cfg.Log.Warn("document fetch queue full", "document", d.ID)
		return false
	}
}

// fetched takes a document out of this process's set of queued ones (queueFetch).
func (s *Service) fetched(id string) {
	s.fetchMu.Lock()
	delete(s.fetching, id)
	s.fetchMu.Unlock()
}

// fetchWorkers is how many documents are fetched at once.
const fetchWorkers = 4

// Run fetches queued documents until ctx ends, sends the daily digest to staff and deletes identity
// documents on schedule.
func (s *Service) Run(ctx context.Context) {
	for range fetchWorkers {
		s.fetchWG.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case d := <-s.fetch:
					s.fetchOne(ctx, d)
					s.fetched(d.ID)
				}
			}
		})
	}
	s.fetchWG.Go(func() { s.digestLoop(ctx) })
	s.fetchWG.Wait()
}

// fetchOne gets a document's content, retrying while LINE fails for up to FetchFor, checks it and
// stores it encrypted, or rejects it and tells the customer why.
func (s *Service) fetchOne(ctx context.Context, d Document) {
	// Queued again (RequeueStranded, a restart) while another instance still had it, it may be
	// decided since: fetching it again would record its arrival twice.
	if cur, err := s.cfg.Store.Document(ctx, d.ID); err == nil && cur.Status != DocFetching {
		return
	}
	deadline := d.CreatedAt.Add(s.cfg.FetchFor)
	for attempt := 0; ; attempt++ {
		data, res := s.content(ctx, d)
		d.Attempts++
		switch {
		case res.Outcome == bot.Accepted && data.TooLarge:
			s.reject(ctx, d, flows.DocTooLarge)
			return
		case res.Outcome == bot.Accepted:
			s.store(ctx, d, data.Data)
			return
		case res.Outcome != bot.Retryable, !s.cfg.Now().Before(deadline):
			s.cfg.Log.Warn("document content not fetched", "document", d.ID, "status", res.Status,
				"attempts", d.Attempts, "err", res.Err)
			s.reject(ctx, d, flows.DocFetchFailed)
			return
		}
		wait := min(s.cfg.FetchBackoff<<min(attempt, 5), 15*time.Second)
		wait = max(wait, res.RetryAfter)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return // still "fetching" in the store: the next start (or RequeueStranded) resumes it
		case <-t.C:
		}
	}
}

func (s *Service) content(ctx context.Context, d Document) (bot.Content, bot.CallResult) {
	if d.URL == "" {
		return s.cfg.Content.MessageContent(ctx, d.MessageID, s.cfg.MaxDocumentSize)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return bot.Content{}, bot.CallResult{Outcome: bot.Permanent, Err: err}
	}
	resp, err := s.cfg.ExternalHTTP.Do(req)
	if err != nil {
		return bot.Content{}, bot.CallResult{Outcome: bot.Retryable, Err: err}
	}
	defer resp.Body.Close()
	res := bot.CallResult{Status: resp.StatusCode, Outcome: bot.Accepted}
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		res.Outcome = bot.Retryable
	case resp.StatusCode >= 300:
		res.Outcome, res.Err = bot.Permanent, fmt.Errorf("external content: HTTP %d", resp.StatusCode)
	}
	if res.Outcome != bot.Accepted {
		return bot.Content{}, res
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxDocumentSize+1))
	if err != nil {
		return bot.Content{}, bot.CallResult{Outcome: bot.Retryable, Err: err}
	}
	if int64(len(b)) > s.cfg.MaxDocumentSize {
		return bot.Content{TooLarge: true}, res
	}
	return bot.Content{Data: b, ContentType: resp.Header.Get("Content-Type")}, res
}

// imageType returns the content type of an image the desk accepts, judged by its bytes only.
func imageType(b []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "image/jpeg", true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", true
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp", true
	}
	return "", false
}

func (s *Service) store(ctx context.Context, d Document, plain []byte) {
	ct, ok := imageType(plain)
	if !ok {
		s.reject(ctx, d, flows.DocNotImage)
		return
	}
	docs, err := s.cfg.Store.Documents(ctx, d.UserID, d.Draft)
	if err == nil {
		n := 0
		for _, x := range docs {
			if x.Status == DocStored && x.ID != d.ID {
				n++
			}
		}
		if n >= s.cfg.MaxDocuments {
			s.reject(ctx, d, flows.DocTooMany)
			return
		}
	}
	sealed, err := s.cfg.Sealer.Seal(plain, "doc:"+d.ID)
	if err != nil {
		s.cfg.Log.Error("document not sealed", "document", d.ID, "err", err)
		return
	}
	sum := sha256.Sum256(plain)
	d.Status, d.ContentType, d.Size, d.SHA256 = DocStored, ct, len(plain), hex.EncodeToString(sum[:])
	d.Sealed, d.KeyID, d.StoredAt = sealed, s.cfg.Sealer.KeyID(), s.cfg.Now()
	if err := s.saveDocument(ctx, d); err != nil {
		return
	}
	s.documentArrived(ctx, d)
}

func (s *Service) reject(ctx context.Context, d Document, problem string) {
	d.Status, d.Problem, d.Sealed = DocRejected, problem, nil
	if err := s.saveDocument(ctx, d); err != nil {
		return
	}
	defer s.noUsableDocuments(ctx, d)
	if s.cfg.Raiser != nil {
		n := flows.RequestNotice{What: flows.NoticeDocument, Draft: d.Draft, Seq: d.Seq, Problem: problem}
		if ref, ok := s.requestOf(ctx, d.UserID, d.Draft); ok {
			n.Ref = ref
		}
		if err := s.cfg.Raiser.Raise(ctx, d.UserID, "doc-"+d.ID, flows.RequestNoticePostback(n)); err != nil {
			s.cfg.Log.Error("document notice not raised", "document", d.ID, "err", err)
		}
	}
}

// saveDocument stores a document's outcome, retrying a failing store for a while (the outcome is
// lost otherwise: the document stays "fetching" until the next start).
func (s *Service) saveDocument(ctx context.Context, d Document) error {
	var err error
	for attempt := range 5 {
		if err = s.cfg.Store.SaveDocument(ctx, d); err == nil {
			return nil
		}
		t := time.NewTimer(time.Duration(attempt+1) * 500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	s.cfg.Log.Error("document outcome not stored", "document", d.ID, "err", err)
	return err
}

// usableDocuments counts a draft's documents stored or still being fetched.
func (s *Service) usableDocuments(ctx context.Context, userID, draft string) (int, error) {
	docs, err := s.cfg.Store.Documents(ctx, userID, draft)
	n := 0
	for _, d := range docs {
		if d.Status == DocStored || d.Status == DocFetching {
			n++
		}
	}
	return n, err
}

// noUsableDocuments moves a submitted request whose photos were all refused back to
// documents_needed (the customer was told which photo could not be used, and asked again).
func (s *Service) noUsableDocuments(ctx context.Context, d Document) {
	ref, ok := s.requestOf(ctx, d.UserID, d.Draft)
	if !ok {
		return
	}
	if n, err := s.usableDocuments(ctx, d.UserID, d.Draft); err != nil || n > 0 {
		return
	}
	r, err := s.updateLatest(ctx, ref, func(r *Request, now time.Time) error {
		if r.Status != flows.StatusReceived || r.DocsBy != flows.DocsChat {
			return errSame
		}
		r.History = append(r.History, Change{What: ChangeStatus, From: r.Status, To: flows.StatusDocumentsNeeded,
			Note: "no usable photo", Actor: Actor{Kind: ActorSystem}, At: now})
		r.Status = flows.StatusDocumentsNeeded
		return nil
	})
	if err != nil {
		return
	}
	s.audit(ctx, AuditAutomatic, r.ID, "received→documents_needed")
	s.webhook(ctx, r, "status.documents_needed", len(r.History))
	s.publish(r.ID)
}

// requestOf is refOf for the fetcher, which may run on another instance than the one where the
// customer submitted the request a moment ago: a draft this index does not know is looked up in the
// store before it is taken for a draft not yet submitted.
func (s *Service) requestOf(ctx context.Context, userID, draft string) (string, bool) {
	if ref, ok := s.refOf(userID, draft); ok {
		return ref, true
	}
	if err := s.RefreshUser(ctx, userID); err != nil {
		s.cfg.Log.Warn("requests of a customer not read", "err", err)
	}
	return s.refOf(userID, draft)
}

func (s *Service) refOf(userID, draft string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ref, ok := s.byKey[userID+"\x00"+draft]
	return ref, ok
}

// documentArrived records a stored document on its request, if it was submitted already; a request
// that waited for documents goes back to received (to be checked), and the customer is told.
func (s *Service) documentArrived(ctx context.Context, d Document) {
	ref, ok := s.requestOf(ctx, d.UserID, d.Draft)
	if !ok {
		return // drafted: the request is submitted later with its documents
	}
	sys := Actor{Kind: ActorSystem}
	r, err := s.updateLatest(ctx, ref, func(r *Request, now time.Time) error {
		r.History = append(r.History, Change{What: ChangeDocument, Note: fmt.Sprintf("photo %d", d.Seq), Actor: sys, At: now})
		if r.Status == flows.StatusDocumentsNeeded {
			r.History = append(r.History, Change{What: ChangeStatus, From: r.Status, To: flows.StatusReceived,
				Note: "documents arrived", Actor: sys, At: now})
			r.Status = flows.StatusReceived
		}
		return nil
	})
	if err != nil {
		if !errors.Is(err, bot.ErrNotFound) {
			s.cfg.Log.Error("document not recorded on its request", "request", ref, "err", err)
		}
		return
	}
	last := r.History[len(r.History)-1]
	if last.What == ChangeStatus && last.To == flows.StatusReceived {
		s.audit(ctx, AuditAutomatic, r.ID, "documents_needed→received")
		s.changed(ctx, r, "status.received", flows.RequestNotice{What: flows.NoticeStatus, Status: flows.StatusReceived},
			len(r.History))
		return
	}
	s.publish(r.ID)
}
