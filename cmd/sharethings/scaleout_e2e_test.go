package main

// The scale-out deployment, proven: two instances of the real binary share one PostgreSQL
// database and one data directory behind HAProxy running docs/deploy/scaleout/haproxy.cfg
// (round-robin, no stickiness). The instance serving an upload is SIGKILLed in the middle of a
// chunk; the upload must resume on the other one, and every event stream (on either instance,
// or through the balancer) must get the session's log exactly once. A second test checks that
// the join rate limit is one limit for all instances.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
	apiclient "github.com/sharethings/sharethings/api/client"
	"github.com/sharethings/sharethings/api/e2ee"
	"github.com/sharethings/sharethings/storage/pgtest"
)

// scaleOutExample is the documented scale-out configuration.
var scaleOutExample = filepath.Join(repoRoot, "docs", "deploy", "scaleout", "haproxy.cfg")

const (
	scaleSession = "scale-out"
	// The item: 13 chunks of 1 MiB (the last one short), so that the kill lands mid-item.
	scaleChunkSize = 1 * miB
	scaleItemSize  = 12*miB + 12345
	// scaleCutChunk is the chunk whose upload the kill interrupts: three chunks are recorded
	// (and announced to every stream) before it starts.
	scaleCutChunk = 3
	// scaleWait bounds every wait: generous, since the test waits for outcomes, not delays.
	scaleWait = 60 * time.Second
)

// scaleRetry is the sender's patience: enough to ride out a dead instance, short delays so the
// test does not idle.
var scaleRetry = apiclient.RetryPolicy{Attempts: 20, MinDelay: 50 * time.Millisecond, MaxDelay: time.Second}

