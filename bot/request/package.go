package request

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/flows"
)

// PackageContent is the data package of a request: what the desk holds about the customer, their
// requests, and the files staff attached. The package page shows it; data.json is it.
type PackageContent struct {
	Reference   string            `json:"reference"`
	GeneratedAt time.Time         `json:"generatedAt"`
	Kinds       []string          `json:"kinds"`
	Data        CustomerData      `json:"data"`
	Requests    []RequestOverview `json:"requests"`
	Files       []FileInfo        `json:"attachedFiles"`
}

// RequestOverview is a request as the customer's own package lists it (no documents, no internal
// notes).
type RequestOverview struct {
	Reference  string    `json:"reference"`
	Kinds      []string  `json:"kinds"`
	Requester  string    `json:"requester"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"receivedAt"`
	DueAt      time.Time `json:"dueAt"`
	Wording    string    `json:"confirmedSummaryId,omitempty"`
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
	p := PackageContent{Reference: r.ID, GeneratedAt: s.cfg.Now(), Kinds: r.Kinds.Names(), Data: data}
	for _, x := range s.ForUser(r.UserID) {
		p.Requests = append(p.Requests, RequestOverview{Reference: x.ID, Kinds: x.Kinds.Names(),
			Requester: string(x.Requester), Status: string(x.Status), ReceivedAt: x.ReceivedAt, DueAt: x.DueAt,
			Wording: x.WordingID})
	}
	if r.Package != nil {
		p.Files = r.Package.Files
	}
	return p, nil
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
	r.Package.ExpiresAt = now.AddDate(0, 0, s.cfg.LinkDays)
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
	return r.Package.ExpiresAt.Add(-time.Second).In(s.cfg.Location).Format(time.DateOnly)
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
	r, err := s.update(ctx, found.ID, func(r *Request, _ time.Time) error {
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
