package main

// TestConcurrentLoad puts many uploaders and event streams on one in-process server at once
// and allows no error at all, then checks that every goroutine and descriptor the load took
// is given back. The client-side pieces it shares with the crash soak (soak_test.go) are here
// too: session credentials, random items, a transport that notices what the client package
// retries silently, and a subscriber that records its stream (plaintext_test.go has the
// comparison with the log).

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
	apiclient "github.com/sharethings/sharethings/api/client"
	"github.com/sharethings/sharethings/api/e2ee"
)

const (
	loadSessions    = 4
	loadUploaders   = 16 // spread over the sessions
	loadSubscribers = 64 // spread over the sessions
	// loadDefault keeps the default run, with -race, inside the normal suite's budget.
	loadDefault = 8 * time.Second
)

// loadCreds is what a client needs to join one session: its public kdf and the fingerprint
// of the shared passphrase.
type loadCreds struct {
	id  string
	kdf api.KDF
	fp  api.Fingerprint
}

func newLoadCreds(t testing.TB, sid string) loadCreds {
	t.Helper()
	kdf := e2ee.NewKDF(1000)
	keys, err := e2ee.DeriveKeys("load passphrase", kdf)
	if err != nil {
		t.Fatal(err)
	}
	return loadCreds{id: sid, kdf: kdf, fp: keys.Fingerprint(sid)}
}

// join returns a client of base joined to the session as name; the first join creates it.
func (s loadCreds) join(ctx context.Context, base, name string, hc *http.Client, retry apiclient.RetryPolicy) (*apiclient.Client, error) {
	c := apiclient.New(base)
	c.HTTP, c.Retry = hc, retry
	kdf := s.kdf
	_, err := c.Join(ctx, s.id, name, s.fp, &kdf)
	return c, err
}

// randomItem is an item whose blobs come from its seed, so that they can be made again to
// check them instead of being kept in memory.
type randomItem struct {
	id              string
	seed            uint64
	size, chunkSize int
}

// newRandomItem makes an item of 1–8 chunks of 64 KiB or, one time in eight when big is not
// 0, of 1–3 chunks of big bytes.
func newRandomItem(rng *mrand.Rand, seed uint64, big int) randomItem {
	chunkSize, chunks := 64*kiB, 1+rng.IntN(8)
	if big > 0 && rng.IntN(8) == 0 {
		chunkSize, chunks = big, 1+rng.IntN(3)
	}
	size := (chunks-1)*chunkSize + 1 + rng.IntN(chunkSize)
	return randomItem{id: newUUID(), seed: seed, size: size, chunkSize: chunkSize}
}

func (r randomItem) blobs(t testing.TB) [][]byte {
	return newItemFrom(t, seededRand(r.seed), r.size, r.chunkSize).blobs
}

func (r randomItem) announcement(blobs [][]byte) apiclient.Announcement {
	total := 0
	for _, b := range blobs {
		total += len(b)
	}
	return apiclient.Announcement{ContentID: r.id, TotalChunks: len(blobs), TotalSize: int64(total), ChunkSize: r.chunkSize,
		Metadata: api.Sealed{IV: make([]byte, 12), Data: bytes.Repeat([]byte{0x5e}, 48)}}
}

// watchedTransport counts event-stream connections and notes every failed round trip and
// every answer the client package retries without telling (5xx, 429).
type watchedTransport struct {
	base     *http.Transport
	streams  atomic.Int64
	mu       sync.Mutex
	problems []string
}

func newWatchedTransport() *watchedTransport {
	return &watchedTransport{base: &http.Transport{MaxIdleConnsPerHost: 128}}
}

func (w *watchedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/events") {
		w.streams.Add(1)
	}
	res, err := w.base.RoundTrip(req)
	problem := ""
	if err != nil && req.Context().Err() == nil {
		problem = err.Error()
	} else if err == nil && (res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests) {
		problem = res.Status
	}
	if problem != "" {
		w.mu.Lock()
		w.problems = append(w.problems, req.Method+" "+req.URL.Path+": "+problem)
		w.mu.Unlock()
	}
	return res, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the transport.
func (w *watchedTransport) CloseIdleConnections() { w.base.CloseIdleConnections() }

func (w *watchedTransport) failures() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.problems)
}

// recorder keeps every event one Events call delivers, from the start of the session's log.
type recorder struct {
	name, sid string
	last      atomic.Int64 // id of the last event
	mu        sync.Mutex
	events    []loggedEvent
	done      chan struct{}
	err       error // what Events returned, once done is closed
}

func startRecorder(ctx context.Context, c *apiclient.Client, name string) *recorder {
	r := &recorder{name: name, sid: c.CurrentSession(), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = c.Events(ctx, 0, func(e apiclient.Event) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, loggedEvent{ID: e.ID, Event: e.Type, Data: e.Data})
			r.last.Store(e.ID)
			return nil
		})
	}()
	return r
}

