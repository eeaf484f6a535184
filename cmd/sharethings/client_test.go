package main

// Tests of the Go client package (api/client) against a real in-process server, with a
// reverse proxy in between where a test needs connections cut at a chosen byte.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
	apiclient "github.com/sharethings/sharethings/api/client"
)

// quickRetry keeps the client's backoff short: the tests wait for outcomes, not delays.
var quickRetry = apiclient.RetryPolicy{Attempts: 10, MinDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond}

// vectorCredentials are team-alpha's fingerprint and kdf from the protocol vectors.
func vectorCredentials(t *testing.T) (api.Fingerprint, *api.KDF) {
	t.Helper()
	v := loadVectors(t)[0]
	var fp api.Fingerprint
	var kdf api.KDF
	if err := json.Unmarshal(v.Fingerprint, &fp); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(v.KDF, &kdf); err != nil {
		t.Fatal(err)
	}
	return fp, &kdf
}

// joinedClient is a client of base that has joined team-alpha (creating it if needed).
func joinedClient(t *testing.T, base, name string) (*apiclient.Client, *apiclient.JoinResult) {
	t.Helper()
	fp, kdf := vectorCredentials(t)
	c := apiclient.New(base)
	c.Retry = quickRetry
	res, err := c.Join(t.Context(), "team-alpha", name, fp, kdf)
	if err != nil {
		t.Fatalf("join as %s: %v", name, err)
	}
	return c, res
}

// via is a client of another base URL with c's session and token.
func via(c *apiclient.Client, base string) *apiclient.Client {
	v := apiclient.New(base)
	v.Token, v.SessionID, v.Retry = c.CurrentToken(), c.CurrentSession(), c.Retry
	return v
}

// announceItem announces random blobs for size plaintext bytes in chunkSize pieces.
func announceItem(t *testing.T, c *apiclient.Client, size, chunkSize int) *item {
	t.Helper()
	it := newItem(t, size, chunkSize)
	a := apiclient.Announcement{ContentID: it.id, TotalChunks: len(it.blobs), TotalSize: int64(it.totalSize()), ChunkSize: chunkSize,
		Metadata: api.Sealed{IV: make([]byte, 12), Data: bytes.Repeat([]byte{7}, 40)}}
	got, err := c.Announce(t.Context(), a)
	if err != nil || got.ID != it.id || got.Complete {
		t.Fatalf("announce: %+v, %v", got, err)
	}
	return it
}

func uploadAll(t *testing.T, c *apiclient.Client, it *item) {
	t.Helper()
	for i, blob := range it.blobs {
		if err := c.UploadChunk(t.Context(), it.id, i, bytes.NewReader(blob), int64(len(blob)), nil); err != nil {
			t.Fatalf("upload chunk %d: %v", i, err)
		}
	}
}

func requireDownload(t *testing.T, c *apiclient.Client, id string, index int, want []byte) {
	t.Helper()
	var buf bytes.Buffer
	n, err := c.DownloadChunk(t.Context(), id, index, &buf)
	if err != nil || n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("download chunk %d: %d bytes, %v; want the %d uploaded bytes", index, n, err, len(want))
	}
}

