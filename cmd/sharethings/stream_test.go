package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"testing"
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
