package handlers

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// exposedHeaders are the response headers browser clients on other origins need to read:
// tus offsets and locations, rate-limit waits, download validators.
var exposedHeaders = strings.Join([]string{
	"Location", "Retry-After", "ETag", "Content-Range",
	"Upload-Offset", "Upload-Length", "Upload-Metadata", "Tus-Resumable", "Tus-Version",
	"Tus-Extension", "Tus-Max-Size",
}, ", ")

var allowedHeaders = strings.Join([]string{
	"Authorization", "Content-Type", "Last-Event-ID", "Range", "If-None-Match",
	"Tus-Resumable", "Upload-Length", "Upload-Metadata", "Upload-Offset", "X-Requested-With",
}, ", ")

// cors allows the configured origins ("*" for any) to call the API from a browser. With no
// origins configured only the embedded web app (same origin) can. Tokens travel in headers,
// never cookies, so credentials are not allowed.
func cors(origins []string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if allowOrigin(origins, c.Writer.Header(), c.Request) {
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}

// allowOrigin sets the CORS headers for an allowed origin and reports whether the request is
// a preflight, which the caller answers with 204 and nothing else.
func allowOrigin(origins []string, h http.Header, r *http.Request) (preflight bool) {
	origin := r.Header.Get("Origin")
	if origin == "" || !(slices.Contains(origins, "*") || slices.Contains(origins, origin)) {
		return false
	}
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", exposedHeaders)
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", allowedHeaders)
	h.Set("Access-Control-Max-Age", "600")
	return true
}
