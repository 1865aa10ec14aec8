package linesim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Defaults used when APIOptions leaves a field zero.
const (
	DefaultReplyTokenTTL    = time.Minute
	DefaultRetryKeyTTL      = 24 * time.Hour
	DefaultSubscriberBuffer = 1024
)

// APIOptions configures a fake Messaging API.
type APIOptions struct {
	// Prefix is an optional path prefix (such as "/linesim") under which the
	// API is served. Requests outside it get 404.
	Prefix string
	// AccessToken is the channel access token expected as
	// "Authorization: Bearer <token>". Empty accepts any non-empty bearer token.
	AccessToken string
	// ReplyTokenTTL is how long an issued reply token stays valid
	// (default DefaultReplyTokenTTL).
	ReplyTokenTTL time.Duration
	// RetryKeyTTL is how long an accepted X-Line-Retry-Key is remembered
	// (default DefaultRetryKeyTTL).
	RetryKeyTTL time.Duration
	// Now is the clock (default time.Now). Tests pass a fake clock to expire
	// tokens without sleeping.
	Now func() time.Time
	// StrictUsers disables the automatic creation of unknown users. By default
	// any user ID the API sees (a token issued for it, a push to it, a profile
	// lookup) is created with a generated display name and language "ja".
	// With StrictUsers only users created by SetProfile exist: profile lookups
	// of others give 404 and pushes to them 400.
	StrictUsers bool
	// SubscriberBuffer is the channel capacity given to each Subscribe call
	// (default DefaultSubscriberBuffer). A full subscriber loses deliveries
	// (counted in Stats.SubscriberDrops); the API never blocks on it.
	SubscriberBuffer int
	// RateLimits maps a path prefix (after Prefix) to the requests per
	// second allowed on it; requests beyond answer 429 and are not
	// processed. Nil means no limits; LINERateLimits gives LINE's.
	RateLimits map[string]int
}

// API is a fake LINE Messaging API. It serves the paths of api.line.me and
// api-data.line.me, keeps all state in memory and is safe for concurrent
// use. Create it with NewAPI.
type API struct {
	opts APIOptions
	mux  *http.ServeMux

	mu           sync.Mutex
	users        map[string]*user
	replyTokens  map[string]replyToken
	readTokens   map[string]readToken
	retryKeys    map[string]retryKey
	reads        map[string][]ReadMark
	loadings     map[string][]Loading
	contents     map[string]content
	richMenus    map[string]*RichMenu
	richOrder    []string
	defaultRich  string
	deliveries   []Delivered
	byUser       map[string][]int
	subs         map[int]chan Delivered
	actSubs      map[int]chan Activity
	windows      map[string]*rateWindow
	nextSub      int
	changed      chan struct{}
	fault        *Fault
	contentFault *contentFault
	stats        Stats
	issued       int
}

type user struct {
	profile Profile
	blocked bool
}

type replyToken struct {
	userID  string
	expires time.Time
}

type readToken struct {
	userID, messageID string
}

type retryKey struct {
	requestID string
	at        time.Time
}

type content struct {
	contentType string
	data        []byte
}

// Profile is a simulated LINE user's profile, as GET /v2/bot/profile returns it.
type Profile struct {
	DisplayName   string `json:"displayName"`
	UserID        string `json:"userId"`
	PictureURL    string `json:"pictureUrl,omitempty"`
	StatusMessage string `json:"statusMessage,omitempty"`
	Language      string `json:"language,omitempty"`
}

