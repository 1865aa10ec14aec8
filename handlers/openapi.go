package handlers

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.0 document of the API under /api/v1: the marketing API (scope
// optouts) and the back office's requests API (scope requests). openapi_test.go checks every route
// of both against it.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI document served at /api/v1/openapi.yaml (YAML).
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIDocument...) }

// OpenAPIPath is where the document is served, without authentication.
const OpenAPIPath = "/api/v1/openapi.yaml"

// serveOpenAPI answers GET /api/v1/openapi.yaml.
func serveOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/yaml", openAPIDocument)
}