func TestClientSessions(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	ctx := t.Context()
	c := apiclient.New(srv.url)

	conf, err := c.Config(ctx)
	if err != nil || conf.Version != api.Version || conf.MinChunkSize != api.MinChunkSize || conf.UploadPath != "/api/v1/uploads/" || conf.MaxKDFIterations != api.MaxKDFIterations {
		t.Fatalf("config %+v, %v", conf, err)
	}
	_, err = c.Session(ctx, "team-alpha")
	var e *apiclient.Error
	if !apiclient.IsCode(err, "session_not_found") || !errors.As(err, &e) || e.Status != http.StatusNotFound {
		t.Fatalf("session before creation: %v", err)
	}

	alice, created := joinedClient(t, srv.url, "alice")
	bob, joined := joinedClient(t, srv.url, "bob")
	if !created.Created || joined.Created || created.Session.ID != "team-alpha" || len(joined.Clients) != 2 || joined.LastEventID <= created.LastEventID {
		t.Fatalf("joins: %+v then %+v", created, joined)
	}
	if alice.CurrentToken() == "" || alice.CurrentSession() != "team-alpha" || created.ExpiresAt.Before(time.Now()) {
		t.Fatalf("join left token %q session %q expiry %v", alice.CurrentToken(), alice.CurrentSession(), created.ExpiresAt)
	}
	_, kdf := vectorCredentials(t)
	if s, err := c.Session(ctx, "team-alpha"); err != nil || !s.KDF.Equal(*kdf) {
		t.Fatalf("session after creation: %+v, %v", s, err)
	}

	fp, _ := vectorCredentials(t)
	fp.Data[0] ^= 1
	if _, err := apiclient.New(srv.url).Join(ctx, "team-alpha", "mallory", fp, nil); !apiclient.IsCode(err, "fingerprint_mismatch") {
		t.Fatalf("wrong fingerprint: %v", err)
	}

	old := alice.CurrentToken()
	if err := alice.Refresh(ctx); err != nil || alice.CurrentToken() == old {
		t.Fatalf("refresh: %v (token changed: %v)", err, alice.CurrentToken() != old)
	}
	if list, err := alice.Clients(ctx); err != nil || len(list) != 2 {
		t.Fatalf("clients: %+v, %v", list, err)
	}
	if err := bob.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Clients(ctx); !apiclient.IsCode(err, "client_left") {
		t.Fatalf("clients after leave: %v", err)
	}
}

