package request

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// PackageContent is the data package of a request: what the desk holds about the customer, their
// requests, and the files staff attached. The package page shows it; data.json is it, once the
// customer's pages have put it into words (the transcript's lines as the customer saw them, the
// summaries they confirmed): PackageFor leaves the words to them, for it knows no catalog.
//
// Every type in it marshals with lowerCamel keys, and none carries a staff member's identity.
type PackageContent struct {
	Reference string `json:"reference"`
	// Language is the language of the package's texts (the request's, unless the customer chose
	// the other).
	Language    string            `json:"language"`
	GeneratedAt time.Time         `json:"generatedAt"`
	Kinds       []string          `json:"kinds"`
	Data        CustomerData      `json:"data"`
	Requests    []RequestOverview `json:"requests"`
	Files       []PackageFile     `json:"attachedFiles"`
}

// RequestOverview is one of the customer's requests as their package lists it: what they told the
// desk when they made it (identity, representative, details, the summary they confirmed) and the
// metadata of the identity documents they sent, never the documents themselves nor staff's notes.
type RequestOverview struct {
	Reference  string    `json:"reference"`
	Kinds      []string  `json:"kinds"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"receivedAt"`
	DueAt      time.Time `json:"dueAt"`
	Language   string    `json:"language"`
	// Requester is who made it (self, agent, legal_representative); RepresentativeKind (parent,
	// guardian) and RepresentativeName are the representative's, when one made it.
	Requester          string `json:"requester"`
	RepresentativeKind string `json:"representativeKind,omitempty"`
	RepresentativeName string `json:"representativeName,omitempty"`
	// Name, Address and Phone (E.164) are the identity the customer gave.
	Name    string `json:"name"`
	Address string `json:"address"`
	Phone   string `json:"phone"`
	// Correction is what is wrong and what it should be (訂正・追加); Target, Ground and GroundText
	// which data a stop kind is about and why (Ground: beyond_purpose, improper, unneeded, leaked,
	// rights_at_risk, other with GroundText).
	Correction string `json:"correction,omitempty"`
	Target     string `json:"target,omitempty"`
	Ground     string `json:"ground,omitempty"`
	GroundText string `json:"groundText,omitempty"`
	// DocumentsBy is how the identity documents come (chat, later, post); Delivery how the answer
	// goes (electronic, post, none).
	DocumentsBy string `json:"documentsBy,omitempty"`
	Delivery    string `json:"delivery,omitempty"`
	// Outcome is what was changed (訂正・追加・削除), as the customer was told.
	Outcome   string         `json:"outcome,omitempty"`
	Documents []DocumentInfo `json:"documents"`
	// ConfirmedSummary is the summary the customer confirmed, worded again in the request's language
	// from WordingID and WordingData (the pages do it: they hold the catalogs).
	ConfirmedSummary string            `json:"confirmedSummary,omitempty"`
	WordingID        string            `json:"-"`
	WordingData      map[string]string `json:"-"`
}

// DocumentInfo is the metadata of an identity document the customer sent: never its content.
type DocumentInfo struct {
	// Number is the photo's number as the customer was told it (1, 2, …).
	Number int `json:"number"`
	// Status is DocFetching, DocStored, DocRejected or DocDeleted (the image deleted, the metadata
	// kept); Problem why a rejected one could not be used (flows.DocNotImage, …).
	Status      string    `json:"status"`
	Problem     string    `json:"problem,omitempty"`
	ContentType string    `json:"contentType,omitempty"`
	Size        int       `json:"size,omitempty"`
	ReceivedAt  time.Time `json:"receivedAt"`
	DeletedAt   time.Time `json:"deletedAt,omitzero"`
}

