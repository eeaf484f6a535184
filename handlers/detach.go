package handlers

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// An event stream mostly waits, and on HTTP/1.x it waits cheaper outside net/http: a stream
// that has passed its checks takes the connection over (Hijack) and goes on in a goroutine of
// its own, so the request's goroutine, net/http's per-connection read and write buffers and
// its background reader are all released. Measured at 2,000 idle streams this halves what a
// subscriber costs beyond r3labs' own subscriber. HTTP/2 streams cannot be taken over and are
// served in place.

// detachedStreams tracks the streams running outside net/http, which http.Server.Shutdown
// does not know about: CloseStreams ends them and waits for them.
type detachedStreams struct {
	mu       sync.Mutex
	closed   bool
	ctx      context.Context // ends at CloseStreams; the streams' contexts derive from it
	closeAll context.CancelFunc
	running  sync.WaitGroup
}

func newDetachedStreams() *detachedStreams {
	ctx, cancel := context.WithCancel(context.Background())
	return &detachedStreams{ctx: ctx, closeAll: cancel}
}

// detach takes the connection of an HTTP/1.x request over. It returns a writer for the
// response, whose head starts with w's header so far, and a context that ends when the client
// goes, when CloseStreams runs, or when stop is called. ok is false when the connection cannot
// be taken over (HTTP/2) or the server is closing; the caller then serves the request in
// place. The caller must call stop when the stream has ended: it closes the connection.
func (d *detachedStreams) detach(w http.ResponseWriter, r *http.Request) (dw *detachedWriter, ctx context.Context, stop func(), ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || r.ProtoMajor != 1 {
		return nil, nil, nil, false
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, nil, false
	}
	ctx, cancel := context.WithCancel(d.ctx)
	d.running.Add(1)
	go watchHangUp(conn, cancel)
	stop = func() {
		cancel()
		conn.Close()
		d.running.Done()
	}
	return &detachedWriter{conn: conn, header: w.Header().Clone()}, ctx, stop, true
}

// watchHangUp cancels the stream when the client closes the connection (or sends anything,
// which a client waiting for a close-delimited response has no reason to do).
func watchHangUp(conn net.Conn, cancel context.CancelFunc) {
	var b [1]byte
	conn.Read(b[:])
	cancel()
}

// CloseStreams ends the event streams running outside net/http and waits until they have
// finished. Call it after http.Server.Shutdown and before closing the stores.
func (s *Server) CloseStreams() { s.detached.close() }

// close ends the streams running outside net/http and waits until they have finished (their
// last presence update and log line included).
func (d *detachedStreams) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.closeAll()
	d.running.Wait()
}

// detachedWriter is an http.ResponseWriter over a taken-over HTTP/1.x connection. The body is
// close-delimited (Connection: close, no length, no chunking), so every Write goes to the
// connection as it is, in one system call together with the head the first time. Like
// net/http's buffered writer, it fails every write after the first failure: a stream that
// timed out must not wait out another deadline for each frame still queued for it.
type detachedWriter struct {
	conn   net.Conn
	header http.Header
	head   []byte // the status line and header, until written
	status int
	err    error // the first write error
}

func (w *detachedWriter) Header() http.Header { return w.header }

// WriteHeader renders the head; it goes out with the first Write or Flush.
func (w *detachedWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	w.header.Set("Connection", "close")
	w.header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	w.header.Write(&head)
	head.WriteString("\r\n")
	w.head = head.Bytes()
}

func (w *detachedWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.head == nil {
		n, err := w.conn.Write(p)
		w.err = err
		return n, err
	}
	headLen, bufs := len(w.head), net.Buffers{w.head, p}
	n, err := bufs.WriteTo(w.conn)
	w.head, w.err = nil, err
	return int(max(0, n-int64(headLen))), err
}

// Flush sends the head if nothing has been written yet; writes are not buffered.
func (w *detachedWriter) Flush() {
	if w.head == nil && w.status != 0 {
		return
	}
	w.Write(nil)
}

// SetWriteDeadline lets http.ResponseController bound each write, as it does on net/http's
// own writers.
func (w *detachedWriter) SetWriteDeadline(t time.Time) error { return w.conn.SetWriteDeadline(t) }