func TestScaleOutBehindHAProxy(t *testing.T) {
	bin := buildBinary(t)
	dbURL := pgtest.Shared(t).NewDatabase(t)
	shared := filepath.Join(t.TempDir(), "data")
	// One after the other: the first creates the token-signing key in the shared directory.
	apps := []*scaleInstance{startScaleInstance(t, bin, shared, dbURL, "app1"), startScaleInstance(t, bin, shared, dbURL, "app2")}
	lb := startScaleBalancer(t, apps)
	db := (&testServer{cfg: &Config{DatabaseURL: dbURL}}).openDB(t)
	t.Cleanup(func() { db.Close() })

	creds := newScaleCreds(t)
	trace := &uploadTrace{base: http.DefaultTransport}
	sender := creds.join(t, lb.url, "sender", &http.Client{Transport: trace})

	// Subscribers, each a client of its own: one on each instance directly, and through the
	// balancer as many as it takes to have one on each instance.
	var direct []*scaleStream
	for i, app := range apps {
		token := creds.join(t, lb.url, "watcher-"+app.name, nil).CurrentToken()
		direct = append(direct, startScaleStream(t, "direct stream on "+app.name, app.url, token))
		waitWithin(t, scaleWait, fmt.Sprintf("the stream on %s to open", app.name), func() bool { return openStreams(t, app) == 1 && direct[i].connections() == 1 })
	}
	balanced := streamsOnEachInstance(t, creds, lb, apps)

	// The sender uploads through the balancer; chunk scaleCutChunk stops halfway until the
	// instance serving it has been killed.
	plain := make([]byte, scaleItemSize)
	seededRand(2026).Read(plain)
	it := sealItem(t, creds.keys, plain)
	if _, err := sender.Announce(t.Context(), it.announcement); err != nil {
		t.Fatalf("announce through the balancer: %v", err)
	}
	cut := newPausedBlob(it.blobs[scaleCutChunk], int64(len(it.blobs[scaleCutChunk])/2))
	t.Cleanup(cut.release)
	uploaded := make(chan error, 1)
	go func() { uploaded <- uploadItem(t.Context(), sender, it, cut) }()

	// Mid-upload, as the subscribers see it: three chunks recorded. The sender waits before
	// the fourth until no upload lock is left in the database, so that the one taken next is
	// that chunk's PATCH's and names the instance serving it.
	waitWithin(t, scaleWait, fmt.Sprintf("%d content.chunk events", scaleCutChunk), func() bool {
		return direct[1].count("content.chunk", it.id) >= scaleCutChunk
	})
	waitWithin(t, scaleWait, "the sender to get to chunk "+strconv.Itoa(scaleCutChunk), cut.isHeld)
	waitWithin(t, scaleWait, "the upload locks of earlier chunks to be released", func() bool { return len(uploadLockHolders(t, db)) == 0 })
	cut.start()
	waitWithin(t, scaleWait, "the paused chunk to be half sent", cut.isReached)
	victim, survivor := servingUpload(t, db, apps)
	partial := filepath.Join(shared, "sessions", scaleSession, it.id, strconv.Itoa(scaleCutChunk)+".bin")
	waitWithin(t, scaleWait, victim.name+" to write part of chunk "+strconv.Itoa(scaleCutChunk), func() bool {
		st, err := os.Stat(partial)
		return err == nil && st.Size() > 0
	})
	victim.kill()
	t.Logf("killed %s while it served the PATCH of chunk %d", victim.name, scaleCutChunk)
	cut.release()
	// The stream that was on the dead instance goes on from the survivor, with its
	// Last-Event-ID, as a client told of another address would.
	victimStream := direct[slices.Index(apps, victim)]
	victimStream.moveTo(survivor.url)

	select {
	case err := <-uploaded:
		if err != nil {
			t.Fatalf("the upload did not survive the kill of %s: %v\ntus requests:\n%s", victim.name, err, trace)
		}
	case <-time.After(scaleWait):
		t.Fatalf("the upload did not finish within %v after the kill\ntus requests:\n%s", scaleWait, trace)
	}
	resumedAt := requireResumed(t, trace, it.id, scaleCutChunk)
	t.Logf("the sender's tus requests for chunk %d:\n%s", scaleCutChunk, trace.about(it.id, scaleCutChunk))
	lb.waitLogged(t, "Server sharethings/"+victim.name+" is DOWN")

	// Through the balancer, the CLI downloads and decrypts what was sent.
	cli := newCLI(t, bin, lb.url)
	requireSameFile(t, "downloaded through the balancer", cli, it.id, plain)
	waitWithin(t, scaleWait, victimStream.name+" to reconnect to "+survivor.name, func() bool {
		return victimStream.connections() >= 2 && victimStream.lastID() >= lastEventID(t, db)
	})

	// The killed instance comes back on its address: the balancer takes it back, the stream
	// that lost it returns to it (and gets the events of the download below live), and it
	// serves the item.
	victim.restart(t)
	lb.waitLogged(t, "Server sharethings/"+victim.name+" is UP")
	victimStream.moveTo(victim.url)
	waitWithin(t, scaleWait, victimStream.name+" to reconnect to the restarted "+victim.name, func() bool { return victimStream.connections() == 3 })
	requireSameFile(t, "downloaded from the restarted "+victim.name, newCLI(t, bin, victim.url), it.id, plain)

	// Every stream has every event of the session's log once, in order.
	all := append(slices.Clone(direct), balanced[0]...)
	all = append(all, balanced[1]...)
	requireStreamsHaveLog(t, db, all)
	// The streams that stayed on the survivor got the events the victim recorded live, over
	// PostgreSQL notifications: they never had to reconnect.
	for _, s := range append([]*scaleStream{direct[slices.Index(apps, survivor)]}, balanced[slices.Index(apps, survivor)]...) {
		if n := s.connections(); n != 1 {
			t.Errorf("%s connected %d times; it was on %s, which never went away", s.name, n, survivor.name)
		}
	}
	if n := victimStream.connections(); n != 3 {
		t.Errorf("%s connected %d times, want 3: to %s, to %s after the kill, to %s restarted", victimStream.name, n, victim.name, survivor.name, victim.name)
	}
	for _, s := range balanced[slices.Index(apps, victim)] {
		if n := s.connections(); n < 2 {
			t.Errorf("%s connected %d times; it was on %s, which was killed", s.name, n, victim.name)
		}
	}
	t.Logf("chunk %d resumed on %s at byte %d of %d; %d events in the log, each delivered once to %d streams (%s)",
		scaleCutChunk, survivor.name, resumedAt, len(it.blobs[scaleCutChunk]), lastEventCount(t, db), len(all), streamSummary(all))
}

