// Package handlers is the HTTP face of ShareThings: gin routes, authentication, the
// error-to-problem table, rate limits, operations endpoints and the OpenAPI annotations.
//
// Handlers talk to the api interfaces only and pass request contexts, never *gin.Context, to
// them. This package does not import storage or sse.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/sse"
)

const apiPrefix = "/api/v1"

// Options are the limits and policies the handlers enforce and report in GET /config.
type Options struct {
	MinKDFIterations      int
	DefaultChunkSize      int
	MaxChunkSize          int
	MaxItemBytes          int64
	SessionQuotaBytes     int64
	SessionMaxItems       int
	SessionIdleTimeout    time.Duration
	TokenTTL              time.Duration
	JoinAttemptsPerMinute int // per client address
	JoinFailuresPerMinute int // wrong passphrases per session
	MinFreeDiskBytes      int64
	// UploadExpiry is how long an unfinished upload may sit untouched before it is removed.
	UploadExpiry time.Duration
	// Retention, reported to clients; storage applies it.
	RetentionMaxAge   time.Duration
	RetentionMaxItems int
	Heartbeat         time.Duration
	CORSOrigins       []string
	TrustedProxies    []string
}

// Services are the stores the handlers use; storage.DB provides all of them.
type Services struct {
	Sessions api.SessionService
	Contents api.ContentService
	Uploads  api.UploadService
	Chunks   api.ChunkStore
	Presence api.Presence
	Events   *sse.Hub
	// RateLimits keeps the join limits; nil keeps them in this process.
	RateLimits api.RateLimits
	// UploadLocks lets one request at a time work on an upload; nil locks in this process.
	UploadLocks api.UploadLocks
}

// Server holds what the handlers need. Build it with NewServer.
type Server struct {
	Services
	Tokens  *Tokens
	Options Options
	// Ready reports whether the server can serve: database reachable, data dir writable.
	Ready func(context.Context) error
	// Web serves the browser app for paths outside the API; nil answers 404 there.
	Web http.Handler

	Metrics  *prometheus.Registry
	requests *requestMetrics
	uploads  *uploads
	now      api.Clock

	joinsByAddress    limit
	failuresBySession limit
	detached          *detachedStreams
}

// NewServer wires a Server; now is the clock for rate limits.
func NewServer(services Services, tokens *Tokens, opts Options, now api.Clock) *Server {
	s := &Server{
		Services: services,
		now:      now,
		detached: newDetachedStreams(),
		Tokens:   tokens,
		Options:  opts,
		Metrics:  prometheus.NewRegistry(),
	}
	if s.RateLimits == nil {
		s.RateLimits = newMemoryLimits(now)
	}
	s.joinsByAddress = limit{s.RateLimits, "join-address", opts.JoinAttemptsPerMinute}
	s.failuresBySession = limit{s.RateLimits, "join-failure", opts.JoinFailuresPerMinute}
	s.requests = newRequestMetrics(s.Metrics)
	return s
}

// Handler is the server's HTTP handler: event streams, and the gin engine for the rest.
func (s *Server) Handler() (http.Handler, error) {
	engine, err := s.Engine()
	if err != nil {
		return nil, err
	}
	return s.withStreams(engine), nil
}

// Engine builds the gin engine with every route.
func (s *Server) Engine() (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Path parameters are matched on the escaped path and then unescaped, so "a%2Fb" reaches
	// validation as the id "a/b" (and is refused) instead of becoming two path segments.
	r.UseEscapedPath = true
	r.UnescapePathValues = true
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.ContextWithFallback = true
	err := r.SetTrustedProxies(s.Options.TrustedProxies)
	if err != nil {
		return nil, err
	}
	// Metrics and logs wrap recovery so that a panic is counted and logged as the 500 it becomes.
	r.Use(s.requests.middleware, logRequests, gin.CustomRecovery(recovery), cors(s.Options.CORSOrigins))
	r.NoRoute(s.noRoute)
	r.NoMethod(noMethod)
	if s.uploads, err = newUploads(s); err != nil {
		return nil, err
	}
	s.routes(r, s.uploads)
	return r, nil
}

// noRoute serves the web app for browser paths and problems for unknown API paths.
func (s *Server) noRoute(c *gin.Context) {
	if s.Web != nil && isWebPath(c.Request) {
		s.Web.ServeHTTP(c.Writer, c.Request)
		return
	}
	noRoute(c)
}

func isWebPath(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return r.URL.Path != apiPrefix && !strings.HasPrefix(r.URL.Path, apiPrefix+"/")
}

// logRequests logs one line per request: never the query string (it may hold access_token)
// nor any header.
func logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	logRequest(c.Request, c.Writer.Status(), c.Writer.Size(), c.ClientIP(), start)
}

func logRequest(r *http.Request, status, size int, client string, start time.Time) {
	slog.InfoContext(r.Context(), "request",
		"method", r.Method,
		"path", r.URL.Path,
		"status", status,
		"duration_ms", time.Since(start).Milliseconds(),
		"client", client,
		"bytes", max(0, size))
}