func TestClientContent(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	ctx := t.Context()
	c, _ := joinedClient(t, srv.url, "alice")

	// 200,000 plaintext bytes in 64 KiB chunks: three full blobs and one of 3,392 + 28 bytes.
	it := announceItem(t, c, 200000, 64*kiB)
	announced := api.Content{TotalChunks: 4, TotalSize: int64(it.totalSize()), ChunkSize: 64 * kiB}
	for i, blob := range it.blobs {
		if int64(len(blob)) != announced.BlobLength(i) {
			t.Fatalf("blob %d is %d bytes, BlobLength says %d", i, len(blob), announced.BlobLength(i))
		}
	}
	var sent []int64
	last := len(it.blobs) - 1
	for i, blob := range it.blobs[:last] {
		if err := c.UploadChunk(ctx, it.id, i, bytes.NewReader(blob), int64(len(blob)), nil); err != nil {
			t.Fatalf("upload chunk %d: %v", i, err)
		}
	}
	blob := it.blobs[last]
	if err := c.UploadChunk(ctx, it.id, last, bytes.NewReader(blob), int64(len(blob)), func(n int64) { sent = append(sent, n) }); err != nil {
		t.Fatal(err)
	}
	if len(sent) == 0 || sent[len(sent)-1] != int64(len(blob)) {
		t.Fatalf("progress %v, want it to end at %d", sent, len(blob))
	}
	d, err := c.Item(ctx, it.id)
	if err != nil || !d.Complete || d.ReceivedChunks != 4 || len(d.Chunks) != 4 || d.Chunks[3].Size != int64(len(blob)) || d.Chunks[3].SHA256 != sha256Hex(blob) {
		t.Fatalf("item after upload: %+v, %v", d, err)
	}
	for i, blob := range it.blobs {
		requireDownload(t, c, it.id, i, blob)
	}
	if err := c.UploadChunk(ctx, it.id, 0, bytes.NewReader(it.blobs[0]), int64(len(it.blobs[0])), nil); err != nil {
		t.Fatalf("uploading a stored chunk again: %v, want nil (chunk_exists)", err)
	}

	// Listing, paging, pin, rename, delete, clear.
	for range 2 {
		uploadAll(t, c, announceItem(t, c, 100, 64*kiB))
	}
	page, err := c.List(ctx, apiclient.ListOptions{Limit: 2, Oldest: true})
	if err != nil || len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	if page, err = c.List(ctx, apiclient.ListOptions{Limit: 2, Oldest: true, Cursor: page.NextCursor}); err != nil || len(page.Items) != 1 || page.NextCursor != "" {
		t.Fatalf("last page: %+v, %v", page, err)
	}
	if all, err := c.ListAll(ctx); err != nil || len(all) != 3 {
		t.Fatalf("list all: %d items, %v", len(all), err)
	}
	if got, err := c.SetPinned(ctx, it.id, true); err != nil || !got.Pinned {
		t.Fatalf("pin: %+v, %v", got, err)
	}
	renamed := api.Sealed{IV: bytes.Repeat([]byte{1}, 12), Data: bytes.Repeat([]byte{2}, 30)}
	if got, err := c.Rename(ctx, it.id, renamed); err != nil || !bytes.Equal(got.Metadata.Data, renamed.Data) {
		t.Fatalf("rename: %+v, %v", got, err)
	}
	if err := c.Delete(ctx, it.id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Item(ctx, it.id); !apiclient.IsCode(err, "content_not_found") {
		t.Fatalf("item after delete: %v", err)
	}
	if _, err := c.DownloadChunk(ctx, it.id, 0, io.Discard); !apiclient.IsCode(err, "content_not_found") {
		t.Fatalf("download after delete: %v", err)
	}
	if err := c.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if all, err := c.ListAll(ctx); err != nil || len(all) != 0 {
		t.Fatalf("after clear: %d items, %v", len(all), err)
	}
}

// cutProxy is a reverse proxy in front of the server that breaks connections on demand, the
// way a flaky network does: the client's connection is dropped without an answer.
type cutProxy struct {
	url string
	rp  *httputil.ReverseProxy

	mu          sync.Mutex
	seen        []*http.Request // method, URL and headers of every request
	patchCut    int64           // the next PATCH is cut after this many body bytes (0: none)
	downloadCut int64           // the next chunk download is cut after this many bytes
	streams     map[*http.Request]context.CancelFunc
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{streams: map[*http.Request]context.CancelFunc{}}
	p.rp = &httputil.ReverseProxy{
		// The Host stays the proxy's, so tus Locations and uploadUrls lead back through it.
		Rewrite:      func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = r.In.Host },
		ErrorHandler: func(http.ResponseWriter, *http.Request, error) { panic(http.ErrAbortHandler) },
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func (p *cutProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	p.mu.Lock()
	p.seen = append(p.seen, r.Clone(context.Background()))
	switch {
	case r.Method == http.MethodPatch && p.patchCut > 0:
		r.Body, p.patchCut = &cutBody{r: r.Body, left: p.patchCut}, 0
	case strings.Contains(r.URL.Path, "/chunks/") && p.downloadCut > 0:
		w, p.downloadCut = &cutWriter{ResponseWriter: w, left: p.downloadCut}, 0
	case strings.HasSuffix(r.URL.Path, "/events"):
		p.streams[r] = cancel
		defer func() { p.mu.Lock(); delete(p.streams, r); p.mu.Unlock() }()
	}
	p.mu.Unlock()
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

// cutStreams drops every event stream passing through.
func (p *cutProxy) cutStreams() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cancel := range p.streams {
		cancel()
	}
}

// requests returns the requests seen with the given method whose path contains part.
func (p *cutProxy) requests(method, part string) []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*http.Request
	for _, r := range p.seen {
		if r.Method == method && strings.Contains(r.URL.Path, part) {
			out = append(out, r)
		}
	}
	return out
}

// cutBody fails after left bytes, as a request body does when the client's network goes.
type cutBody struct {
	r    io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("cut by the test proxy")
	}
	n, err := b.r.Read(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	return n, err
}

func (b *cutBody) Close() error { return b.r.Close() }

// cutWriter passes left bytes of a response on, flushes them, and then fails.
type cutWriter struct {
	http.ResponseWriter
	left int64
}

func (w *cutWriter) Write(p []byte) (int, error) {
	if w.left <= 0 {
		return 0, errors.New("cut by the test proxy")
	}
	n, err := w.ResponseWriter.Write(p[:min(int64(len(p)), w.left)])
	w.left -= int64(n)
	http.NewResponseController(w.ResponseWriter).Flush()
	if err == nil && n < len(p) {
		err = errors.New("cut by the test proxy")
	}
	return n, err
}

func TestClientUploadResumesAfterCut(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	direct, _ := joinedClient(t, srv.url, "alice")
	proxy := newCutProxy(t, srv.url)
	c := via(direct, proxy.url)

	// The same call resumes with HEAD + PATCH on its upload after the connection breaks.
	it := announceItem(t, direct, 1*miB, 1*miB)
	proxy.mu.Lock()
	proxy.patchCut = 300 * kiB
	proxy.mu.Unlock()
	uploadAll(t, c, it)
	posts, heads, patches := proxy.requests(http.MethodPost, "/uploads"), proxy.requests(http.MethodHead, "/uploads"), proxy.requests(http.MethodPatch, "/uploads")
	if len(posts) != 1 || len(heads) < 1 || len(patches) != 2 || patches[1].Header.Get("Upload-Offset") == "0" {
		t.Fatalf("%d POST, %d HEAD, %d PATCH; want one upload resumed with HEAD and a second PATCH from where the first broke", len(posts), len(heads), len(patches))
	}
	requireDownload(t, direct, it.id, 0, it.blobs[0])

	// A later call (a restarted CLI, say) is sent to the unfinished upload and resumes it.
	it = announceItem(t, direct, 1*miB, 1*miB)
	proxy.mu.Lock()
	proxy.patchCut = 500 * kiB
	proxy.mu.Unlock()
	c.Retry.Attempts = 1
	blob := it.blobs[0]
	if err := c.UploadChunk(t.Context(), it.id, 0, bytes.NewReader(blob), int64(len(blob)), nil); err == nil {
		t.Fatal("an upload without retries survived a cut connection")
	}
	c.Retry.Attempts = 10
	headsBefore := len(proxy.requests(http.MethodHead, "/uploads"))
	uploadAll(t, c, it)
	if posts := len(proxy.requests(http.MethodPost, "/uploads")); posts != 3 || len(proxy.requests(http.MethodHead, "/uploads")) <= headsBefore {
		t.Fatalf("%d POSTs in all and no new HEAD; want chunk_in_progress to lead to the old upload", posts)
	}
	requireDownload(t, direct, it.id, 0, blob)
}

func TestClientDownloadResumesWithRange(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	direct, _ := joinedClient(t, srv.url, "alice")
	it := announceItem(t, direct, 1*miB, 1*miB)
	uploadAll(t, direct, it)
	proxy := newCutProxy(t, srv.url)
	proxy.downloadCut = 400 * kiB

	requireDownload(t, via(direct, proxy.url), it.id, 0, it.blobs[0])
	gets := proxy.requests(http.MethodGet, "/chunks/")
	if len(gets) != 2 || gets[0].Header.Get("Range") != "" || !strings.HasPrefix(gets[1].Header.Get("Range"), "bytes=") {
		t.Fatalf("%d GETs; want a whole one, cut, then one with a Range", len(gets))
	}
}

// eventSink collects what Events delivers, for a test to wait on.
type eventSink chan apiclient.Event

func (s eventSink) fn(e apiclient.Event) error { s <- e; return nil }

// next waits for the next event of one of the types (others are skipped), or for the next
// event of any type when none are given.
func (s eventSink) next(t *testing.T, types ...string) apiclient.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e := <-s:
			if len(types) == 0 || slices.Contains(types, e.Type) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %v event within 20 s", types)
		}
	}
}

