// Package sse is the live side of the event log: it fans events that storage has committed out
// to Server-Sent Events subscribers through r3labs/sse.
//
// r3labs keeps no history here (AutoReplay off: ids are the log's, not its own counters) and
// creates no stream on a client's say-so (AutoStream off). Durable replay comes from the
// api.EventLog, not from memory. This package knows neither gin nor storage.
package sse

import (
	"strconv"

	r3 "github.com/r3labs/sse/v2"

	"github.com/sharethings/sharethings/api"
)

// Hub implements api.Broker over one r3labs server with a stream per session.
type Hub struct {
	srv *r3.Server
}

// NewHub returns a hub with replay and automatic stream creation off, and headers that keep
// proxies from buffering or transforming the stream.
func NewHub() *Hub {
	srv := r3.New()
	srv.AutoReplay = false
	srv.AutoStream = false
	srv.Headers = map[string]string{
		"Cache-Control":     "no-cache, no-transform",
		"X-Accel-Buffering": "no",
	}
	return &Hub{srv: srv}
}

var _ api.Broker = (*Hub)(nil)

// Publish sends committed events to the session streams that exist. It never blocks: a
// session nobody listens to has no stream, and a full stream buffer drops the live copy,
// which the subscriber recovers by replaying from its Last-Event-ID.
func (h *Hub) Publish(events []api.Event) {
	for _, e := range events {
		if !h.srv.StreamExists(e.SessionID) {
			continue
		}
		h.srv.TryPublish(e.SessionID, toSSE(e))
	}
}

// toSSE renders a log event as an SSE frame: the log id (so Last-Event-ID survives restarts),
// the event name and the JSON data, which is never empty (an empty frame would end r3labs'
// stream for every subscriber).
func toSSE(e api.Event) *r3.Event {
	data := e.Data
	if len(data) == 0 {
		data = []byte("{}")
	}
	return &r3.Event{ID: []byte(strconv.FormatInt(e.ID, 10)), Event: []byte(e.Type), Data: data}
}

// Close ends every stream.
func (h *Hub) Close() { h.srv.Close() }