func TestScaleOutJoinLimitHoldsAcrossInstances(t *testing.T) {
	dbURL := pgtest.Shared(t).NewDatabase(t)
	shared := filepath.Join(t.TempDir(), "data")
	// Two in-process instances on one database, without trusted proxies: every join comes from
	// 127.0.0.1. They share a clock, so that no refill between their readings blurs the count.
	var srvs []*testServer
	var clk *clock
	for range 2 {
		cfg, own := testConfig(t, "--data-dir", shared, "--database-url", dbURL, "--join-rate", "4")
		if clk == nil {
			clk = own
		}
		cfg.Now = clk.Now
		srvs = append(srvs, startServer(t, cfg, clk))
	}
	v := loadVectors(t)[0]
	var token string
	for i := range 4 {
		token = srvs[i%2].joinToken(t, v)
	}
	for i, srv := range srvs {
		r := srv.join(v.SessionID, v.Fingerprint, v.KDF)
		r.requireProblem(t, http.StatusTooManyRequests, api.ERATELIMITED)
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("the fifth join, on instance %d: Retry-After %q, want whole seconds", i+1, r.header.Get("Retry-After"))
		}
	}
	// The four clients, joined on both, are one session's clients on either.
	r := srvs[0].do(http.MethodGet, "/api/v1/sessions/"+v.SessionID+"/clients", nil, token)
	var list struct {
		Clients []json.RawMessage `json:"clients"`
	}
	if err := json.Unmarshal(r.body, &list); r.status != http.StatusOK || err != nil || len(list.Clients) != 4 {
		t.Fatalf("clients on instance 1 with a token of instance 2: %d %s, want the 4 joined on both", r.status, r.body)
	}
}

// scaleInstance is one `sharethings serve` of the scale-out, a subprocess that can be killed.
type scaleInstance struct {
	*process
	name string
}

// startScaleInstance runs the binary on a free loopback port with the shared data directory
// and database. The instance names its database connections (application_name), so that the
// test can tell from PostgreSQL which instance holds an upload's lock.
func startScaleInstance(t *testing.T, bin, dataDir, dbURL, name string) *scaleInstance {
	t.Helper()
	p := &process{bin: bin, dataDir: dataDir, logs: &listenWatch{}, args: []string{
		"--database-url", withApplicationName(t, dbURL, name), "--min-kdf-iterations", "1000",
		"--join-rate", "1000", "--trusted-proxies", "127.0.0.1",
	}}
	p.run(t, freeAddr(t))
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			logs := p.logs.String()
			t.Logf("%s logs, last 8 KiB:\n%s", name, logs[max(0, len(logs)-8*kiB):])
		}
	})
	return &scaleInstance{process: p, name: name}
}

func (s *scaleInstance) addr() string { return strings.TrimPrefix(s.url, "http://") }

