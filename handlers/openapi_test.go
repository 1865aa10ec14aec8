package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/enemane/privacybot/bot/consent"
	"github.com/enemane/privacybot/flows"
	"github.com/enemane/privacybot/handlers"
)

// loadOpenAPI loads and validates the embedded OpenAPI document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(handlers.OpenAPIDocument())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// apiBase is the path of the document's server (the API's prefix).
func apiBase(t *testing.T, doc *openapi3.T) string {
	t.Helper()
	if len(doc.Servers) != 1 || !strings.HasPrefix(doc.Servers[0].URL, "/") {
		t.Fatalf("want one relative server, got %+v", doc.Servers)
	}
	return strings.TrimRight(doc.Servers[0].URL, "/")
}

func TestOpenAPIDocumentServed(t *testing.T) {
	loadOpenAPI(t)
	f := newAPIFixture(t)
	code, body, hdr := f.do(t, http.MethodGet, handlers.OpenAPIPath, "", nil)
	if code != http.StatusOK || hdr.Get("Content-Type") != "application/yaml" ||
		!bytes.Equal(body, handlers.OpenAPIDocument()) {
		t.Fatalf("%d %q (%d bytes)", code, hdr.Get("Content-Type"), len(body))
	}
}

// TestOpenAPIRoutesMatchRouter: every route the router serves under /api/v1 is in the document, and
// every operation of the document is a route.
func TestOpenAPIRoutesMatchRouter(t *testing.T) {
	doc := loadOpenAPI(t)
	base := apiBase(t, doc)
	f := newAPIFixture(t)
	var served []string
	for _, r := range f.router.Routes() {
		if !strings.HasPrefix(r.Path, base+"/") {
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if name, ok := strings.CutPrefix(p, ":"); ok {
				parts[i] = "{" + name + "}"
			}
		}
		served = append(served, r.Method+" "+strings.Join(parts, "/"))
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+base+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	if !slices.Equal(served, documented) {
		t.Fatalf("routes and document differ\nserved:     %v\ndocumented: %v", served, documented)
	}
	if len(served) != 8 {
		t.Fatalf("served %d routes: %v", len(served), served)
	}
}

// apiCase is one request of the conformance test.
type apiCase struct {
	name   string
	method string
	path   string // under the API's base, with the query
	token  string
	body   []byte
	status int
	// conforms says whether the request itself follows the document (a test of a 400 or 401 sends
	// requests that do not, and the document must say so too).
	conforms bool
	// set makes the fixture fail (the store down) for this request; it returns the undo.
	set func() func()
}

// TestOpenAPIConformance sends requests to every route of both APIs through the router, with real
// tokens, and checks each request and each response (status, headers, body) against the document,
// error responses included. Every response the document lists for an operation must be produced.
func TestOpenAPIConformance(t *testing.T) {
	doc := loadOpenAPI(t)
	base := apiBase(t, doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := newAPIFixture(t)
	ctx := context.Background()
	// The export starts with a BOM (for Excel), which the library's CSV decoder does not expect.
	prev := openapi3filter.RegisteredBodyDecoder("text/csv")
	openapi3filter.RegisterBodyDecoder("text/csv", bomCSV)
	t.Cleanup(func() { openapi3filter.RegisterBodyDecoder("text/csv", prev) })
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, rec := range []consent.Record{
		{ID: "ev1/0", Subject: "line:U1", Action: flows.ConsentOptOut, Channels: flows.ChanPhone | flows.ChanMail,
			Name: "山田 花子", Phone: "+819012345678", Email: "hanako@example.jp", Source: flows.SourceChat,
			WordingID: "optout.confirm", WordingLang: flows.Ja, WordingText: "電話とDMを停止します", Reference: "OPT-A", At: at},
		{ID: "staff/1", Subject: "staff:+819011112222", Action: flows.ConsentOptOut, Channels: flows.ChanVisit,
			Phone: "+819011112222", Source: flows.SourceStaff, Staff: "admin@example.jp",
			WordingID: "staff_entry.phone", WordingText: "電話で受付", Reference: "OPT-B", At: at.Add(time.Hour)},
		{ID: "ev2/0", Subject: "line:U1", Action: flows.ConsentOptIn, Channels: flows.ChanMail, Source: flows.SourceChat,
			Reference: "OPT-C", At: at.Add(2 * time.Hour)},
	} {
		if err := f.consents.Record(ctx, rec); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	storeDown := func() func() { f.tokens.down.Store(true); return func() { f.tokens.down.Store(false) } }
	docsDown := func() func() {
		f.svc.Store.SetFail(errors.New("store down"))
		return func() { f.svc.Store.SetFail(nil) }
	}
	hooksDown := func() func() { f.hooks.down.Store(true); return func() { f.hooks.down.Store(false) } }
	conflict := func() func() { f.svc.Store.SetConflict(true); return func() { f.svc.Store.SetConflict(false) } }
	const unknownToken = "pbm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	o, r := f.optouts, f.requests
	get := func(name, path, token string, status int, conforms bool) apiCase {
		return apiCase{name: name, method: http.MethodGet, path: path, token: token, status: status, conforms: conforms}
	}
	post := func(name, path, token, body string, status int, conforms bool) apiCase {
		return apiCase{name: name, method: http.MethodPost, path: path, token: token, body: []byte(body), status: status,
			conforms: conforms}
	}
	with := func(c apiCase, set func() func()) apiCase { c.set = set; return c }
	ref, inProgress, completed := seedRef(0), seedRef(3), seedRef(4)
	cases := []apiCase{
		get("feed", "/optouts", o, 200, true),
		get("feed page", "/optouts?since=1&limit=1", o, 200, true),
		get("feed bad limit", "/optouts?limit=0", o, 400, false),
		get("feed bad cursor", "/optouts?since=abc", o, 400, false),
		get("feed no token", "/optouts", "", 401, false),
		get("feed unknown token", "/optouts", unknownToken, 401, true),
		get("feed wrong scope", "/optouts", r, 403, true),
		with(get("feed store down", "/optouts", o, 503, true), storeDown),

		get("csv", "/optouts.csv", o, 200, true),
		get("csv no token", "/optouts.csv", "", 401, false),
		get("csv wrong scope", "/optouts.csv", r, 403, true),
		with(get("csv store down", "/optouts.csv", o, 503, true), storeDown),

		get("check phone", "/optouts/check?phone=090-1234-5678", o, 200, true),
		get("check both", "/optouts/check?phone=09011112222&email=Hanako@Example.jp", o, 200, true),
		get("check nobody", "/optouts/check?email=nobody@example.jp", o, 200, true),
		get("check nothing", "/optouts/check", o, 400, true),
		get("check bad phone", "/optouts/check?phone=12", o, 400, true),
		get("check no token", "/optouts/check?phone=09012345678", "", 401, false),
		get("check wrong scope", "/optouts/check?phone=09012345678", r, 403, true),
		with(get("check store down", "/optouts/check?phone=09012345678", o, 503, true), storeDown),

		get("deliveries", "/webhook-deliveries", o, 200, true),
		with(get("deliveries failed unreadable", "/webhook-deliveries", o, 503, true), hooksDown),
		get("deliveries no token", "/webhook-deliveries", "", 401, false),
		get("deliveries wrong scope", "/webhook-deliveries", r, 403, true),

		get("requests", "/requests", r, 200, true),
		get("requests filtered", "/requests?status=received&status=in_progress&kind=disclosure&kind=purpose_notice"+
			"&updated_since=2026-12-01T00:00:00Z&limit=2", r, 200, true),
		get("requests next page", "/requests?limit=2&cursor="+seedRef(5), r, 200, true),
		get("requests bad status", "/requests?status=open", r, 400, false),
		get("requests bad kind", "/requests?kind=all", r, 400, false),
		get("requests bad time", "/requests?updated_since=yesterday", r, 400, false),
		get("requests bad limit", "/requests?limit=500", r, 400, false),
		get("requests bad cursor", "/requests?cursor=R-19990101-0001", r, 400, true),
		get("requests no token", "/requests", "", 401, false),
		get("requests revoked token", "/requests", f.revoked, 401, true),
		get("requests wrong scope", "/requests", o, 403, true),
		with(get("requests store down", "/requests", r, 503, true), docsDown),

		get("request", "/requests/"+ref, r, 200, true),
		get("request unknown", "/requests/R-20991231-0001", r, 404, true),
		get("request no token", "/requests/"+ref, "", 401, false),
		get("request wrong scope", "/requests/"+ref, o, 403, true),
		with(get("request store down", "/requests/"+ref, r, 503, true), docsDown),

		post("transition", "/requests/"+ref+"/transition", r, `{"to":"documents_needed","reason":"住民票の写し","note":"x"}`, 200, true),
		post("transition completes", "/requests/"+inProgress+"/transition", r, `{"to":"completed","outcome":"開示しました"}`, 200, true),
		post("transition without reason", "/requests/"+ref+"/transition", r, `{"to":"rejected"}`, 400, true),
		post("transition unknown status", "/requests/"+ref+"/transition", r, `{"to":"approved"}`, 400, false),
		post("transition malformed", "/requests/"+ref+"/transition", r, `{"to":`, 400, false),
		post("transition unknown field", "/requests/"+ref+"/transition", r, `{"to":"verified","by":"me"}`, 400, false),
		post("transition too long", "/requests/"+ref+"/transition", r, `{"to":"verified","note":"`+strings.Repeat("x", 2001)+`"}`, 400, false),
		post("transition too large", "/requests/"+ref+"/transition", r, `{"to":"verified","note":"`+strings.Repeat("x", 70<<10)+`"}`, 413, false),
		post("transition not allowed", "/requests/"+completed+"/transition", r, `{"to":"verified"}`, 409, true),
		with(post("transition conflict", "/requests/"+ref+"/transition", r, `{"to":"verified"}`, 409, true), conflict),
		post("transition unknown", "/requests/R-20991231-0001/transition", r, `{"to":"verified"}`, 404, true),
		post("transition no token", "/requests/"+ref+"/transition", "", `{"to":"verified"}`, 401, false),
		post("transition wrong scope", "/requests/"+ref+"/transition", o, `{"to":"verified"}`, 403, true),
		with(post("transition store down", "/requests/"+ref+"/transition", r, `{"to":"verified"}`, 503, true), storeDown),

		get("document", "/openapi.yaml", "", 200, true),
		get("document with a token", "/openapi.yaml", r, 200, true),
	}
	produced := map[string]bool{} // "METHOD /path STATUS"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.set != nil {
				defer c.set()()
			}
			code, body, hdr := f.do(t, c.method, base+c.path, c.token, c.body)
			if code != c.status {
				t.Fatalf("status %d, want %d: %s", code, c.status, body)
			}
			// The same request, for the validator.
			req, err := http.NewRequest(c.method, f.srv.URL+base+c.path, bytes.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("the document has no route for %s %s: %v", c.method, c.path, err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: bearerGiven, MultiError: true}}
			err = openapi3filter.ValidateRequest(ctx, in)
			if conforms := err == nil; conforms != c.conforms {
				t.Fatalf("the request conforms to the document: %v, want %v (%v)", conforms, c.conforms, err)
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: code, Header: hdr,
				Body:    io.NopCloser(bytes.NewReader(body)),
				Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
			if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
				t.Fatalf("the response %d does not conform to the document: %v\n%s", code, err, clip(body))
			}
			produced[c.method+" "+route.Path+" "+strconv.Itoa(code)] = true
		})
	}
	// Every response the document promises was seen.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if !produced[method+" "+path+" "+status] {
					t.Errorf("no test produced %s %s %s", method, path, status)
				}
			}
		}
	}
}

// bearerGiven is the document's security as a client sees it: a bearer token is sent (whether the
// server accepts it is what the responses say).
func bearerGiven(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || in.SecurityScheme.Scheme != "bearer" {
		return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || tok == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// bomCSV decodes a CSV body that starts with a UTF-8 BOM: it must be well-formed CSV (every row as
// wide as the header) and is the body as a string.
func bomCSV(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	text, ok := strings.CutPrefix(string(b), "\xEF\xBB\xBF")
	if !ok {
		return nil, errors.New("no BOM")
	}
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("not CSV with a header: %v", err)
	}
	return text, nil
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}