// NewAPI returns a fake Messaging API configured by opts.
func NewAPI(opts APIOptions) *API {
	if opts.ReplyTokenTTL <= 0 {
		opts.ReplyTokenTTL = DefaultReplyTokenTTL
	}
	if opts.RetryKeyTTL <= 0 {
		opts.RetryKeyTTL = DefaultRetryKeyTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SubscriberBuffer <= 0 {
		opts.SubscriberBuffer = DefaultSubscriberBuffer
	}
	opts.Prefix = strings.TrimRight(opts.Prefix, "/")
	a := &API{
		opts:        opts,
		users:       map[string]*user{},
		replyTokens: map[string]replyToken{},
		readTokens:  map[string]readToken{},
		retryKeys:   map[string]retryKey{},
		reads:       map[string][]ReadMark{},
		loadings:    map[string][]Loading{},
		contents:    map[string]content{},
		richMenus:   map[string]*RichMenu{},
		byUser:      map[string][]int{},
		subs:        map[int]chan Delivered{},
		actSubs:     map[int]chan Activity{},
		windows:     map[string]*rateWindow{},
		changed:     make(chan struct{}),
	}
	a.routes()
	return a
}

func (a *API) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /v2/bot/message/reply", a.handleReply)
	m.HandleFunc("POST /v2/bot/message/push", a.handlePush)
	m.HandleFunc("GET /v2/bot/profile/{userId}", a.handleProfile)
	m.HandleFunc("POST /v2/bot/chat/loading/start", a.handleLoading)
	m.HandleFunc("POST /v2/bot/chat/markAsRead", a.handleMarkAsRead)
	m.HandleFunc("GET /v2/bot/message/{messageId}/content", a.handleContent)
	m.HandleFunc("POST /v2/bot/richmenu", a.handleRichMenuCreate)
	m.HandleFunc("GET /v2/bot/richmenu/list", a.handleRichMenuList)
	m.HandleFunc("GET /v2/bot/richmenu/{id}", a.handleRichMenuGet)
	m.HandleFunc("DELETE /v2/bot/richmenu/{id}", a.handleRichMenuDelete)
	m.HandleFunc("POST /v2/bot/richmenu/{id}/content", a.handleRichMenuUpload)
	m.HandleFunc("GET /v2/bot/richmenu/{id}/content", a.handleRichMenuDownload)
	m.HandleFunc("POST /v2/bot/user/all/richmenu/{id}", a.handleRichMenuSetDefault)
	m.HandleFunc("GET /v2/bot/user/all/richmenu", a.handleRichMenuGetDefault)
	m.HandleFunc("DELETE /v2/bot/user/all/richmenu", a.handleRichMenuClearDefault)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.count(func(s *Stats) { s.NotFound++ })
		writeError(w, http.StatusNotFound, "Not found")
	})
	a.mux = m
}

// ServeHTTP serves the Messaging API under the configured prefix. Every
// response carries an X-Line-Request-Id header, as LINE's do. Order of
// checks: prefix and unknown paths (404), active fault, bearer token (401),
// rate limit (429), then the endpoint.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.count(func(s *Stats) { s.Requests++ })
	p := r.URL.Path
	if a.opts.Prefix != "" {
		rest, ok := strings.CutPrefix(p, a.opts.Prefix)
		if !ok || (rest != "" && rest[0] != '/') {
			a.count(func(s *Stats) { s.NotFound++ })
			writeError(w, http.StatusNotFound, "Not found")
			return
		}
		p = rest
	}
	w.Header().Set("X-Line-Request-Id", uuid.NewString())
	if a.serveFault(w, r, p) {
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = p
	r2.URL.RawPath = ""
	if _, pattern := a.mux.Handler(r2); pattern == "/" {
		a.count(func(s *Stats) { s.NotFound++ })
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	if !a.authorized(r) {
		a.count(func(s *Stats) { s.Unauthorized++ })
		writeError(w, http.StatusUnauthorized,
			"Authentication failed. Confirm that the access token in the authorization header is valid.")
		return
	}
	if a.rateLimited(w, p) {
		return
	}
	a.mux.ServeHTTP(w, r2)
}

func (a *API) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return false
	}
	return a.opts.AccessToken == "" || tok == a.opts.AccessToken
}