// PackageFile is a file staff attached, as the customer's package describes it (FileInfo without
// who attached it).
type PackageFile struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"contentType"`
	Size        int       `json:"size"`
	SHA256      string    `json:"sha256"`
	AddedAt     time.Time `json:"addedAt"`
}

// MaxFileSize bounds a file staff attach to a package.
const MaxFileSize = 20 << 20

// PackageFor generates the package of a request as it stands now (staff preview, the download page).
func (s *Service) PackageFor(ctx context.Context, ref string) (PackageContent, error) {
	r, err := s.Get(ref)
	if err != nil {
		return PackageContent{}, err
	}
	if r.Kinds&flows.KindsAnswered == 0 {
		return PackageContent{}, ErrNoPackage
	}
	data, err := s.cfg.Holdings.CustomerData(ctx, r.UserID)
	if err != nil {
		return PackageContent{}, fmt.Errorf("read the customer's data: %w", err)
	}
	p := PackageContent{Reference: r.ID, Language: string(r.Lang), GeneratedAt: s.cfg.Now(), Kinds: r.Kinds.Names(),
		Data: data, Requests: []RequestOverview{}, Files: []PackageFile{}}
	for _, x := range s.ForUser(r.UserID) {
		o, err := s.overview(ctx, x)
		if err != nil {
			return PackageContent{}, err
		}
		p.Requests = append(p.Requests, o)
	}
	if r.Package != nil {
		for _, f := range r.Package.Files {
			p.Files = append(p.Files, PackageFile{ID: f.ID, Name: f.Name, ContentType: f.ContentType, Size: f.Size,
				SHA256: f.SHA256, AddedAt: f.AddedAt})
		}
	}
	return p, nil
}

// overview is one of the customer's requests as their package lists it, with its documents'
// metadata.
func (s *Service) overview(ctx context.Context, x Request) (RequestOverview, error) {
	o := RequestOverview{Reference: x.ID, Kinds: x.Kinds.Names(), Status: string(x.Status), ReceivedAt: x.ReceivedAt,
		DueAt: x.DueAt, Language: string(x.Lang), Requester: string(x.Requester), RepresentativeKind: x.RepKind,
		RepresentativeName: x.RepName, Name: x.Name, Address: x.Address, Phone: x.Phone, Correction: x.Correction,
		Target: x.Target, Ground: string(x.Ground), GroundText: x.GroundText, DocumentsBy: string(x.DocsBy),
		Delivery: string(x.Delivery), Outcome: x.Outcome, Documents: []DocumentInfo{}, WordingID: x.WordingID,
		WordingData: maps.Clone(x.WordingData)}
	if o.Kinds == nil {
		o.Kinds = []string{}
	}
	docs, err := s.cfg.Store.Documents(ctx, x.UserID, x.Draft)
	if err != nil {
		return o, fmt.Errorf("the documents of %s: %w", x.ID, err)
	}
	for _, d := range docs {
		if d.UserID != x.UserID || d.Draft != x.Draft {
			continue // never another customer's, whatever the store answers
		}
		o.Documents = append(o.Documents, DocumentInfo{Number: d.Seq, Status: d.Status, Problem: d.Problem,
			ContentType: d.ContentType, Size: d.Size, ReceivedAt: d.CreatedAt, DeletedAt: d.DeletedAt})
	}
	return o, nil
}

// AttachFile adds a file from another system (billing, drawings) to the package of an open
// disclosure-type request. The bytes are stored encrypted.
func (s *Service) AttachFile(ctx context.Context, ref, name, contentType string, data []byte, a Actor) (Request, error) {
	name = path.Base(strings.ReplaceAll(clean(name), "\\", "/"))
	if name == "" || name == "." || name == "/" || utf8.RuneCountInString(name) > 120 {
		return Request{}, fmt.Errorf("%w: a file name of 1 to 120 characters", ErrInvalidFile)
	}
	if len(data) == 0 || len(data) > MaxFileSize {
		return Request{}, fmt.Errorf("%w: 1 byte to %d MiB", ErrInvalidFile, MaxFileSize>>20)
	}
	if contentType == "" || contentType == "application/octet-stream" {
		contentType = http.DetectContentType(data)
	}
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:8])
	sealed, err := s.cfg.Sealer.Seal(data, "file:"+ref+":"+id)
	if err != nil {
		return Request{}, err
	}
	info := FileInfo{ID: id, Name: name, ContentType: contentType, Size: len(data), SHA256: hex.EncodeToString(sum[:]),
		AddedBy: a.ID, AddedAt: s.cfg.Now()}
	cur, err := s.Get(ref)
	if err != nil {
		return cur, err
	}
	if !cur.Open() || cur.Kinds&flows.KindsAnswered == 0 {
		return cur, ErrTransition
	}
	if err := s.cfg.Store.AddFile(ctx, StoredFile{ID: ref + "/" + id, Request: ref, FileInfo: info, Sealed: sealed,
		KeyID: s.cfg.Sealer.KeyID()}); err != nil && !errors.Is(err, bot.ErrDuplicate) {
		return cur, err
	}
	r, err := s.update(ctx, ref, func(r *Request, now time.Time) error {
		if r.Package == nil {
			r.Package = &Package{}
		}
		for _, f := range r.Package.Files {
			if f.ID == id {
				return errSame
			}
		}
		r.Package.Files = append(r.Package.Files, info)
		r.History = append(r.History, Change{What: ChangePackage, Note: "attached " + name, Actor: a, At: now})
		return nil
	})
	if errors.Is(err, errSame) {
		return r, nil
	}
	if err == nil {
		s.publish(r.ID)
	}
	return r, err
}

// ErrInvalidFile is returned for an attachment without a name or of a size out of bounds.
var ErrInvalidFile = errors.New("request: invalid file")

// issueLink makes a new download link for r's package (inside update): the token is returned once and
// only its hash is stored.
func (s *Service) issueLink(r *Request, now time.Time, a Actor) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if r.Package == nil {
		r.Package = &Package{}
	}
	r.Package.LinkHash, r.Package.Revoked = hashToken(token), false
	// The link works to the end of its last day in the desk's zone (the day the customer is told).
	y, m, d := now.In(s.cfg.Location).AddDate(0, 0, s.cfg.LinkDays).Date()
	r.Package.ExpiresAt = time.Date(y, m, d, 23, 59, 59, 0, s.cfg.Location)
	r.History = append(r.History, Change{What: ChangePackage, Note: "link issued", Actor: a, At: now})
	// LINE opens links in its own browser, which handles downloads badly: ask for the external one.
	return s.cfg.BaseURL + "/package/" + token + "?openExternalBrowser=1", nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// RevokeLink makes the package link of a request unusable at once.
func (s *Service) RevokeLink(ctx context.Context, ref string, a Actor) (Request, error) {
	r, err := s.update(ctx, ref, func(r *Request, now time.Time) error {
		if r.Package == nil || r.Package.LinkHash == "" || r.Package.Revoked {
			return ErrLinkGone
		}
		r.Package.Revoked = true
		r.History = append(r.History, Change{What: ChangePackage, Note: "link revoked", Actor: a, At: now})
		return nil
	})
	if err == nil {
		s.publish(r.ID)
	}
	return r, err
}

// ReissueLink replaces the link of a completed electronic request (expired, revoked, or lost) with a
// new one and sends it to the customer.
func (s *Service) ReissueLink(ctx context.Context, ref string, a Actor) (Request, error) {
	var link string
	r, err := s.update(ctx, ref, func(r *Request, now time.Time) error {
		if r.Status != flows.StatusCompleted || r.Delivery != flows.DeliveryElectronic || r.Kinds&flows.KindsAnswered == 0 {
			return ErrTransition
		}
		var err error
		link, err = s.issueLink(r, now, a)
		return err
	})
	if err != nil {
		return r, err
	}
	s.changed(ctx, r, "package.link", flows.RequestNotice{What: flows.NoticeStatus, Status: flows.StatusCompleted,
		Link: link, Expires: s.linkExpiry(r), Reissued: true, Outcome: r.Outcome}, len(r.History))
	return r, nil
}

// linkExpiry is the last day the package link of r works, in the desk's time zone.
func (s *Service) linkExpiry(r Request) string {
	if r.Package == nil {
		return ""
	}
	return r.Package.ExpiresAt.In(s.cfg.Location).Format(time.DateOnly)
}

// MarkPosted records that the answer of a postal request was posted.
func (s *Service) MarkPosted(ctx context.Context, ref string, a Actor) (Request, error) {
	r, err := s.update(ctx, ref, func(r *Request, now time.Time) error {
		if r.Delivery != flows.DeliveryPost || !(r.Status == flows.StatusInProgress || r.Status == flows.StatusCompleted) {
			return ErrTransition
		}
		if r.Package == nil {
			r.Package = &Package{}
		}
		if !r.Package.PostedAt.IsZero() {
			return errSame
		}
		r.Package.PostedAt = now
		r.History = append(r.History, Change{What: ChangePackage, Note: "posted", Actor: a, At: now})
		return nil
	})
	if errors.Is(err, errSame) {
		return r, nil
	}
	if err == nil {
		s.publish(r.ID)
	}
	return r, err
}

// ByToken finds the request whose package link is token: ErrLinkGone when the link is unknown,
// expired or revoked. Every use is audited (the caller names it: page, data.json, a file).
func (s *Service) ByToken(ctx context.Context, token, what string) (Request, error) {
	h := hashToken(token)
	now := s.cfg.Now()
	s.mu.RLock()
	var found *Request
	for _, r := range s.byRef {
		if r.Package != nil && r.Package.LinkHash == h {
			found = r
			break
		}
	}
	s.mu.RUnlock()
	if found == nil || found.Package.Revoked || !now.Before(found.Package.ExpiresAt) {
		return Request{}, ErrLinkGone
	}
	r, err := s.updateLatest(ctx, found.ID, func(r *Request, _ time.Time) error {
		if r.Package == nil {
			return ErrLinkGone
		}
		r.Package.Downloads++
		return nil
	})
	if err != nil {
		return r, err
	}
	s.audit(ctx, AuditDownload, r.ID, what)
	return r, nil
}

// File returns an attached file of a request's package, decrypted.
func (s *Service) File(ctx context.Context, ref, id string) (FileInfo, []byte, error) {
	f, err := s.cfg.Store.PackageFile(ctx, ref, ref+"/"+id)
	if err != nil {
		return FileInfo{}, nil, err
	}
	data, err := s.cfg.Sealer.Open(f.Sealed, f.KeyID, "file:"+ref+":"+f.FileInfo.ID)
	return f.FileInfo, data, err
}