func (r *recorder) received() []loggedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// waitCaughtUp polls until every recorder has its session's event last[sid], or fails after
// within, naming those behind.
func waitCaughtUp(t testing.TB, recorders []*recorder, last map[string]int64, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(10 * time.Millisecond) {
		var behind []string
		for _, r := range recorders {
			if got := r.last.Load(); got < last[r.sid] {
				behind = append(behind, fmt.Sprintf("%s at %d of %d", r.name, got, last[r.sid]))
			}
		}
		if len(behind) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d subscribers still miss events: %s", within, len(behind), strings.Join(behind, "; "))
		}
	}
}

// loadRun is one TestConcurrentLoad: the server, the clients, and what they did.
type loadRun struct {
	t         *testing.T
	srv       *testServer
	transport *watchedTransport
	hc        *http.Client
	creds     []loadCreds
	recorders []*recorder

	items, chunks, bytes atomic.Int64
	mu                   sync.Mutex
	uploaded             map[chunkKey]string // SHA-256 of every acknowledged chunk
}

func TestConcurrentLoad(t *testing.T) {
	d, ok := envDuration(t, "SHARETHINGS_LOAD")
	if !ok {
		d = loadDefault
	}
	before := measure(t, nil)
	cfg, clk := testConfig(t, "--session-max-items", "1000000")
	run := &loadRun{t: t, srv: startServer(t, cfg, clk), transport: newWatchedTransport(), uploaded: map[chunkKey]string{}}
	run.hc = &http.Client{Transport: run.transport}
	for i := range loadSessions {
		run.creds = append(run.creds, newLoadCreds(t, fmt.Sprintf("load-%d", i)))
		run.join(fmt.Sprintf("creator-%d", i), i)
	}
	run.hc.CloseIdleConnections()
	idle := measure(t, run.srv)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	run.subscribe(ctx)
	start := time.Now()
	run.upload(ctx, start.Add(d))
	uploading := time.Since(start)
	db := run.srv.openDB(t)
	waitCaughtUp(t, run.recorders, lastLogged(t, db, sessionIDs(run.creds)), 30*time.Second)
	streaming := time.Since(start)
	cancel()
	run.check(db)
	db.Close()
	run.logFigures(uploading, streaming)

	run.hc.CloseIdleConnections()
	waitFor(t, "no subscriber", func() bool { return run.srv.app.hub.Subscribers() == 0 })
	waitBackTo(t, "after the load, with the server running", idle, run.srv)
	run.srv.shutdown()
	waitBackTo(t, "after the server stopped", before, nil)
}

// join returns a client joined to session i; a refused join fails the test.
func (r *loadRun) join(name string, i int) *apiclient.Client {
	r.t.Helper()
	c, err := r.creds[i%len(r.creds)].join(r.t.Context(), r.srv.url, name, r.hc, quickRetry)
	if err != nil {
		r.t.Fatalf("join %s: %v", name, err)
	}
	return c
}

func sessionIDs(creds []loadCreds) []string {
	var out []string
	for _, c := range creds {
		out = append(out, c.id)
	}
	return out
}

// subscribe opens every event stream from the start of its session's log.
func (r *loadRun) subscribe(ctx context.Context) {
	for i := range loadSubscribers {
		name := fmt.Sprintf("subscriber-%d", i)
		r.recorders = append(r.recorders, startRecorder(ctx, r.join(name, i), name))
	}
}

