package handlers

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// policyPage renders the published privacy policy as a plain, phone-friendly page.
var policyPage = template.Must(template.New("policy").Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>プライバシーポリシー｜株式会社エネマネ</title>
<style>body{font-family:system-ui,"Noto Sans CJK JP",sans-serif;max-width:46rem;margin:0 auto;padding:1.25rem;line-height:1.8;color:#1f2933}
h1{font-size:1.4rem;border-bottom:3px solid #2f855a;padding-bottom:.4rem}p{margin:.6rem 0;white-space:pre-wrap}</style></head>
<body><h1>プライバシーポリシー</h1>{{range .}}<p>{{.}}</p>{{end}}</body></html>`))

// Policy serves GET /policy: the text in locales.Policy, one paragraph per block.
func Policy(text string) gin.HandlerFunc {
	var paras []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	return func(c *gin.Context) {
		c.Header("Content-Type", "text/html; charset=utf-8")
		c.Header("Cache-Control", "public, max-age=3600")
		c.Status(http.StatusOK)
		_ = policyPage.Execute(c.Writer, paras)
	}
}