func withApplicationName(t *testing.T, dbURL, name string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// scaleBalancer is haproxy running the scale-out example.
type scaleBalancer struct {
	url  string
	logs *syncBuffer
}

// startScaleBalancer runs haproxy in the foreground with the documented configuration, its
// bind address and server addresses substituted, and returns once it listens.
func startScaleBalancer(t *testing.T, apps []*scaleInstance) *scaleBalancer {
	t.Helper()
	addr := freeAddr(t)
	logs, _ := runHAProxy(t, scaleOutExample, addr, map[string]string{
		"bind 127.0.0.1:8080\n":        "bind " + addr + "\n",
		"server app1 127.0.0.1:8081\n": "server app1 " + apps[0].addr() + "\n",
		"server app2 127.0.0.1:8082\n": "server app2 " + apps[1].addr() + "\n",
	})
	return &scaleBalancer{url: "http://" + addr, logs: logs}
}

// waitLogged waits for haproxy to log a line containing s, such as a server's change of state
// after its health checks.
func (b *scaleBalancer) waitLogged(t *testing.T, s string) {
	t.Helper()
	waitWithin(t, scaleWait, "haproxy to log "+strconv.Quote(s), func() bool { return strings.Contains(b.logs.String(), s) })
}

// scaleCreds are the session's keys, from the passphrase the CLI tests use, so that the CLI
// can decrypt what the test sends.
type scaleCreds struct {
	loadCreds
	keys *e2ee.Keys
}

func newScaleCreds(t *testing.T) scaleCreds {
	kdf := e2ee.NewKDF(1000)
	keys, err := e2ee.DeriveKeys(cliPassphrase, kdf)
	if err != nil {
		t.Fatal(err)
	}
	return scaleCreds{loadCreds: loadCreds{id: scaleSession, kdf: kdf, fp: keys.Fingerprint(scaleSession)}, keys: keys}
}

// join returns a client of base joined as name (the first join creates the session).
func (c scaleCreds) join(t *testing.T, base, name string, hc *http.Client) *apiclient.Client {
	t.Helper()
	client, err := c.loadCreds.join(t.Context(), base, name, hc, scaleRetry)
	if err != nil {
		t.Fatalf("join as %s through %s: %v", name, base, err)
	}
	return client
}

// sealedItem is an item encrypted for the session: its announcement and its chunk blobs.
type sealedItem struct {
	id           string
	announcement apiclient.Announcement
	blobs        [][]byte
}

func sealItem(t *testing.T, keys *e2ee.Keys, plain []byte) *sealedItem {
	t.Helper()
	it := &sealedItem{id: newUUID()}
	item := keys.Item(it.id)
	meta := e2ee.Meta{Kind: "file", Name: "scale-out.bin", Mime: "application/octet-stream", Size: int64(len(plain)), ChunkSize: scaleChunkSize}
	sealed, err := item.SealMeta(meta)
	if err != nil {
		t.Fatal(err)
	}
	sealer := item.NewSealer(bytes.NewReader(plain), meta.Size, scaleChunkSize)
	for {
		blob, _, err := sealer.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		it.blobs = append(it.blobs, bytes.Clone(blob))
	}
	it.announcement = apiclient.Announcement{ContentID: it.id, TotalChunks: len(it.blobs), TotalSize: e2ee.TotalSize(meta.Size, scaleChunkSize),
		ChunkSize: scaleChunkSize, Metadata: sealed}
	return it
}

// uploadItem uploads every chunk, chunk scaleCutChunk from the paused blob.
func uploadItem(ctx context.Context, c *apiclient.Client, it *sealedItem, cut *pausedBlob) error {
	for i, blob := range it.blobs {
		var r io.ReaderAt = bytes.NewReader(blob)
		if i == scaleCutChunk {
			if err := cut.hold(ctx); err != nil {
				return err
			}
			r = cut
		}
		if err := c.UploadChunk(ctx, it.id, i, r, int64(len(blob)), nil); err != nil {
			return fmt.Errorf("chunk %d: %w", i, err)
		}
	}
	return nil
}

// pausedBlob is the blob of the chunk the kill interrupts. Its upload is held twice: before
// it starts, until the test has seen the previous chunks finished, and once at offset at,
// until released: when the test kills an instance, a PATCH is then certainly in flight with
// part of the chunk sent.
type pausedBlob struct {
	data                            []byte
	at                              int64
	held, started, reached, resumed chan struct{}
	heldOnce, reachOnce             sync.Once
	startOnce, releaseOnce          sync.Once
}

func newPausedBlob(data []byte, at int64) *pausedBlob {
	return &pausedBlob{data: data, at: at, held: make(chan struct{}), started: make(chan struct{}), reached: make(chan struct{}), resumed: make(chan struct{})}
}

// hold is called by the uploader before the chunk: it waits for start.
func (b *pausedBlob) hold(ctx context.Context) error {
	b.heldOnce.Do(func() { close(b.held) })
	select {
	case <-b.started:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *pausedBlob) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b.data)) {
		return 0, io.EOF
	}
	select {
	case <-b.resumed:
	default:
		if off < b.at {
			p = p[:min(int64(len(p)), b.at-off)] // up to the pause, no further
		} else {
			b.reachOnce.Do(func() { close(b.reached) })
			<-b.resumed
		}
	}
	n := copy(p, b.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (b *pausedBlob) isHeld() bool    { return isClosed(b.held) }
func (b *pausedBlob) isReached() bool { return isClosed(b.reached) }
func (b *pausedBlob) start()          { b.startOnce.Do(func() { close(b.started) }) }

// release lets the upload go on past the pause (and start, if it has not).
func (b *pausedBlob) release() {
	b.start()
	b.releaseOnce.Do(func() { close(b.resumed) })
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// servingUpload tells which instance serves the upload in flight: the one whose database
// connection holds the upload's lock. tusd locks an upload for every HEAD and PATCH, and with
// a shared database the lock is a PostgreSQL advisory lock (storage/uploadlock.go); the
// instances name their connections.
func servingUpload(t *testing.T, db *sql.DB, apps []*scaleInstance) (serving, other *scaleInstance) {
	t.Helper()
	var holders []string
	waitWithin(t, scaleWait, "an instance to hold the upload's lock", func() bool {
		holders = uploadLockHolders(t, db)
		return len(holders) > 0
	})
	for i, app := range apps {
		if len(holders) == 1 && holders[0] == app.name {
			return app, apps[1-i]
		}
	}
	t.Fatalf("upload locks held by %v, want one held by app1 or app2", holders)
	return nil, nil
}

// uploadLockHolders names the instances holding advisory locks in the database.
func uploadLockHolders(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var holders []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		holders = append(holders, name)
	}
	return holders
}

// uploadTrace records the sender's tus requests and how each ended.
type uploadTrace struct {
	base http.RoundTripper
	mu   sync.Mutex
	reqs []tusRequest
}

type tusRequest struct {
	method, path string
	offset       string // Upload-Offset sent (PATCH) or answered (HEAD)
	outcome      string // the status, or the error
	ok           bool
}

func (u *uploadTrace) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := u.base.RoundTrip(req)
	if strings.Contains(req.URL.Path, "/uploads") {
		r := tusRequest{method: req.Method, path: req.URL.Path, offset: req.Header.Get("Upload-Offset")}
		if err != nil {
			r.outcome = err.Error()
		} else {
			r.outcome, r.ok = res.Status, res.StatusCode < 300
			if req.Method == http.MethodHead {
				r.offset = res.Header.Get("Upload-Offset")
			}
		}
		u.mu.Lock()
		u.reqs = append(u.reqs, r)
		u.mu.Unlock()
	}
	return res, err
}