// upload runs the uploaders until the deadline, each finishing its last item.
func (r *loadRun) upload(ctx context.Context, until time.Time) {
	var wg sync.WaitGroup
	for n := range loadUploaders {
		c := r.join(fmt.Sprintf("uploader-%d", n), n)
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(n), 1))
			for i := uint64(0); time.Now().Before(until); i++ {
				if err := r.uploadOne(ctx, c, newRandomItem(rng, uint64(n)<<32|i, 0)); err != nil {
					r.t.Errorf("uploader %d: %v", n, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func (r *loadRun) uploadOne(ctx context.Context, c *apiclient.Client, it randomItem) error {
	blobs := it.blobs(r.t)
	if _, err := c.Announce(ctx, it.announcement(blobs)); err != nil {
		return fmt.Errorf("announce %s: %w", it.id, err)
	}
	for i, b := range blobs {
		if err := c.UploadChunk(ctx, it.id, i, bytes.NewReader(b), int64(len(b)), nil); err != nil {
			return fmt.Errorf("chunk %d of %s: %w", i, it.id, err)
		}
		r.mu.Lock()
		r.uploaded[chunkKey{c.CurrentSession(), it.id, i}] = sha256Hex(b)
		r.mu.Unlock()
		r.chunks.Add(1)
		r.bytes.Add(int64(len(b)))
	}
	r.items.Add(1)
	return nil
}

// check asserts that nothing failed, every stream stayed up, every subscriber got its
// session's log, and the database holds exactly the uploaded chunks, every item complete.
func (r *loadRun) check(db *sql.DB) {
	t := r.t
	logs := map[string][]loggedEvent{}
	for _, sid := range sessionIDs(r.creds) {
		logs[sid] = sessionLog(t, db, sid)
	}
	for _, rec := range r.recorders {
		if <-rec.done; !errors.Is(rec.err, context.Canceled) {
			t.Errorf("%s: the event stream ended with %v before the test cancelled it", rec.name, rec.err)
		}
		requireLogPrefix(t, rec, logs[rec.sid])
	}
	if f := r.transport.failures(); len(f) > 0 {
		t.Errorf("%d requests failed or were answered 5xx/429, e.g.:\n%s", len(f), strings.Join(f[:min(len(f), 10)], "\n"))
	}
	if n := r.transport.streams.Load(); n != loadSubscribers {
		t.Errorf("%d event-stream connections for %d subscribers: streams broke and reconnected", n, loadSubscribers)
	}
	stored := storedChunks(t, db)
	for k, sum := range r.uploaded {
		if stored[k].sum != sum {
			t.Errorf("chunk %v recorded as %+v, uploaded with SHA-256 %s", k, stored[k], sum)
		}
	}
	var items, incomplete, pending int
	db.QueryRow(`SELECT COUNT(*), COUNT(*) - SUM(CASE WHEN is_complete THEN 1 ELSE 0 END) FROM content_metadata`).Scan(&items, &incomplete)
	db.QueryRow(`SELECT COUNT(*) FROM uploads`).Scan(&pending)
	if len(stored) != len(r.uploaded) || items != int(r.items.Load()) || incomplete != 0 || pending != 0 {
		t.Errorf("%d chunk rows, %d items (%d incomplete), %d unfinished uploads; want %d chunks in %d complete items, none unfinished",
			len(stored), items, incomplete, pending, len(r.uploaded), r.items.Load())
	}
}

func (r *loadRun) logFigures(uploading, streaming time.Duration) {
	delivered := 0
	for _, rec := range r.recorders {
		delivered += len(rec.received())
	}
	items, mb := float64(r.items.Load()), float64(r.bytes.Load())/1e6
	r.t.Logf("%d uploaders, %d subscribers, %d sessions for %v: %.0f items (%.1f/s), %d chunks, %.1f MB (%.1f MB/s); %d events delivered in %v (%.0f/s)",
		loadUploaders, loadSubscribers, loadSessions, uploading.Round(time.Millisecond), items, items/uploading.Seconds(),
		r.chunks.Load(), mb, mb/uploading.Seconds(), delivered, streaming.Round(time.Millisecond), float64(delivered)/streaming.Seconds())
}

// resources are what a leak leaves behind.
type resources struct{ goroutines, fds int }

// measure counts goroutines and open descriptors, but not the database connections of srv
// (SQLite's files, PostgreSQL's sockets: their pools are bounded and grow under load by
// design); with no server, all of them.
func measure(t testing.TB, srv *testServer) resources {
	if srv == nil {
		return resources{goroutines(), len(openFiles(t, ""))}
	}
	fds := len(openFiles(t, filepath.Join(srv.cfg.DataDir, "sharethings.db")))
	if srv.cfg.DatabaseURL != "" {
		fds -= srv.app.db.Connections()
	}
	return resources{goroutines(), fds}
}

// goroutines counts this process's goroutines but those tusd keeps on purpose for its
// GracefulRequestCompletionTimeout (10 s) after each of its requests: their number follows
// the request rate, each ends on its own, and waiting for them would double the test's time.
func goroutines() int {
	var b strings.Builder
	pprof.Lookup("goroutine").WriteTo(&b, 1)
	_, records, _ := strings.Cut(b.String(), "\n") // after the "goroutine profile" line
	n := 0
	for _, rec := range strings.Split(records, "\n\n") {
		var count int
		if _, err := fmt.Sscanf(rec, "%d @", &count); err == nil && !strings.Contains(rec, "tusd/v2/pkg/handler.newDelayedContext") {
			n += count
		}
	}
	return n
}

// openFiles lists what this process's descriptors point at, but for paths under skip.
func openFiles(t testing.TB, skip string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && (skip == "" || !strings.HasPrefix(target, skip)) {
			out = append(out, target)
		}
	}
	return out
}

// waitBackTo polls until goroutines and descriptors are at most base, and after a deadline
// fails with the goroutines' stacks and the descriptors.
func waitBackTo(t testing.TB, what string, base resources, srv *testServer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for now := measure(t, srv); now.goroutines > base.goroutines || now.fds > base.fds; now = measure(t, srv) {
		if time.Now().After(deadline) {
			var stacks strings.Builder
			pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			t.Fatalf("%s: %d goroutines and %d descriptors, baseline %d and %d\ndescriptors: %v\n%s",
				what, now.goroutines, now.fds, base.goroutines, base.fds, openFiles(t, ""), stacks.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// envDuration reads a duration from the environment; ok is false when the variable is unset.
func envDuration(t testing.TB, name string) (d time.Duration, ok bool) {
	v := os.Getenv(name)
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a duration such as 60s", name, v)
	}
	return d, true
}
