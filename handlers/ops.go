package handlers

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/openapi"
)

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string `json:"status" example:"ok"`
} //@name Health

// healthz godoc
//
//	@Summary	Liveness: the process answers
//	@ID			healthz
//	@Tags		operations
//	@Produce	json
//	@Success	200	{object}	Health
//	@Router		/healthz [get]
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, Health{Status: "ok"})
}

// readyz godoc
//
//	@Summary	Readiness: the database answers and the data directory is writable
//	@ID			readyz
//	@Tags		operations
//	@Produce	json
//	@Success	200	{object}	Health
//	@Failure	503	{object}	Problem	"not ready"
//	@Router		/readyz [get]
func (s *Server) readyz(c *gin.Context) {
	if s.Ready != nil {
		if err := s.Ready(c.Request.Context()); err != nil {
			slog.WarnContext(c.Request.Context(), "not ready", "err", err)
			abortWithError(c, api.ENOTREADY, "the database or the data directory is unavailable")
			return
		}
	}
	c.JSON(http.StatusOK, Health{Status: "ok"})
}

// metrics godoc
//
//	@Summary	Prometheus metrics
//	@ID			metrics
//	@Tags		operations
//	@Produce	plain
//	@Success	200	{string}	string	"Prometheus text exposition"
//	@Router		/metrics [get]
func (s *Server) metrics() gin.HandlerFunc {
	s.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return gin.WrapH(promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{}))
}

// requestMetrics counts requests by route and status and times them by route. Routes are the
// registered patterns, never raw paths, so session ids cannot blow up the label space.
type requestMetrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newRequestMetrics(reg prometheus.Registerer) *requestMetrics {
	m := &requestMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharethings_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sharethings_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.total, m.duration)
	return m
}

func (m *requestMetrics) middleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.observe(route, c.Request.Method, c.Writer.Status(), start)
}

func (m *requestMetrics) observe(route, method string, status int, start time.Time) {
	m.total.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
}

// openAPISpec godoc
//
//	@Summary	The OpenAPI 3 document of this API
//	@ID			openapi
//	@Tags		operations
//	@Produce	json
//	@Success	200	{object}	object
//	@Router		/openapi.json [get]
func openAPISpec(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openapi.Spec)
}

var docsPage = sync.OnceValues(func() ([]byte, error) { return openapi.DocsPage(openapi.Spec) })

// openAPIDocs godoc
//
//	@Summary	Readable API reference
//	@ID			docs
//	@Tags		operations
//	@Produce	html
//	@Success	200	{string}	string	"HTML page"
//	@Router		/docs [get]
func openAPIDocs(c *gin.Context) {
	page, err := docsPage()
	if err != nil {
		writeError(c, err)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
}

// RegisterGauge exports a figure read at scrape time, such as live sessions or open streams.
func (s *Server) RegisterGauge(name, help string, read func() float64) {
	s.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, read))
}