// listen runs Events in the background; the returned channel gets its result, and is
// closed after it so that the cleanup's wait never blocks.
func listen(t *testing.T, c *apiclient.Client, last int64) (eventSink, context.CancelFunc, <-chan error) {
	ctx, cancel := context.WithCancel(t.Context())
	sink, done := make(eventSink, 100), make(chan error, 1)
	go func() { done <- c.Events(ctx, last, sink.fn); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return sink, cancel, done
}

func TestClientEventsResumeWithoutDuplicates(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	proxy := newCutProxy(t, srv.url)
	c, joined := joinedClient(t, proxy.url, "alice")
	sender, _ := joinedClient(t, srv.url, "bob")
	sink, _, _ := listen(t, c, joined.LastEventID)
	sink.next(t, "client.joined")

	it := announceItem(t, sender, 70000, 64*kiB)
	uploadAll(t, sender, it)
	var got []apiclient.Event
	for _, typ := range []string{"content.created", "content.chunk", "content.chunk", "content.completed"} {
		e := sink.next(t, typ, "content.created", "content.chunk", "content.completed")
		if e.Type != typ || !strings.Contains(string(e.Data), it.id) || (len(got) > 0 && e.ID <= got[len(got)-1].ID) {
			t.Fatalf("event %d: %s %d %s; want %s of %s with a higher id", len(got), e.Type, e.ID, e.Data, typ, it.id)
		}
		got = append(got, e)
	}

	// Cut, change something while the client is away: the replay brings exactly that.
	proxy.cutStreams()
	if _, err := sender.SetPinned(t.Context(), it.id, true); err != nil {
		t.Fatal(err)
	}
	if e := sink.next(t); e.Type != "content.updated" || e.ID <= got[3].ID {
		t.Fatalf("first event after the cut: %s %d %s; want content.updated after id %d", e.Type, e.ID, e.Data, got[3].ID)
	}
	streams := proxy.requests(http.MethodGet, "/events")
	if len(streams) != 2 || streams[1].Header.Get("Last-Event-ID") != itoa64(got[3].ID) {
		t.Fatalf("%d stream requests, the last with Last-Event-ID %q; want a reconnect after %d", len(streams), streams[len(streams)-1].Header.Get("Last-Event-ID"), got[3].ID)
	}
	select {
	case e := <-sink:
		t.Fatalf("unexpected event after the reconnect: %s %d %s", e.Type, e.ID, e.Data)
	default:
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func TestClientEventsSessionExpired(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	c, joined := joinedClient(t, srv.url, "alice")
	sink, _, done := listen(t, c, joined.LastEventID)
	sink.next(t, "client.joined")

	srv.app.hub.Expire("team-alpha")
	sink.next(t, "session.expired")
	if err := <-done; !errors.Is(err, apiclient.ErrSessionExpired) {
		t.Fatalf("Events returned %v, want ErrSessionExpired", err)
	}
}

func TestClientEventsTokens(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)

	// A token in the last quarter of its life is refreshed before the stream opens: the
	// server would end the stream, and refuse the refresh, once it expires.
	clk.Advance(-59 * time.Minute)
	c, joined := joinedClient(t, srv.url, "alice")
	clk.Advance(59 * time.Minute)
	sink, cancel, done := listen(t, c, joined.LastEventID)
	sink.next(t, "client.joined")
	if c.CurrentToken() == joined.Token {
		t.Fatal("a token with a minute left was not refreshed")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Events after cancel: %v", err)
	}

	// An expired token cannot be refreshed: Events says so instead of retrying.
	clk.Advance(2 * time.Hour)
	if err := c.Events(t.Context(), -1, sink.fn); !apiclient.IsCode(err, "token_expired") {
		t.Fatalf("Events with an expired token: %v", err)
	}
}