// chunk returns the requests on the upload of one chunk (its id is {sid}/{cid}/{index}-{random}).
func (u *uploadTrace) chunk(cid string, index int) []tusRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []tusRequest
	for _, r := range u.reqs {
		if strings.Contains(r.path, "/"+cid+"/"+strconv.Itoa(index)+"-") {
			out = append(out, r)
		}
	}
	return out
}

func (u *uploadTrace) String() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return listTus(u.reqs)
}

func (u *uploadTrace) about(cid string, index int) string { return listTus(u.chunk(cid, index)) }

func listTus(reqs []tusRequest) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "  %s %s offset %q: %s\n", r.method, r.path, r.offset, r.outcome)
	}
	return b.String()
}

// requireResumed checks that the chunk's upload was resumed where the dead instance left it:
// after a PATCH that failed, a HEAD and a PATCH from a later offset on the same upload, no
// new one. It returns the offset resumed from.
func requireResumed(t *testing.T, trace *uploadTrace, cid string, index int) int64 {
	t.Helper()
	var failed, headed bool
	upload := ""
	for _, r := range trace.chunk(cid, index) {
		if upload == "" {
			upload = r.path
		}
		switch {
		case r.path != upload:
			t.Fatalf("chunk %d was uploaded to %s, then to %s: started over instead of resuming\n%s", index, upload, r.path, trace)
		case r.method == http.MethodPatch && !r.ok:
			failed = true
		case r.method == http.MethodHead && r.ok && failed:
			headed = true
		case r.method == http.MethodPatch && r.ok && headed:
			if off, _ := strconv.ParseInt(r.offset, 10, 64); off > 0 {
				return off
			}
		}
	}
	t.Fatalf("chunk %d: want a failed PATCH, then a HEAD and a PATCH from a later offset on the same upload\n%s", index, trace)
	return 0
}

