package handlers

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/sse"
)

// streamRoute names event streams in metrics, like gin's route patterns.
const streamRoute = apiPrefix + "/sessions/:sid/events"

// withStreams serves event streams outside gin and everything else through it. A stream lives
// for hours on the goroutine that accepted it, which keeps the stack of whatever called it:
// resting under gin's middleware chain, that stack cannot shrink below twice the size it has
// under a plain handler (measured at 2,000 streams: 23.5 against 12 KiB per subscriber).
// The long-poll form (?poll=1) is short and goes through gin like any request.
func (s *Server) withStreams(engine http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sid, ok := streamRequest(r); ok {
			s.serveStream(w, r, sid)
			return
		}
		engine.ServeHTTP(w, r)
	})
}

// streamRequest reports whether r asks for the stream form of GET /api/v1/sessions/{sid}/events.
func streamRequest(r *http.Request) (sid string, ok bool) {
	if r.Method != http.MethodGet || r.URL.Query().Has("poll") {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), apiPrefix+"/sessions/")
	if !ok {
		return "", false
	}
	escaped, ok := strings.CutSuffix(rest, "/events")
	if !ok || strings.Contains(escaped, "/") {
		return "", false
	}
	sid, err := url.PathUnescape(escaped)
	return sid, err == nil
}

// serveStream godoc
//
//	@Summary		The session's events, live (Server-Sent Events) or by long poll
//	@Description	A stream of `id`/`event`/`data` frames: client.joined, client.left, content.created, content.chunk, content.completed, content.updated, content.deleted, session.cleared, session.expired, session.resync. With Last-Event-ID (header, or lastEventId query for clients that cannot set headers; the header wins) every later event is replayed from the log first, also after a server restart; without, only live events come. Heartbeat comments come at least every heartbeatSeconds. The stream ends a minute before the token expires (at its expiry if less is left): refresh the token then and reconnect with Last-Event-ID. With poll=1 the answer is JSON instead: the events after `after` as soon as there are any, or none after about 25 s.
//	@ID				streamEvents
//	@Tags			events
//	@Produce		text/event-stream
//	@Produce		json
//	@Param			sid				path		string	true	"Session id"
//	@Param			Last-Event-ID	header		integer	false	"the last event id seen"
//	@Param			lastEventId		query		integer	false	"the last event id seen, when no header can be sent"
//	@Param			access_token	query		string	false	"session token, for EventSource, which cannot send headers"
//	@Param			poll			query		integer	false	"1: long-poll form, answers JSON"	Enums(1)
//	@Param			after			query		integer	false	"long poll: the last event id seen (required with poll=1)"
//	@Success		200				{object}	EventsPage	"long poll; the stream form answers text/event-stream"
//	@Failure		400				{object}	Problem		"invalid_request: a malformed event id; invalid_session_id"
//	@Failure		401				{object}	Problem		"unauthorized, token_expired, client_left"
//	@Failure		403				{object}	Problem		"forbidden"
//	@Failure		503				{object}	Problem		"too_many_subscribers"
//	@Security		BearerAuth
//	@Router			/api/v1/sessions/{sid}/events [get]
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, sid string) {
	start := time.Now()
	allowOrigin(s.Options.CORSOrigins, w.Header(), r)
	sub, err := s.subscription(r, sid)
	if err != nil {
		rec := &statusRecorder{ResponseWriter: w}
		if api.ErrorCode(err) == api.ETOOMANYSUBSCRIBERS {
			w.Header().Set("Retry-After", "5")
		}
		writeProblem(rec, r, err)
		s.logStream(r, rec, start)
		return
	}
	if dw, ctx, stop, ok := s.detached.detach(w, r); ok {
		go func() {
			defer stop()
			s.runStream(dw, r.WithContext(ctx), sub, start)
		}()
		return
	}
	s.runStream(w, r, sub, start)
}

// runStream streams the events of an authorized subscription until it ends.
func (s *Server) runStream(w http.ResponseWriter, r *http.Request, sub sse.Subscription, start time.Time) {
	rec := &statusRecorder{ResponseWriter: w}
	defer s.logStream(r, rec, start)
	// The grace before client.left starts when the stream ends.
	defer s.Presence.MarkSeen(context.WithoutCancel(r.Context()), []string{sub.ClientID})
	if err := s.Events.Serve(rec, r, sub); err != nil {
		writeProblem(rec, r, err)
	}
}

// logStream logs and counts a stream request once it has ended.
func (s *Server) logStream(r *http.Request, rec *statusRecorder, start time.Time) {
	s.requests.observe(streamRoute, r.Method, rec.status, start)
	client, _, _ := net.SplitHostPort(r.RemoteAddr)
	logRequest(r, rec.status, rec.size, client, start)
}

// subscription checks a stream request the way the gin routes check theirs (session id, then
// token, then the position) and records the client's presence.
func (s *Server) subscription(r *http.Request, sid string) (sse.Subscription, error) {
	if err := api.ValidateSessionID(sid); err != nil {
		return sse.Subscription{}, err
	}
	claims, err := s.verifyToken(r.Context(), bearerToken(r, true), sid)
	if err != nil {
		return sse.Subscription{}, err
	}
	last, err := lastEventID(r)
	if err == nil {
		err = s.markPresent(r.Context(), claims)
	}
	until := streamEnd(claims.ExpiresAt.Time, s.now())
	sub := sse.Subscription{SessionID: sid, ClientID: claims.ClientID(), LastEventID: last, Until: until}
	return sub, err
}

// streamRefreshMargin is how long before its token expires a stream ends. An expired token
// cannot be refreshed, so the stream ends while the client can still refresh and reconnect
// with Last-Event-ID, without asking for the passphrase again.
const streamRefreshMargin = time.Minute

// streamEnd is when a stream opened now with a token expiring then ends: a minute before the
// expiry, or at the expiry when less than that is left.
func streamEnd(expires, now time.Time) time.Time {
	if end := expires.Add(-streamRefreshMargin); end.After(now) {
		return end
	}
	return expires
}

// statusRecorder remembers the status and size of a response for logs and metrics, and
// passes flushes and deadline control through to the connection.
type statusRecorder struct {
	http.ResponseWriter
	status, size int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += n
	return n, err
}

// Flush runs once per event per subscriber: a plain assertion, no controller per call.
func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
