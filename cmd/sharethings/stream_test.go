package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
)

// TestStreamHeadOverHTTP1 reads the head of a stream as an HTTP/1.1 client gets it from a
// connection the server has taken over: the headers EventSource clients and proxies rely on,
// a close-delimited body, CORS for an allowed origin, and the stream itself.
func TestStreamHeadOverHTTP1(t *testing.T) {
	cfg, clk := testConfig(t, "--cors-origins", "https://app.example")
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GET /api/v1/sessions/team-alpha/events HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n" +
		"Last-Event-ID: 0\r\nAuthorization: Bearer " + token + "\r\n\r\n"))
	r := textproto.NewReader(bufio.NewReader(conn))
	status, err := r.ReadLine()
	if err != nil || status != "HTTP/1.1 200 OK" {
		t.Fatalf("status line %q, %v", status, err)
	}
	head, err := r.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Content-Type":                "text/event-stream",
		"Cache-Control":               "no-cache, no-transform",
		"X-Accel-Buffering":           "no",
		"Connection":                  "close",
		"Access-Control-Allow-Origin": "https://app.example",
	}
	for name, value := range want {
		if got := head.Get(name); got != value {
			t.Errorf("%s: %q, want %q (head %v)", name, got, value, head)
		}
	}
	for _, name := range []string{"Content-Length", "Transfer-Encoding", "Content-Encoding"} {
		if got := head.Get(name); got != "" {
			t.Errorf("%s: %q on a close-delimited stream", name, got)
		}
	}
	if _, err := http.ParseTime(head.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", head.Get("Date"), err)
	}
	if line, _ := r.ReadLine(); !strings.HasPrefix(line, "retry: ") {
		t.Fatalf("first line %q, want the retry hint", line)
	}
	for line := ""; !strings.HasPrefix(line, "event: client.joined"); {
		if line, err = r.ReadLine(); err != nil {
			t.Fatalf("stream ended before the replayed client.joined: %v", err)
		}
	}
}

// TestStreamOverHTTP2 covers the streams that cannot be taken over: over TLS with HTTP/2 the
// stream is served in place, replays and delivers live events, and shutdown still ends it.
func TestStreamOverHTTP2(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	cfg, clk := testConfig(t, "--tls-cert", certFile, "--tls-key", keyFile)
	srv := startServer(t, cfg, clk)
	pool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	srv.client = client
	token := srv.session(t)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+"/api/v1/sessions/team-alpha/events?lastEventId=0", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.ProtoMajor != 2 || res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%s %d %v", res.Proto, res.StatusCode, res.Header)
	}
	lines := bufio.NewScanner(res.Body)
	waitLine := func(prefix string) {
		t.Helper()
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), prefix) {
				return
			}
		}
		t.Fatalf("stream ended before %q: %v", prefix, lines.Err())
	}
	waitLine("event: client.joined") // replayed from the log

	if r := srv.do(http.MethodDelete, "/api/v1/sessions/team-alpha/contents", nil, token); r.status/100 != 2 {
		t.Fatalf("clear: %d %s", r.status, r.body)
	}
	waitLine("event: session.cleared") // live

	srv.stop()
	if err := <-srv.done; err != nil {
		t.Fatalf("shutdown with an HTTP/2 stream open: %v", err)
	}
	srv.stop = nil
	for lines.Scan() {
	}
}

// TestNoLeakAfterManyStreams: 1,000 streams opened and dropped by their clients through the
// real server leave no goroutine, no descriptor and no subscriber behind.
func TestNoLeakAfterManyStreams(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	http.DefaultClient.CloseIdleConnections()
	srv.rawStream(t, token, 0).Close()
	waitFor(t, "no subscriber", func() bool { return srv.app.hub.Subscribers() == 0 })
	// The database's connection pool may grow (it is bounded, not leaking): count its
	// connections apart.
	fdsBesidesDB := func() int { return len(openFiles(t, "")) - srv.app.db.Connections() }
	goroutines, fds := runtime.NumGoroutine(), fdsBesidesDB()
	for range 1000 {
		srv.rawStream(t, token, 0).Close()
	}
	waitFor(t, "no subscriber", func() bool { return srv.app.hub.Subscribers() == 0 })
	waitFor(t, "goroutines back at baseline", func() bool { return runtime.NumGoroutine() <= goroutines })
	waitFor(t, "descriptors back at baseline", func() bool { return fdsBesidesDB() <= fds })
}

// TestStuckSubscriberIsCutOff: a client that stops reading is dropped once a write has waited
// the stream write timeout, while a reading client of the same session gets every event.
func TestStuckSubscriberIsCutOff(t *testing.T) {
	cfg, clk := testConfig(t)
	cfg.StreamWriteTimeout = 2 * time.Second
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	stuck := srv.rawStream(t, token, 4096)
	defer stuck.Close()
	reader := srv.rawStream(t, token, 0)
	defer reader.Close()
	frames := make(chan sseFrame, 16)
	go readFrames(t.Context(), reader, frames)

	var ids []string
	metadata := map[string]any{"iv": "TWyLqsnoByZFZIOi", "data": base64.StdEncoding.EncodeToString(make([]byte, api.MaxMetadataData))}
	for range 300 { // ~6 MB of events: far more than the stuck client's socket buffers hold
		it := newItem(t, 100, 65536)
		body := it.announceBody()
		body["metadata"] = metadata
		if r := srv.do(http.MethodPost, "/api/v1/sessions/team-alpha/contents", body, token); r.status != http.StatusCreated {
			t.Fatalf("announce: %d %s", r.status, r.body)
		}
		ids = append(ids, it.id)
	}
	for _, id := range ids {
		for f := range frames {
			if f.err != nil {
				t.Fatalf("the reading client's stream ended: %v", f.err)
			}
			if f.event == "content.created" {
				if !strings.Contains(f.data, id) {
					t.Fatalf("content.created out of order: want %s", id)
				}
				break
			}
		}
	}
	waitFor(t, "the stuck subscriber dropped", func() bool { return srv.app.hub.Subscribers() == 1 })
}

// rawStream opens the session's stream on a plain connection (with a receive buffer of that
// many bytes, if not 0) and returns it once the head has been read, positioned at the body.
func (s *testServer) rawStream(t testing.TB, token string, readBuffer int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if readBuffer > 0 {
		conn.(*net.TCPConn).SetReadBuffer(readBuffer)
	}
	conn.Write([]byte("GET /api/v1/sessions/team-alpha/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n"))
	// Read the head byte by byte so that nothing of the body is consumed here.
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		var b [1]byte
		if _, err := conn.Read(b[:]); err != nil {
			t.Fatalf("stream head %q: %v", head, err)
		}
		head = append(head, b[0])
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 200 ")) {
		t.Fatalf("stream answered %q", head)
	}
	return conn
}
