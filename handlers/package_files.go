package handlers

import (
	"errors"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/enemane/privacybot/bot"
	"github.com/enemane/privacybot/bot/request"
	"github.com/gin-gonic/gin"
)

// pkgFileIDOK bounds a file ID from the path before it goes anywhere (the service's are 16 hex digits).
func pkgFileIDOK(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (p *PackagePages) file(c *gin.Context) {
	id := c.Param("id")
	if !validPackageToken(c.Param("token")) {
		p.notice(c, http.StatusGone)
		return
	}
	if !pkgFileIDOK(id) {
		p.notice(c, http.StatusNotFound)
		return
	}
	r, ok := p.open(c, "file:"+id)
	if !ok {
		return
	}
	if !slices.ContainsFunc(r.Package.Files, func(f request.FileInfo) bool { return f.ID == id }) {
		p.notice(c, http.StatusNotFound)
		return
	}
	info, data, err := p.Desk.File(c.Request.Context(), r.ID, id)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		p.notice(c, http.StatusNotFound)
		return
	case err != nil:
		p.Log.Error("package file: not read", "request", r.ID, "file", id, "err", err)
		p.notice(c, http.StatusServiceUnavailable)
		return
	}
	pkgDownload(c, info.Name, info.ID)
	c.Data(http.StatusOK, pkgFileType(info.ContentType), data)
}

// pkgDownload marks the answer as a file to save, named name (RFC 6266, with RFC 5987's filename* for a
// name that is not plain ASCII; id names the ASCII fallback then).
func pkgDownload(c *gin.Context, name, id string) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", downloadCSP)
	h.Set("Content-Disposition", pkgDisposition(name, id))
}

// pkgDisposition is "attachment" with the file's name: as it is when it is printable ASCII,
// otherwise an ASCII fallback (file-<id><ext>) and the name itself in filename* (RFC 5987, UTF-8).
func pkgDisposition(name, id string) string {
	if pkgPlainASCII(name) {
		return `attachment; filename="` + name + `"`
	}
	fallback := "file"
	if id != "" {
		fallback += "-" + id
	}
	if ext := path.Ext(name); len(ext) > 1 && len(ext) <= 10 && pkgPlainASCII(ext) && !strings.ContainsAny(ext, " ;%") {
		fallback += ext
	}
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + pkgRFC5987(name)
}

func pkgPlainASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b > 0x7e || b == '"' || b == '\\' || b == '%' {
			return false
		}
	}
	return true
}

// pkgRFC5987 percent-encodes s (UTF-8) leaving only RFC 5987's attr-chars as they are.
func pkgRFC5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("!#$&+-.^_`|~", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

// pkgSafeRef keeps a reference fit for a file name (references are R-YYYYMMDD-NNNN).
func pkgSafeRef(ref string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' {
			return r
		}
		return '_'
	}, ref)
}

// pkgFileTypes are the content types an attached file is served with; anything else (HTML, SVG, scripts)
// is served as application/octet-stream.
var pkgFileTypes = map[string]bool{
	"application/pdf": true, "image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true,
	"text/plain": true, "text/csv": true, "application/json": true, "application/zip": true,
	"application/msword": true, "application/vnd.ms-excel": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       true,
}

func pkgFileType(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !pkgFileTypes[mt] {
		return "application/octet-stream"
	}
	if strings.HasPrefix(mt, "text/") {
		if cs := params["charset"]; cs != "" {
			return mime.FormatMediaType(mt, map[string]string{"charset": cs})
		}
	}
	return mt
}
