package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	targetOurs     = "sharethings"
	targetBaseline = "baseline"
)

// server is one kind of server under test, for one round.
type server interface {
	// start runs the server as a child process with its data in dir.
	start(ctx context.Context, dir string) (*child, error)
	// prepare does what must happen before subscribers connect (ShareThings: joins).
	prepare(ctx context.Context, subscribers int) error
	// streamRequest is the raw HTTP/1.1 request subscriber i sends to open its stream.
	streamRequest(i int) []byte
	// opensWithRetry: the stream counts as open at its "retry:" frame, not at its headers.
	opensWithRetry() bool
	// publish makes the server emit one event whose data holds contentID.
	publish(ctx context.Context, contentID string) error
	// openStreams is how many streams the server itself counts, or -1 when it does not say.
	openStreams(ctx context.Context) (int, error)
}

// newServer returns a fresh server of the named kind.
func newServer(kind string, o *options, bin string) server {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	if kind == targetBaseline {
		return &baselineServer{bin: bin, http: hc}
	}
	return &ourServer{bin: o.serverBin, extra: strings.Fields(o.serverArgs), clients: o.clients, plainLen: o.plainLen, http: hc}
}

// ourServer is ShareThings, session 0 of testdata/protocol-vectors.json ("team-alpha").
type ourServer struct {
	bin      string
	extra    []string
	clients  int
	plainLen int
	http     *http.Client
	base     string
	tokens   []string // subscribers' clients
	pubToken string   // the announcing client, which holds no stream
}

const (
	sessionID   = "team-alpha"
	fingerprint = `{"iv":"0u5eP0IgmNofZjw4","data":"C10xaqUxvGwWFmwGhmcxdaSjX4o/cgoZ+QY="}`
	sessionKDF  = `{"alg":"PBKDF2-SHA256","iterations":1000,"salt":"ByZFZIOiweD/Hj1ce5q52A=="}`
)

func (s *ourServer) start(ctx context.Context, dir string) (*child, error) {
	args := append([]string{
		"--addr", "{addr}", "--data-dir", dir + "/data", "--min-kdf-iterations", "1000",
		"--join-rate", "1000000", "--max-subscribers", "20000", "--max-session-subscribers", "20000",
		"--session-max-items", "1000000", "--heartbeat", "15s", "--log-level", "warn",
	}, s.extra...)
	c, err := startChild(ctx, targetOurs, dir, s.bin, args, "/healthz")
	if err == nil {
		s.base = "http://" + c.addr
	}
	return c, err
}

// prepare creates the session and joins the clients whose tokens the subscribers share.
func (s *ourServer) prepare(ctx context.Context, subscribers int) error {
	var err error
	if s.pubToken, err = s.join(ctx, "publisher", true); err != nil {
		return err
	}
	k := subscribers
	if s.clients > 0 {
		k = min(s.clients, subscribers)
	}
	s.tokens = make([]string, k)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for w := range errs {
		wg.Go(func() {
			for i := w; i < k && errs[w] == nil; i += len(errs) {
				s.tokens[i], errs[w] = s.join(ctx, fmt.Sprintf("device-%d", i), false)
			}
		})
	}
	wg.Wait()
	return firstError(errs)
}

func (s *ourServer) join(ctx context.Context, name string, create bool) (string, error) {
	body := `{"clientName":"` + name + `","fingerprint":` + fingerprint
	if create {
		body += `,"kdf":` + sessionKDF
	}
	body += "}"
	var out struct{ Token string }
	if err := s.post(ctx, "/api/v1/sessions/"+sessionID+"/join", "", body, &out); err != nil {
		return "", fmt.Errorf("join: %w", err)
	}
	return out.Token, nil
}

func (s *ourServer) streamRequest(i int) []byte {
	return []byte("GET /api/v1/sessions/" + sessionID + "/events HTTP/1.1\r\nHost: load\r\n" +
		"Accept: text/event-stream\r\nAuthorization: Bearer " + s.tokens[i%len(s.tokens)] + "\r\n\r\n")
}

func (s *ourServer) opensWithRetry() bool { return true }

// publish announces a one-chunk item (never uploaded): one content.created event.
func (s *ourServer) publish(ctx context.Context, contentID string) error {
	body := fmt.Sprintf(`{"contentId":%q,"totalChunks":1,"totalSize":%d,"chunkSize":65536,`+
		`"metadata":{"iv":"TWyLqsnoByZFZIOi","data":"Jp0rWpnnZhXcExxLJh9Wx2LW"}}`, contentID, 28+s.plainLen)
	return s.post(ctx, "/api/v1/sessions/"+sessionID+"/contents", s.pubToken, body, nil)
}

// openStreams reads the sharethings_event_subscribers gauge from /metrics.
func (s *ourServer) openStreams(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	res, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	return parseGauge(string(b), "sharethings_event_subscribers")
}

// parseGauge finds an unlabelled metric in a Prometheus text exposition.
func parseGauge(text, name string) (int, error) {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

// post sends a JSON body and decodes a 2xx answer into out (when not nil).
func (s *ourServer) post(ctx context.Context, path, token, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(s.http, req, out)
}

// baselineServer is the bare r3labs/sse server: this binary with -baseline-server.
type baselineServer struct {
	bin  string
	http *http.Client
	base string
}

func (s *baselineServer) start(ctx context.Context, dir string) (*child, error) {
	c, err := startChild(ctx, targetBaseline, dir, s.bin, []string{"-baseline-server", "-addr", "{addr}"}, "/healthz")
	if err == nil {
		s.base = "http://" + c.addr
	}
	return c, err
}

func (s *baselineServer) prepare(context.Context, int) error { return nil }

func (s *baselineServer) streamRequest(int) []byte {
	return []byte("GET /events?stream=" + baselineStream + " HTTP/1.1\r\nHost: load\r\nAccept: text/event-stream\r\n\r\n")
}

func (s *baselineServer) opensWithRetry() bool { return false }

func (s *baselineServer) openStreams(context.Context) (int, error) { return -1, nil }

func (s *baselineServer) publish(ctx context.Context, contentID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/publish?contentId="+url.QueryEscape(contentID), nil)
	if err != nil {
		return err
	}
	return do(s.http, req, nil)
}

// do sends req and expects a 2xx answer.
func do(hc *http.Client, req *http.Request, out any) error {
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// newUUID returns a random lowercase version 4 UUID, as clients make content ids.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