// requireSameFile downloads the item with the CLI and compares it with the plaintext sent.
func requireSameFile(t *testing.T, what string, c *cli, cid string, plain []byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "received.bin")
	c.mustRun(nil, "get", "-s", scaleSession, "-q", "-o", out, cid)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(plain) {
		t.Fatalf("%s: %d bytes with SHA-256 %s, sent %d with %s", what, len(got), sha256Hex(got), len(plain), sha256Hex(plain))
	}
}

var subscribersGauge = regexp.MustCompile(`(?m)^sharethings_event_subscribers (\S+)$`)

// openStreams reads how many event streams an instance holds, from its metrics.
func openStreams(t *testing.T, app *scaleInstance) int {
	t.Helper()
	res, err := http.Get(app.url + "/metrics")
	if err != nil {
		t.Fatalf("metrics of %s: %v", app.name, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	m := subscribersGauge.FindSubmatch(raw)
	if m == nil {
		t.Fatalf("metrics of %s have no sharethings_event_subscribers", app.name)
	}
	n, _ := strconv.ParseFloat(string(m[1]), 64)
	return int(n)
}

// streamsOnEachInstance opens event streams through the balancer, one at a time, until each
// instance holds at least one of them, and returns them by instance. Round-robin alternates,
// but the test looks where each landed rather than assume it. The clients join first: their
// joins, through the balancer too, would otherwise take every other turn.
func streamsOnEachInstance(t *testing.T, creds scaleCreds, lb *scaleBalancer, apps []*scaleInstance) [2][]*scaleStream {
	t.Helper()
	var tokens []string
	for n := range 4 {
		tokens = append(tokens, creds.join(t, lb.url, fmt.Sprintf("balanced-%d", n+1), nil).CurrentToken())
	}
	var on [2][]*scaleStream
	for n, token := range tokens {
		before := []int{openStreams(t, apps[0]), openStreams(t, apps[1])}
		name := fmt.Sprintf("stream %d through haproxy", n+1)
		s := startScaleStream(t, name, lb.url, token)
		var now []int
		waitWithin(t, scaleWait, name+" to open", func() bool {
			now = []int{openStreams(t, apps[0]), openStreams(t, apps[1])}
			return now[0]+now[1] == before[0]+before[1]+1 && s.connections() == 1
		})
		i := 0
		if now[1] > before[1] {
			i = 1
		}
		s.name += " (on " + apps[i].name + ")"
		on[i] = append(on[i], s)
		if len(on[0]) > 0 && len(on[1]) > 0 {
			return on
		}
	}
	t.Fatalf("after %d streams through the balancer, app1 holds %d and app2 %d: not round-robin", len(tokens), len(on[0]), len(on[1]))
	return on
}

// scaleStream is an event-stream subscriber that reads the raw stream and keeps every event
// frame it gets, duplicates included: the test sees what the servers sent, not what a client
// that drops repeats would pass on. Like an EventSource, it reconnects after any failure with
// the id of the last event it got as Last-Event-ID, to wherever base points then.
type scaleStream struct {
	name, token string
	done        chan struct{}

	mu     sync.Mutex
	base   string
	cut    context.CancelFunc // ends the current connection
	events []loggedEvent
	opens  int
}

func startScaleStream(t *testing.T, name, base, token string) *scaleStream {
	ctx, cancel := context.WithCancel(context.Background())
	s := &scaleStream{name: name, token: token, base: base, done: make(chan struct{})}
	go s.run(ctx)
	t.Cleanup(func() { cancel(); <-s.done })
	return s
}

func (s *scaleStream) run(ctx context.Context) {
	defer close(s.done)
	for ctx.Err() == nil {
		s.connect(ctx)
		// A dead instance refuses at once: pause so the loop does not spin.
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// connect opens the stream once and records its events until it ends.
func (s *scaleStream) connect(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.cut = cancel
	target := s.base + "/api/v1/sessions/" + scaleSession + "/events"
	last := int64(0) // the whole log, from the first connection on
	if len(s.events) > 0 {
		last = s.events[len(s.events)-1].ID
	}
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", strconv.FormatInt(last, 10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return
	}
	s.mu.Lock()
	s.opens++
	s.mu.Unlock()
	frames := make(chan sseFrame, 64)
	go readFrames(ctx, res.Body, frames)
	for f := range frames {
		if f.err != nil {
			return
		}
		if f.id == "" {
			continue // a heartbeat or the retry hint
		}
		e := loggedEvent{Event: f.event, Data: json.RawMessage(f.data)}
		e.ID, _ = strconv.ParseInt(f.id, 10, 64)
		s.mu.Lock()
		s.events = append(s.events, e)
		s.mu.Unlock()
	}
}

// moveTo sends the stream's next connections to base, ending the current one.
func (s *scaleStream) moveTo(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base = base
	if s.cut != nil {
		s.cut()
	}
}

func (s *scaleStream) received() []loggedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

func (s *scaleStream) lastID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return 0
	}
	return s.events[len(s.events)-1].ID
}

func (s *scaleStream) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

// count counts the events of a type about an item.
func (s *scaleStream) count(event, cid string) int {
	n := 0
	for _, e := range s.received() {
		if e.Event == event && e.contentID() == cid {
			n++
		}
	}
	return n
}

func lastEventCount(t *testing.T, db *sql.DB) int { return len(sessionLog(t, db, scaleSession)) }

func lastEventID(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	return lastLogged(t, db, []string{scaleSession})[scaleSession]
}

// requireStreamsHaveLog waits until every stream has the newest logged event, then checks
// that each received the log up to its last event: every event once, in order, none missing.
func requireStreamsHaveLog(t *testing.T, db *sql.DB, streams []*scaleStream) {
	t.Helper()
	last := lastEventID(t, db)
	for _, s := range streams {
		waitWithin(t, scaleWait, fmt.Sprintf("%s to get event %d (it has %d)", s.name, last, s.lastID()), func() bool { return s.lastID() >= last })
	}
	for _, s := range streams {
		got := s.received() // first: the log read after it holds all of it
		log := sessionLog(t, db, scaleSession)
		requireSameEvents(t, s.name, got, through(log, got[len(got)-1].ID))
	}
}

func streamSummary(streams []*scaleStream) string {
	var parts []string
	for _, s := range streams {
		parts = append(parts, fmt.Sprintf("%s: %d connections", s.name, s.connections()))
	}
	return strings.Join(parts, "; ")
}
