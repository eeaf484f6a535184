package sse

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/sharethings/sharethings/api"
)

// LiveOnly as a Subscription's LastEventID asks for events from now on, without replay.
const LiveOnly = -1

// Subscription is an authorized request for a session's stream.
type Subscription struct {
	SessionID string
	ClientID  string
	// LastEventID is the last id the client has seen, or LiveOnly.
	LastEventID int64
	// Until is when the stream ends, shortly before the client's token expires; the client
	// reconnects with a fresh token and its Last-Event-ID.
	Until time.Time
}

// Serve streams a session's events to one subscriber until the client goes, the token
// expires, the session expires or the server shuts down. Errors before the stream starts:
// ESESSIONNOTFOUND, ETOOMANYSUBSCRIBERS.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, sub Subscription) error {
	ctx, cancel := context.WithDeadline(r.Context(), sub.Until)
	defer cancel()
	sw, err := h.newStreamWriter(ctx, w, sub, cancel)
	if err != nil {
		return err
	}
	entry := &subscriber{clientID: sub.ClientID, cancel: cancel}
	if err := h.register(sub.SessionID, entry); err != nil {
		return err
	}
	h.srv.ServeHTTP(sw, r3Request(r.WithContext(ctx), sub.SessionID))
	if h.unregister(sub.SessionID, entry) {
		sw.writeExpired()
	}
	return nil
}

// r3Request adapts the request for r3labs: the stream is the authorized session whatever the
// client sent, and Last-Event-ID is ours to handle (r3labs would reject or misuse it). r is
// already a copy; only its URL needs one of its own.
func r3Request(r *http.Request, sessionID string) *http.Request {
	u := *r.URL
	u.RawQuery = "stream=" + url.QueryEscape(sessionID)
	r.URL = &u
	r.Header.Del("Last-Event-ID")
	return r
}

// register admits a subscriber within the limits, creating the session's stream for its first.
func (h *Hub) register(sessionID string, sub *subscriber) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.entry(sessionID)
	if h.total >= h.opts.MaxSubscribers || len(s.subs) >= h.opts.MaxPerSession {
		h.dropIfIdle(sessionID, s)
		return api.Errorf(api.ETOOMANYSUBSCRIBERS, "too many event streams are open: retry in a moment")
	}
	if !h.srv.StreamExists(sessionID) {
		h.srv.CreateStream(sessionID)
	}
	s.subs[sub] = struct{}{}
	h.total++
	return nil
}

// unregister removes a subscriber and reports whether its session expired meanwhile.
func (h *Hub) unregister(sessionID string, sub *subscriber) (expired bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[sessionID]
	delete(s.subs, sub)
	h.total--
	h.dropIfIdle(sessionID, s)
	return sub.expired
}

// entry returns the live state of a session, creating it. Callers hold h.mu.
func (h *Hub) entry(sessionID string) *session {
	s := h.sessions[sessionID]
	if s == nil {
		s = &session{subs: map[*subscriber]struct{}{}, wake: make(chan struct{})}
		h.sessions[sessionID] = s
	}
	return s
}

// dropIfIdle removes the r3labs stream of a session with no subscribers, and forgets the
// session when nobody polls it either. Removing is safe here: r3labs has finished with every
// subscriber that unregistered (its ServeHTTP returns only after deregistering), and a new
// one registers under h.mu and so finds the stream gone and creates it again.
func (h *Hub) dropIfIdle(sessionID string, s *session) {
	if len(s.subs) > 0 {
		return
	}
	if h.srv.StreamExists(sessionID) {
		h.srv.RemoveStream(sessionID)
	}
	if s.pollers == 0 {
		delete(h.sessions, sessionID)
	}
}
