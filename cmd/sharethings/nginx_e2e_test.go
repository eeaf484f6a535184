package main

// The event stream behind nginx with its default, buffering proxy settings: an EventSource and
// a raw HTTP reader, checked against the durable log like the EventSource in events_e2e_test.go.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proxyIdleTimeout is nginx's proxy_read_timeout in the proxy test: a stream silent this long
// is closed by the proxy, so only the server's heartbeats keep it open.
const proxyIdleTimeout = 3 * time.Second

// requireNginx returns the nginx binary. The proxy test needs a real buffering reverse proxy,
// and .ci/run installs Debian's nginx: a missing one is an error to fix, not a reason to skip.
func requireNginx(t *testing.T) string {
	t.Helper()
	if bin, err := exec.LookPath("nginx"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx is not installed: `apt-get install nginx` (.ci/run installs it); the event stream must be tested behind a buffering reverse proxy")
	return ""
}

// startNginx runs nginx on a free loopback port in front of upstream and returns its URL. The
// proxy keeps nginx's defaults (proxy_buffering on, HTTP/1.0 to the upstream), as an operator's
// first config would; only the idle timeout is short. Everything it writes stays in a temp dir.
func startNginx(t *testing.T, upstream string) string {
	t.Helper()
	bin := requireNginx(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers must reach the temp paths inside the 0700 test dir
	}
	conf := filepath.Join(dir, "nginx.conf")
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`worker_processes 1;
%[1]s
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[2]s/client_body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	server {
		listen %[3]s;
		location / {
			proxy_pass %[4]s;
			proxy_read_timeout %[5]ds;
		}
	}
}
`, user, dir, addr, upstream, int(proxyIdleTimeout.Seconds()))), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cmd := exec.Command(bin, "-e", "stderr", "-p", dir, "-c", conf, "-g", "daemon off; pid "+dir+"/nginx.pid; error_log stderr;")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// Its own process group, so no worker outlives the test even if the master dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("nginx logs:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(eventWait)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-exited:
			t.Fatalf("nginx exited: %v\n%s", cmd.ProcessState, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not answer /healthz within %v: %v %v\n%s", eventWait, res, err, logs.String())
		}
	}
}

// sseFrame is one frame of a raw event stream.
type sseFrame struct {
	comment, id, event, data string
	at                       time.Time // when its blank line was read
	err                      error     // the stream ended (the last frame on the channel)
}

// readFrames parses a text/event-stream body into frames until it ends or ctx does.
func readFrames(ctx context.Context, body io.Reader, frames chan<- sseFrame) {
	defer close(frames)
	lines := bufio.NewScanner(body)
	var f sseFrame
	for lines.Scan() {
		line := lines.Text()
		name, value, _ := strings.Cut(line, ": ")
		switch {
		case line == "":
			f.at = time.Now()
			select {
			case frames <- f:
			case <-ctx.Done():
				return
			}
			f = sseFrame{}
		case name == "":
			f.comment = value
		case name == "id":
			f.id = value
		case name == "event":
			f.event = value
		case name == "data":
			f.data = value
		}
	}
	err := lines.Err()
	if err == nil {
		err = io.EOF
	}
	select {
	case frames <- sseFrame{err: err, at: time.Now()}:
	case <-ctx.Done():
	}
}

func TestEventsThroughBufferingProxy(t *testing.T) {
	requireEventTools(t)
	requireNginx(t)
	cfg, clk := testConfig(t, "--heartbeat", "1s")
	srv := startServer(t, cfg, clk)
	proxy := startNginx(t, srv.url)
	token, _, start := srv.streamJoin(t)

	// An event reaches an EventSource behind nginx while it happens: the server's
	// X-Accel-Buffering: no turns nginx's response buffering off for the stream. The latency is
	// reported, not asserted: a buffered stream shows as a missing event, not a slow one.
	t.Run("EventArrives", func(t *testing.T) {
		es := startEventClient(t, "eventsource via nginx", eventsJob{URL: proxy + eventsPath, Token: token, LastEventID: &start}, srv.logs.String)
		es.waitOpen()
		es.waitEvent("client.joined", "")
		var latencies []time.Duration
		for range 5 {
			it := newItem(t, 100, 64*kiB)
			sent := time.Now()
			srv.requireAnnounce(t, token, it) // straight to the server: only the stream crosses nginx
			latencies = append(latencies, es.waitEvent("content.created", it.id).at.Sub(sent))
		}
		t.Logf("announce sent → content.created printed by the EventSource behind nginx: %v", latencies)
		requireSameEvents(t, "the EventSource behind nginx", es.events, srv.eventLog(t, start))
	})

	// nginx closes a stream silent for proxyIdleTimeout; the heartbeats keep it open, so an
	// event sent after three times that still arrives on the same connection.
	t.Run("HeartbeatsKeepStreamOpen", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, proxy+eventsPath, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		// A buffering proxy may hold back even the response head.
		headless := time.AfterFunc(eventWait, cancel)
		res, err := http.DefaultClient.Do(req)
		if !headless.Stop() {
			t.Fatalf("no response from nginx within %v: %v", eventWait, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		// Cancel first: closing the body alone would wait for the reader's pending Read.
		defer func() { cancel(); res.Body.Close() }()
		if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("stream through nginx: %d %q", res.StatusCode, ct)
		}
		opened := time.Now()
		frames := make(chan sseFrame, 1024)
		go readFrames(ctx, res.Body, frames)
		next := func(what string) sseFrame {
			t.Helper()
			select {
			case f := <-frames:
				if f.err != nil {
					t.Fatalf("nginx ended the stream after %v while waiting for %s: %v\nserver logs:\n%s", f.at.Sub(opened), what, f.err, srv.logs.String())
				}
				return f
			case <-time.After(eventWait):
				t.Fatalf("no %s through nginx within %v", what, eventWait)
			}
			return sseFrame{}
		}

		need := int(3*proxyIdleTimeout/cfg.Heartbeat) + 1
		var beats []time.Time
		for len(beats) < need || time.Since(opened) <= 3*proxyIdleTimeout {
			if f := next("a heartbeat"); f.comment == "heartbeat" {
				beats = append(beats, f.at)
			}
		}
		var widest time.Duration
		for i := 1; i < len(beats); i++ {
			widest = max(widest, beats[i].Sub(beats[i-1]))
		}
		t.Logf("%d heartbeats through nginx in %v (widest gap %v, idle timeout %v)", len(beats), time.Since(opened).Round(time.Millisecond), widest.Round(time.Millisecond), proxyIdleTimeout)

		it := newItem(t, 100, 64*kiB)
		sent := time.Now()
		srv.requireAnnounce(t, token, it)
		for {
			f := next("content.created of " + it.id)
			if f.event != "content.created" {
				continue
			}
			e := loggedEvent{Event: f.event, Data: json.RawMessage(f.data)}
			e.ID, _ = strconv.ParseInt(f.id, 10, 64)
			if e.contentID() == it.id {
				t.Logf("announce sent → content.created read by a raw client behind nginx: %v", f.at.Sub(sent))
				logged := srv.eventLog(t, e.ID-1)
				requireSameEvents(t, "the raw stream behind nginx", []loggedEvent{e}, logged[:1])
				return
			}
		}
	})
}
