package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/sharethings/sharethings/api"
)

// ErrSessionExpired is returned by Events after the server announced session.expired: the
// session and everything in it are gone.
var ErrSessionExpired = errors.New("client: the session expired")

// streamIdleTimeout declares a stream dead when nothing, not even a heartbeat, arrived for
// three of the protocol's longest heartbeat intervals (15 s). A connection that died without
// a FIN (a laptop lid, a NAT timeout) would otherwise hang for ever.
const streamIdleTimeout = 45 * time.Second

// errStreamEnded is the "failure" of a stream the server closed cleanly (at token expiry,
// at shutdown): reconnect after the retry delay.
var errStreamEnded = errors.New("client: the event stream ended")

// Event is one Server-Sent Event of the session. ID is 0 for a frame without an id
// (session.expired).
type Event struct {
	ID   int64
	Type string
	Data json.RawMessage
}

// Events streams the session's events to fn, starting after lastEventID (-1: live events
// only, no Last-Event-ID; pass the join answer's LastEventID to miss nothing, since a stream
// that breaks before its first event can only come back live). It reconnects after network
// errors, 5xx/429 answers and clean ends of the stream, with backoff no shorter than the
// server's retry hint, sending the id of the last event fn accepted so nothing is lost or
// repeated. The token is refreshed before it expires (the server ends streams then), and
// once more if the server answers token_expired. It returns when ctx ends (ctx.Err()), when
// fn returns an error (that error), after fn got session.expired (ErrSessionExpired), or on
// an answer that retrying cannot change (*Error: unauthorized, client_left, forbidden, a
// refused refresh...).
func (c *Client) Events(ctx context.Context, lastEventID int64, fn func(Event) error) error {
	path, err := c.sessionPath("/events")
	if err != nil {
		return err
	}
	s := &eventStream{c: c, path: path, last: lastEventID, fn: fn}
	return s.run(ctx)
}

// eventStream is the state Events keeps across reconnections.
type eventStream struct {
	c     *Client
	path  string
	fn    func(Event) error
	last  int64         // id of the last event fn accepted, or -1
	retry time.Duration // the server's reconnection hint: a floor for every wait
	// refreshed is set after a token_expired answer led to a refresh, so a second one in a
	// row is final.
	refreshed bool
}

// stopError carries an outcome that ends Events: fn's error or ErrSessionExpired.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }

func (s *eventStream) run(ctx context.Context) error {
	// Attempts do not apply: a listener waits for the server as long as its caller wants.
	bo := s.c.newBackoff()
	bo.unlimited = true
	for {
		opened, err := s.connect(ctx)
		var stop *stopError
		switch {
		case errors.As(err, &stop):
			return stop.err
		case ctx.Err() != nil:
			return ctx.Err()
		case opened:
			bo.reset()
			s.refreshed = false
		}
		if IsCode(err, api.ETOKENEXPIRED) && !s.refreshed {
			s.refreshed = true
			if err := s.c.Refresh(ctx); err != nil {
				return err
			}
			continue
		}
		if err == nil {
			err = errStreamEnded
		} else if !retryable(err) {
			return err
		}
		if err := bo.wait(ctx, err, max(s.retry, retryFloor(err))); err != nil {
			return err
		}
	}
}

// connect opens the stream once and delivers its events until it ends. opened reports
// whether the server accepted the stream.
func (s *eventStream) connect(ctx context.Context) (opened bool, err error) {
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := s.c.newRequest(streamCtx, http.MethodGet, s.path, nil, true)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if s.last >= 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(s.last, 10))
	}
	res, err := s.c.httpClient().Do(req)
	if err != nil {
		return false, transient(ctx, err)
	}
	defer res.Body.Close()
	if err := checkStatus(res); err != nil {
		return false, err
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fmt.Errorf("client: the event stream answered %q, not text/event-stream", res.Header.Get("Content-Type"))
	}
	defer s.scheduleRefresh(ctx)()
	body := newIdleReader(res.Body, streamIdleTimeout, cancel)
	defer body.stop()
	return true, s.deliver(ctx, body)
}

// deliver passes the stream's events to fn until the stream ends.
func (s *eventStream) deliver(ctx context.Context, body *idleReader) error {
	r := newSSEReader(body)
	for {
		f, err := r.next()
		if r.retry > 0 {
			s.retry = r.retry
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return transient(ctx, err)
		}
		// A slow fn (one that downloads what was announced, say) is not a silent server.
		body.stop()
		err = s.dispatch(f, r)
		body.start()
		if err != nil {
			return &stopError{err}
		}
	}
}

// dispatch hands one event to fn and advances the position. A resync frame moves the
// position back or forward to the id it carries; any other event at or before the position
// was delivered already and is dropped (the server should not send it; this makes sure).
func (s *eventStream) dispatch(f sseFrame, r *sseReader) error {
	resync := f.event == api.EventSessionResync
	if f.hasID && s.last >= 0 && f.id <= s.last && !resync {
		return nil
	}
	ev := Event{Type: f.event, Data: json.RawMessage(f.data)}
	if f.hasID {
		ev.ID = f.id
	}
	if err := s.fn(ev); err != nil {
		return err
	}
	if r.hasLastID {
		s.last = r.lastID
	}
	if f.event == api.EventSessionExpired {
		return ErrSessionExpired
	}
	return nil
}

// scheduleRefresh refreshes the token when three quarters of its life have passed, while the
// stream runs: the server closes the stream when the token expires and would refuse to
// refresh it then. The returned func cancels the timer.
func (s *eventStream) scheduleRefresh(ctx context.Context) (cancel func()) {
	at, ok := refreshTime(s.c.CurrentToken())
	if !ok {
		return func() {}
	}
	t := time.AfterFunc(time.Until(at), func() { s.c.bearer(ctx) })
	return func() { t.Stop() }
}

// idleReader calls onIdle when no byte arrived for d.
type idleReader struct {
	r io.Reader
	d time.Duration
	t *time.Timer
}

func newIdleReader(r io.Reader, d time.Duration, onIdle func()) *idleReader {
	return &idleReader{r: r, d: d, t: time.AfterFunc(d, onIdle)}
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	if n > 0 {
		i.t.Reset(i.d)
	}
	return n, err
}

// stop pauses the watch; start resumes it with a full delay.
func (i *idleReader) stop()  { i.t.Stop() }
func (i *idleReader) start() { i.t.Reset(i.d) }
