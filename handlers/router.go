package handlers

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Routes is everything the router serves. Nil parts are left out.
type Routes struct {
	Callback *Callback
	Health   *Health
	// PolicyText, when set, is served as a page at /policy.
	PolicyText string
	// Console is the staff console at /console.
	Console *Console
	// Marketing is the marketing API at /api/v1 (tokens with scope optouts).
	Marketing *Marketing
	// RequestsAPI is the back office's requests API at /api/v1/requests (tokens with scope requests).
	RequestsAPI *RequestsAPI
	// Package is the customer's data package behind its download link, /package/TOKEN.
	Package *PackagePages
	// Extra mounts plain http.Handlers under path prefixes (e.g. the simulator at /sim in local mode).
	Extra map[string]http.Handler
	// TrustedProxies are the addresses or CIDRs of proxies whose X-Forwarded-For names the client
	// (none by default: the client is the connection's peer). ClientIPHeader, when set, is a header
	// the platform's proxy always sets to the client's address (Fly.io: Fly-Client-IP); it wins.
	// Login throttling and the audit log depend on this being right.
	TrustedProxies []string
	ClientIPHeader string
}

// ValidProxies checks TrustedProxies entries: IP addresses or CIDRs.
func ValidProxies(ps []string) error {
	for _, p := range ps {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return fmt.Errorf("%q is neither an IP address nor a CIDR", p)
		}
	}
	return nil
}

// NewRouter builds the gin engine with the shared middleware: recovery, access log, error handler.
func NewRouter(log *slog.Logger, r Routes) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	if err := e.SetTrustedProxies(r.TrustedProxies); err != nil {
		panic("handlers: TrustedProxies not validated: " + err.Error())
	}
	e.TrustedPlatform = r.ClientIPHeader
	e.Use(gin.CustomRecovery(func(c *gin.Context, err any) {
		log.Error("panic in handler", "route", c.FullPath(), "panic", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal", "message": "internal error"})
	}))
	e.Use(AccessLog(log), ErrorHandler(log))
	if r.Callback != nil {
		e.POST("/callback", r.Callback.Handle)
	}
	if r.Health != nil {
		e.GET("/healthz", r.Health.Live)
		e.GET("/readyz", r.Health.Ready)
	}
	if r.PolicyText != "" {
		e.GET("/policy", Policy(r.PolicyText))
	}
	if r.Console != nil {
		r.Console.Register(e)
		// Unmatched paths under /console get the console's 404 page; others gin's default.
		e.NoRoute(r.Console.NotFound)
	}
	if r.Marketing != nil {
		r.Marketing.Register(e)
	}
	if r.RequestsAPI != nil {
		r.RequestsAPI.Register(e)
	}
	if r.Package != nil {
		r.Package.Register(e)
	}
	if r.Marketing != nil || r.RequestsAPI != nil {
		e.GET(OpenAPIPath, serveOpenAPI) // the description of both, without a token
	}
	for prefix, h := range r.Extra {
		p := strings.TrimRight(prefix, "/")
		e.Any(p, gin.WrapH(h))
		e.Any(p+"/*rest", gin.WrapH(h))
	}
	return e
}
