package sse

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
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
	cancel context.CancelCauseFunc

	started bool
	frame   bytes.Buffer
	out     bytes.Buffer
	last    int64 // id of the newest event sent
	resync  bool
}

func (h *Hub) newStreamWriter(ctx context.Context, w http.ResponseWriter, sub Subscription, cancel context.CancelCauseFunc) (*streamWriter, error) {
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
			sw.cancel(err) // the client reconnects with its Last-Event-ID
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

// handleFrame passes on, repairs or drops one frame from r3labs.
func (sw *streamWriter) handleFrame(frame []byte) {
	f := parseFrame(frame)
	switch {
	case f.heartbeat:
		if f.latest > sw.last {
			sw.catchUp(f.latest)
		}
		sw.out.WriteString(": heartbeat\n\n")
	case f.id <= sw.last:
		// Already sent by the replay or a catch-up.
	case f.prev != sw.last:
		sw.catchUp(f.id)
	default:
		sw.out.Write(f.clean)
		sw.last = f.id
	}
}

// send writes what is pending with a deadline, cutting the subscriber off when it cannot keep
// up or has gone.
func (sw *streamWriter) send() {
	sw.rc.SetWriteDeadline(time.Now().Add(sw.h.opts.WriteTimeout))
	if sw.out.Len() > 0 {
		_, err := sw.w.Write(sw.out.Bytes())
		sw.out.Reset()
		if err != nil {
			sw.cancel(err)
			return
		}
	}
	if err := sw.rc.Flush(); err != nil {
		sw.cancel(err)
	}
}

// writeExpired tells the client its session is gone, after r3labs has let go of the stream.
func (sw *streamWriter) writeExpired() {
	fmt.Fprintf(&sw.out, "event: %s\ndata: {}\n\n", api.EventSessionExpired)
	sw.send()
}

// frame is what the writer needs from one r3labs frame.
type frame struct {
	heartbeat bool
	latest    int64  // heartbeat: the session's newest id
	id, prev  int64  // event: its id and the previous one
	clean     []byte // event: the frame without the prev comment
}

func parseFrame(b []byte) frame {
	var f frame
	var clean bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		text := string(bytes.TrimRight(line, "\n"))
		switch {
		case len(text) > 2 && text[:2] == ": " && bytes.HasPrefix(line[2:], []byte(heartbeatPrefix)):
			f.heartbeat = true
			f.latest, _ = strconv.ParseInt(text[2+len(heartbeatPrefix):], 10, 64)
		case len(text) > 2 && text[:2] == ": " && bytes.HasPrefix(line[2:], []byte(prevPrefix)):
			f.prev, _ = strconv.ParseInt(text[2+len(prevPrefix):], 10, 64)
		default:
			if v, ok := bytes.CutPrefix(line, []byte("id: ")); ok {
				f.id, _ = strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			}
			clean.Write(line)
		}
	}
	f.clean = clean.Bytes()
	return f
}
