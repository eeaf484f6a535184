// Package sse is the live side of the event log: it streams a session's events to subscribers
// over Server-Sent Events through r3labs/sse, replays what they missed from the durable log,
// and answers long polls.
//
// r3labs keeps no history here (AutoReplay off: ids are the log's, not its own counters) and
// creates no stream on a client's say-so (AutoStream off). Every live event carries the id of
// the session's previous event, so a subscriber that missed one (its copy was dropped rather
// than block a publisher) reads the gap from the log: publishing never blocks and nothing is
// lost. This package knows neither gin nor storage.
package sse

import (
	"context"
	"strconv"
	"sync"
	"time"

	r3 "github.com/r3labs/sse/v2"

	"github.com/sharethings/sharethings/api"
)

// Options bound the hub's work.
type Options struct {
	WriteTimeout        time.Duration // a subscriber that cannot take a frame this long is dropped
	MaxSubscribers      int           // streams open on this server
	MaxPerSession       int           // streams open in one session
	ReplayPage          int           // events read from the log at a time
	PollWait            time.Duration // how long a long poll waits for an event
	ReconnectRetryDelay time.Duration // the retry hint sent to EventSource clients
}

// Hub implements api.Broker: one r3labs stream per session with subscribers.
type Hub struct {
	srv  *r3.Server
	log  api.EventLog
	opts Options

	mu       sync.Mutex
	sessions map[string]*session
	total    int
}

// session is the live state of one session's subscribers and pollers.
type session struct {
	latest  int64                    // newest event id published
	subs    map[*subscriber]struct{} // open streams
	pollers int
	wake    chan struct{} // closed at each publish, then replaced: long polls wait on it
}

type subscriber struct {
	clientID string
	cancel   context.CancelFunc
	expired  bool // set under Hub.mu when its session expires
}

// NewHub returns a hub reading replays from log.
func NewHub(log api.EventLog, opts Options) *Hub {
	srv := r3.New()
	srv.AutoReplay = false
	srv.AutoStream = false
	srv.Headers = map[string]string{
		"Cache-Control":     "no-cache, no-transform",
		"X-Accel-Buffering": "no",
	}
	return &Hub{srv: srv, log: log, opts: opts, sessions: map[string]*session{}}
}

var _ api.Broker = (*Hub)(nil)

// Publish sends committed events to the session's subscribers and wakes its long polls. It
// never blocks: a copy that does not fit a stream's buffer is dropped, and its subscriber
// reads the gap from the log when the next event or heartbeat shows it.
func (h *Hub) Publish(events []api.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range events {
		s := h.sessions[e.SessionID]
		if s == nil {
			continue // nobody listens
		}
		s.latest = max(s.latest, e.ID)
		close(s.wake)
		s.wake = make(chan struct{})
		if len(s.subs) > 0 {
			h.srv.TryPublish(e.SessionID, liveEvent(e))
		}
	}
}

// liveEvent renders a log event for r3labs: the log id (so Last-Event-ID survives restarts),
// the name, the JSON data (never empty: an empty frame would end every stream of the session)
// and, as a comment the writer strips, the previous id for gap detection.
func liveEvent(e api.Event) *r3.Event {
	data := e.Data
	if len(data) == 0 {
		data = []byte("{}")
	}
	return &r3.Event{
		ID:      []byte(strconv.FormatInt(e.ID, 10)),
		Event:   []byte(e.Type),
		Data:    data,
		Comment: []byte(prevPrefix + strconv.FormatInt(e.Prev, 10)),
	}
}

const (
	prevPrefix      = "prev="
	heartbeatPrefix = "hb latest="
)

// Heartbeat sends a heartbeat to every stream; run it every Options.Heartbeat. Each carries
// the session's newest id, so a subscriber whose last live copy was dropped catches up within
// one heartbeat.
func (h *Hub) Heartbeat(context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sid, s := range h.sessions {
		if len(s.subs) > 0 {
			h.srv.TryPublish(sid, &r3.Event{Comment: []byte(heartbeatPrefix + strconv.FormatInt(s.latest, 10))})
		}
	}
}

// Expire tells the subscribers of a session that has been deleted, ends their streams and
// wakes its long polls.
func (h *Hub) Expire(sessionID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[sessionID]
	if s == nil {
		return
	}
	for sub := range s.subs {
		sub.expired = true
		sub.cancel()
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

// CatchUp publishes what the log holds beyond the newest event each session's subscribers
// were sent: run it when events may have been recorded without reaching Publish (another
// instance's, while the notifications from it were cut).
func (h *Hub) CatchUp(ctx context.Context) {
	h.mu.Lock()
	latest := make(map[string]int64, len(h.sessions))
	for sid, s := range h.sessions {
		latest[sid] = s.latest
	}
	h.mu.Unlock()
	for sid, after := range latest {
		events, err := h.log.ListEvents(ctx, sid, after, h.opts.ReplayPage)
		if err == nil && len(events) > 0 {
			h.Publish(events)
		}
	}
}

// Follows reports whether anyone here streams or polls the session: events of the others
// need not be read for this hub.
func (h *Hub) Follows(sessionID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[sessionID] != nil
}

// Holding returns the clients that have a stream open, and the sessions they are in.
func (h *Hub) Holding() (clientIDs, sessionIDs []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sid, s := range h.sessions {
		if len(s.subs) > 0 {
			sessionIDs = append(sessionIDs, sid)
		}
		for sub := range s.subs {
			clientIDs = append(clientIDs, sub.clientID)
		}
	}
	return clientIDs, sessionIDs
}

// Subscribers returns how many streams are open.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// Close ends every stream.
func (h *Hub) Close() {
	h.mu.Lock()
	for _, s := range h.sessions {
		for sub := range s.subs {
			sub.cancel()
		}
	}
	h.mu.Unlock()
}
