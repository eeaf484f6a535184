package sse

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sharethings/sharethings/api"
)

// streamWriter sits between r3labs and the client. r3labs writes one frame per live event and
// flushes after each; the writer holds the frame until the flush and then decides:
//   - the first flush (r3labs has registered the subscriber) sends the replay from the log;
//   - a frame already covered by the replay is dropped, so nothing arrives twice;
//   - a frame whose previous id is not the last one sent means live copies were dropped: the
//     gap is read from the log first, so nothing is lost;
//   - every write has a deadline; a client that cannot keep up is cut off and resumes with
//     its Last-Event-ID, so it never holds up the others.
type streamWriter struct {
	h      *Hub
	ctx    context.Context
	w      http.ResponseWriter
	rc     *http.ResponseController
	sub    Subscription
	cancel context.CancelFunc

	started  bool
	frame    bytes.Buffer
	out      bytes.Buffer
	last     int64 // id of the newest event sent
	resync   bool
	deadline time.Time // the write deadline now set on the connection
}

func (h *Hub) newStreamWriter(ctx context.Context, w http.ResponseWriter, sub Subscription, cancel context.CancelFunc) (*streamWriter, error) {
	latest, pruned, err := h.log.EventBounds(ctx, sub.SessionID)
	if err != nil {
		return nil, err
	}
	sw := &streamWriter{h: h, ctx: ctx, w: w, rc: http.NewResponseController(w), sub: sub, cancel: cancel, last: sub.LastEventID}
	switch {
	case sub.LastEventID == LiveOnly:
		sw.last = latest
	case sub.LastEventID < pruned || sub.LastEventID > latest:
		// Older than the kept log, or from no log this session ever had: start over.
		sw.resync, sw.last = true, max(pruned, min(sub.LastEventID, latest))
	}
	return sw, nil
}

func (sw *streamWriter) Header() http.Header         { return sw.w.Header() }
func (sw *streamWriter) WriteHeader(status int)      { sw.w.WriteHeader(status) }
func (sw *streamWriter) Unwrap() http.ResponseWriter { return sw.w }

// Write collects r3labs' output until it flushes.
func (sw *streamWriter) Write(p []byte) (int, error) { return sw.frame.Write(p) }

// Flush handles one frame (or, the first time, the opening of the stream).
func (sw *streamWriter) Flush() {
	if !sw.started {
		sw.started = true
		sw.open()
	} else {
		sw.handleFrame(sw.frame.Bytes())
	}
	sw.frame.Reset()
	sw.send()
}

// open starts the stream: the retry hint, a resync if the client's position is lost, then
// every logged event after it.
func (sw *streamWriter) open() {
	fmt.Fprintf(&sw.out, "retry: %d\n\n", sw.h.opts.ReconnectRetryDelay.Milliseconds())
	if sw.resync {
		fmt.Fprintf(&sw.out, "id: %d\nevent: %s\ndata: {}\n\n", sw.last, api.EventSessionResync)
	}
	sw.catchUp(0)
}

// catchUp sends logged events after the last one sent, up to id through (0: all).
func (sw *streamWriter) catchUp(through int64) {
	for {
		events, err := sw.h.log.ListEvents(sw.ctx, sw.sub.SessionID, sw.last, sw.h.opts.ReplayPage)
		if err != nil {
			sw.cancel() // the client reconnects with its Last-Event-ID
			return
		}
		for _, e := range events {
			if through > 0 && e.ID > through {
				return
			}
			fmt.Fprintf(&sw.out, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, e.Data)
			sw.last = e.ID
		}
		if len(events) < sw.h.opts.ReplayPage {
			return
		}
	}
}

// handleFrame passes on, repairs or drops one frame from r3labs. It runs once per subscriber
// per event, so it parses in place and allocates nothing.
func (sw *streamWriter) handleFrame(frame []byte) {
	if latest, ok := heartbeatLatest(frame); ok {
		if latest > sw.last {
			sw.catchUp(latest)
		}
		sw.out.WriteString(": heartbeat\n\n")
		return
	}
	id, prev, before, after := parseEvent(frame)
	switch {
	case id <= sw.last:
		// Already sent by the replay or a catch-up.
	case prev != sw.last:
		sw.catchUp(id)
	default:
		sw.out.Write(before) // the frame without its prev comment
		sw.out.Write(after)
		sw.last = id
	}
}

// send writes what is pending with a deadline, cutting the subscriber off when it cannot keep
// up or has gone. Moving a deadline costs a timer update, so it is moved only when less than
// half of WriteTimeout is left: no write can wait longer than WriteTimeout.
func (sw *streamWriter) send() {
	if now := time.Now(); sw.deadline.Sub(now) < sw.h.opts.WriteTimeout/2 {
		sw.deadline = now.Add(sw.h.opts.WriteTimeout)
		sw.rc.SetWriteDeadline(sw.deadline)
	}
	if sw.out.Len() > 0 {
		_, err := sw.w.Write(sw.out.Bytes())
		sw.out.Reset()
		if err != nil {
			sw.cancel()
			return
		}
	}
	if err := sw.rc.Flush(); err != nil {
		sw.cancel()
	}
}

// writeExpired tells the client its session is gone, after r3labs has let go of the stream.
func (sw *streamWriter) writeExpired() {
	fmt.Fprintf(&sw.out, "event: %s\ndata: {}\n\n", api.EventSessionExpired)
	sw.send()
}

var (
	heartbeatMarker = []byte(": " + heartbeatPrefix)
	prevMarker      = []byte("\n: " + prevPrefix)
)

// heartbeatLatest reads the newest id from a heartbeat frame (": hb latest=N").
func heartbeatLatest(frame []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(frame, heartbeatMarker)
	if !ok {
		return 0, false
	}
	return leadingInt(rest), true
}

// parseEvent reads an event frame as r3labs writes it ("id: N\n…\n: prev=P\n\n") and splits
// it around the prev comment.
func parseEvent(frame []byte) (id, prev int64, before, after []byte) {
	id = leadingInt(bytes.TrimPrefix(frame, []byte("id: ")))
	i := bytes.Index(frame, prevMarker)
	if i < 0 {
		return id, -1, frame, nil
	}
	comment := frame[i+len(prevMarker):]
	prev = leadingInt(comment)
	end := bytes.IndexByte(comment, '\n')
	return id, prev, frame[:i+1], comment[end+1:]
}

// leadingInt parses the decimal digits at the start of b.
func leadingInt(b []byte) int64 {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