func (a *API) now() time.Time { return a.opts.Now() }

// count applies f to the statistics under the lock.
func (a *API) count(f func(*Stats)) {
	a.mu.Lock()
	f(&a.stats)
	a.mu.Unlock()
}

// userLocked returns the user, creating it unless StrictUsers is set.
// a.mu must be held.
func (a *API) userLocked(userID string) *user {
	if u, ok := a.users[userID]; ok {
		return u
	}
	if a.opts.StrictUsers || userID == "" {
		return nil
	}
	u := &user{profile: Profile{
		UserID:      userID,
		DisplayName: generatedName(userID),
		Language:    "ja",
	}}
	a.users[userID] = u
	return u
}

func generatedName(userID string) string {
	tail := userID
	if len(tail) > 4 {
		tail = tail[len(tail)-4:]
	}
	return "LINEユーザー" + tail
}

// SetProfile creates or updates a simulated user's display name and
// language ("ja", "en", ...). It keeps the user's block state.
func (a *API) SetProfile(userID, displayName, language string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[userID]
	if !ok {
		u = &user{profile: Profile{UserID: userID}}
		a.users[userID] = u
	}
	u.profile.DisplayName = displayName
	u.profile.Language = language
}

// SetPictureURL sets the pictureUrl returned in a user's profile.
func (a *API) SetPictureURL(userID, pictureURL string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.userLocked(userID); u != nil {
		u.profile.PictureURL = pictureURL
	}
}

// Profile returns a simulated user's profile and whether the user exists.
func (a *API) Profile(userID string) (Profile, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[userID]
	if !ok {
		return Profile{}, false
	}
	return u.profile, true
}

// SetBlocked records that the user blocked (true) or unblocked (false) the
// account. Pushes to a blocked user fail with 400 and its profile is 404.
// The Sender's UnfollowEvent and FollowEvent builders call it.
func (a *API) SetBlocked(userID string, blocked bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.userLocked(userID)
	if u == nil {
		u = &user{profile: Profile{UserID: userID, DisplayName: generatedName(userID), Language: "ja"}}
		a.users[userID] = u
	}
	u.blocked = blocked
}

// Blocked reports whether the user currently blocks the account.
func (a *API) Blocked(userID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[userID]
	return ok && u.blocked
}

// IssueReplyToken issues a single-use reply token for userID, valid for
// ReplyTokenTTL from now (by the API's clock).
func (a *API) IssueReplyToken(userID string) string {
	tok := randomHex(16)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.userLocked(userID)
	now := a.now()
	a.replyTokens[tok] = replyToken{userID: userID, expires: now.Add(a.opts.ReplyTokenTTL)}
	a.issued++
	if a.issued%4096 == 0 {
		for k, t := range a.replyTokens {
			if now.After(t.expires) {
				delete(a.replyTokens, k)
			}
		}
	}
	return tok
}

// IssueMarkAsReadToken issues the markAsReadToken of the user's message
// messageID, for use with POST /v2/bot/chat/markAsRead.
func (a *API) IssueMarkAsReadToken(userID, messageID string) string {
	tok := randomB64(30)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.readTokens[tok] = readToken{userID: userID, messageID: messageID}
	return tok
}

// PutContent stores the content of a message sent by a user (an image, for
// example), served at GET /v2/bot/message/{messageId}/content.
func (a *API) PutContent(messageID, contentType string, data []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.contents[messageID] = content{contentType: contentType, data: append([]byte(nil), data...)}
}

// errorBody is LINE's error response.
type errorBody struct {
	Message string        `json:"message"`
	Details []ErrorDetail `json:"details,omitempty"`
}

// ErrorDetail is one entry of the "details" array of a LINE error response.
type ErrorDetail struct {
	Message  string `json:"message"`
	Property string `json:"property,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string, details ...ErrorDetail) {
	writeJSON(w, status, errorBody{Message: msg, Details: details})
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
