package main

// BenchmarkScaleOut measures, in one run, with the same workload and the same client code,
// what scaling out costs and gives: one instance on SQLite, one on PostgreSQL, and two on one
// PostgreSQL database and one data directory behind HAProxy round-robin
// (docs/deploy/scaleout/haproxy.cfg, its bind and server addresses substituted).
//
//	go test -run '^$' -bench ScaleOut -benchtime 200x ./cmd/sharethings
//
// b.N is the number of items each uploader sends (so -benchtime 200x is 1600 items per
// topology, about 30 s for the whole run on a 2-core machine); give -benchtime as a count: a
// duration makes the framework grow b.N and start every topology afresh each time. Each sub-benchmark prints items/s and MB/s (upload
// throughput while the streams are being fed: items, and encrypted bytes, acknowledged per
// second of wall time from the first announce to the last acknowledged chunk) and p50-ms and
// p99-ms (event latency); the parent prints a table of all of them at the end.
//
// Event latency is, for every subscriber and every item of its session, the time from the
// moment the item's uploader got the acknowledgement of its last chunk (UploadChunk returned)
// to the moment the subscriber's api/client Events callback got the item's content.completed
// event. The server records that event in the transaction that records the chunk, before it
// answers the final PATCH, so a subscriber may get it before the uploader gets its answer:
// latencies can be negative, and the table says how often ("before ack").
//
// Behind the balancer the table also has "x-inst ms", what crossing instances adds: for each
// item, the median latency of the subscribers on the instance that got the item's event later
// minus that on the other one (taken to be the instance that recorded it, which the client
// cannot see), and the median of that over the items. It is the time an event takes from one
// instance's commit through the PostgreSQL notification and the other's read of the log.
//
// The two instances run in this process (two Apps, as the multi-instance tests start them),
// not as two binaries: on this 2-core machine two processes would share the same cores
// anyway, and in-process both topologies pay the same for the client, the server code and the
// scheduler, so the comparison stays fair. HAProxy and PostgreSQL run as processes beside
// it and take their share of those two cores; PostgreSQL is pgtest's throwaway server, with
// fsync=off and synchronous_commit=off, which flatters it against SQLite (WAL,
// synchronous=NORMAL).
//
// Besides measuring, every run checks what it measured: every request answered without an
// error, 5xx or 429 (the client would retry those silently), every event stream stayed up,
// every subscriber got every item's content.completed, the database holds every item
// complete and no unfinished upload, and behind HAProxy both instances hold streams. Any
// miss fails the benchmark; no wall-clock figure does.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
	apiclient "github.com/sharethings/sharethings/api/client"
	"github.com/sharethings/sharethings/storage/pgtest"
)

const (
	sobSessions              = 2
	sobUploaders             = 8  // spread over the sessions
	sobSubscribersPerSession = 16 // each a client of its own, with its own event stream
	// sobChunkSize is each item's one chunk, in plaintext bytes; its blob adds chunkOverhead.
	sobChunkSize = 256 * kiB
	// sobWait bounds every wait for an outcome (streams opening, events arriving).
	sobWait = 60 * time.Second
)

// sobTopology is one deployment the benchmark measures.
type sobTopology struct {
	name      string
	instances int
	postgres  bool
}

var sobTopologies = []sobTopology{
	{name: "sqlite-1", instances: 1},
	{name: "postgres-1", instances: 1, postgres: true},
	{name: "postgres-2-haproxy", instances: 2, postgres: true},
}

// sobResult is what one run of a topology measured.
type sobResult struct {
	topology           string
	perUploader, items int
	bytes              int64
	uploading          time.Duration
	p50, p99, max      time.Duration
	beforeAck          float64 // share of deliveries that came before the uploader's ack
	crossInstance      time.Duration
	deliveries         int
	streams            []int // event streams held by each instance during the run
	serverLogProblems  int   // WARN and ERROR lines the servers logged
}

func (r sobResult) itemsPerSecond() float64 { return float64(r.items) / r.uploading.Seconds() }
func (r sobResult) mbPerSecond() float64    { return float64(r.bytes) / 1e6 / r.uploading.Seconds() }

func sobMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func BenchmarkScaleOut(b *testing.B) {
	results := map[string]sobResult{}
	for _, topo := range sobTopologies {
		b.Run(topo.name, func(b *testing.B) {
			r := sobRun(b, topo)
			b.ReportMetric(r.itemsPerSecond(), "items/s")
			b.ReportMetric(r.mbPerSecond(), "MB/s")
			b.ReportMetric(sobMillis(r.p50), "p50-ms")
			b.ReportMetric(sobMillis(r.p99), "p99-ms")
			// The framework runs each sub-benchmark with b.N = 1 first: keep the last run.
			results[topo.name] = r
		})
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%d uploaders and %d sessions with %d subscribers each; items of one %d KiB chunk\n",
		sobUploaders, sobSessions, sobSubscribersPerSession, sobChunkSize/kiB)
	fmt.Fprintf(&table, "%-20s %6s %9s %8s %8s %8s %8s %10s %11s %10s %9s\n",
		"topology", "items", "items/s", "MB/s", "p50 ms", "p99 ms", "max ms", "before ack", "x-inst ms", "streams", "log W/E")
	for _, topo := range sobTopologies {
		r, ok := results[topo.name]
		if !ok {
			continue // filtered out by -bench, or failed
		}
		streams := make([]string, len(r.streams))
		for i, n := range r.streams {
			streams[i] = fmt.Sprint(n)
		}
		cross := "-"
		if len(r.streams) > 1 {
			cross = fmt.Sprintf("%.2f", sobMillis(r.crossInstance))
		}
		fmt.Fprintf(&table, "%-20s %6d %9.1f %8.1f %8.2f %8.2f %8.2f %9.1f%% %11s %10s %9d\n",
			r.topology, r.items, r.itemsPerSecond(), r.mbPerSecond(), sobMillis(r.p50), sobMillis(r.p99), sobMillis(r.max),
			100*r.beforeAck, cross, strings.Join(streams, "+"), r.serverLogProblems)
	}
	b.Logf("scale-out figures:\n%s", table.String())
	if !testing.Verbose() {
		// The framework shows a parent benchmark's log only with -v: without, print the table.
		fmt.Printf("BenchmarkScaleOut figures:\n%s", table.String())
	}
}

// sobEnv is one running topology: its instances and, with two, the balancer in front.
type sobEnv struct {
	url  string // where every client goes
	srvs []*testServer
	lb   *sobBalancer
}

// sobStart starts the topology's instances (and balancer) and returns the URL clients use.
func sobStart(b *testing.B, topo sobTopology) *sobEnv {
	b.Helper()
	limits := []string{"--session-max-items", "1000000", "--session-quota", "1TiB", "--max-item-size", "1TiB"}
	if !topo.postgres {
		// SQLite even when SHARETHINGS_TEST_ENGINE=postgres: an empty URL is SQLite.
		cfg, clk := testConfig(b, append(limits, "--database-url", "")...)
		srv := startServer(b, cfg, clk)
		return &sobEnv{url: srv.url, srvs: []*testServer{srv}}
	}
	dbURL := pgtest.Shared(b).NewDatabase(b)
	shared := filepath.Join(b.TempDir(), "data")
	extra := append(limits, "--data-dir", shared, "--database-url", dbURL)
	if topo.instances > 1 {
		extra = append(extra, "--trusted-proxies", "127.0.0.1") // as the documented deployment runs them
	}
	env := &sobEnv{}
	var clk *clock
	// One after the other: the first creates the token-signing key in the shared directory.
	for range topo.instances {
		cfg, own := testConfig(b, extra...)
		if clk == nil {
			clk = own
		}
		cfg.Now = clk.Now // one clock for all instances, as one machine has
		env.srvs = append(env.srvs, startServer(b, cfg, clk))
	}
	env.url = env.srvs[0].url
	if topo.instances > 1 {
		env.lb = sobStartBalancer(b, env.srvs)
		env.url = env.lb.url
	}
	return env
}

// stop stops the balancer and the instances now, not when the sub-benchmark ends: the
// framework calls a sub-benchmark's function more than once (b.N = 1, then the real b.N),
// and the next run, or topology, must not share the machine with this one.
func (e *sobEnv) stop() {
	if e.lb != nil {
		e.lb.stop()
	}
	for _, s := range e.srvs {
		s.shutdown()
	}
}

// logProblems returns the WARN and ERROR lines the instances logged. The in-process
// instances share the process's logger, which each start points at its own buffer: together
// the buffers hold everything.
func (e *sobEnv) logProblems() []string {
	var out []string
	for _, s := range e.srvs {
		for _, line := range strings.Split(s.logs.String(), "\n") {
			if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
				out = append(out, line)
			}
		}
	}
	return out
}

func (e *sobEnv) streams() []int {
	var out []int
	for _, s := range e.srvs {
		out = append(out, s.app.hub.Subscribers())
	}
	return out
}

// sobAck is an item's acknowledged upload: when its uploader got the answer to its last chunk.
type sobAck struct {
	sid, cid string
	at       time.Time
}

// sobSubscriber keeps when each item's content.completed reached one event stream.
type sobSubscriber struct {
	name, sid string
	token     string
	instance  int // index of the instance that holds the stream
	completed atomic.Int64
	mu        sync.Mutex
	at        map[string]time.Time // content id → arrival of its content.completed
	repeats   []string
	done      chan struct{}
	err       error // what Events returned, once done is closed
}

func sobSubscribe(ctx context.Context, c *apiclient.Client, name string) *sobSubscriber {
	s := &sobSubscriber{name: name, sid: c.CurrentSession(), token: c.CurrentToken(), at: map[string]time.Time{}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = c.Events(ctx, 0, func(e apiclient.Event) error {
			if e.Type != api.EventContentCompleted {
				return nil
			}
			now := time.Now()
			cid := loggedEvent{Data: e.Data}.contentID()
			s.mu.Lock()
			defer s.mu.Unlock()
			if _, seen := s.at[cid]; seen {
				s.repeats = append(s.repeats, cid)
				return nil
			}
			s.at[cid] = now
			s.completed.Add(1)
			return nil
		})
	}()
	return s
}

// sobRun runs the workload once on a fresh topology: the subscribers open their streams,
// then the uploaders send b.N items each, and the run waits until every subscriber has every
// item's content.completed.
func sobRun(b *testing.B, topo sobTopology) sobResult {
	env := sobStart(b, topo)
	defer env.stop()
	transport := newWatchedTransport()
	hc := &http.Client{Transport: transport}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()

	var creds []loadCreds
	for i := range sobSessions {
		creds = append(creds, newLoadCreds(b, fmt.Sprintf("scaleout-%d", i)))
	}
	join := func(name string, i int) *apiclient.Client {
		b.Helper()
		c, err := creds[i%sobSessions].join(ctx, env.url, name, hc, quickRetry)
		if err != nil {
			b.Fatalf("join %s to %s through %s: %v", name, creds[i%sobSessions].id, env.url, err)
		}
		return c
	}
	for i := range sobSessions {
		join(fmt.Sprintf("creator-%d", i), i)
	}

	// Every subscriber joins first, then all streams open: behind the balancer, the stream
	// requests alone take turns over the instances.
	nSubs := sobSessions * sobSubscribersPerSession
	var clients []*apiclient.Client
	for i := range nSubs {
		clients = append(clients, join(fmt.Sprintf("subscriber-%d", i), i))
	}
	var subs []*sobSubscriber
	for i, c := range clients {
		subs = append(subs, sobSubscribe(ctx, c, fmt.Sprintf("subscriber-%d", i)))
	}
	waitWithin(b, sobWait, fmt.Sprintf("%d event streams to open", nSubs), func() bool {
		total := 0
		for _, n := range env.streams() {
			total += n
		}
		return total == nSubs
	})
	streams := env.streams()
	if slices.Contains(streams, 0) {
		b.Fatalf("event streams per instance: %v; through round-robin every instance should hold some", streams)
	}
	holder := map[string]int{} // client id → instance holding its stream
	for i, srv := range env.srvs {
		ids, _ := srv.app.hub.Holding()
		for _, id := range ids {
			holder[id] = i
		}
	}
	for _, s := range subs {
		i, ok := holder[sobClientID(b, s.token)]
		if !ok {
			b.Fatalf("%s: no instance holds its stream", s.name)
		}
		s.instance = i
	}

	var uploaders []*apiclient.Client
	for n := range sobUploaders {
		uploaders = append(uploaders, join(fmt.Sprintf("uploader-%d", n), n))
	}
	// One blob for every item: the server never decrypts, and the client's time goes to
	// sending, not to making random bytes.
	blob := make([]byte, sobChunkSize+chunkOverhead)
	rand.Read(blob)
	acks := make([][]sobAck, sobUploaders)

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for n, c := range uploaders {
		wg.Go(func() {
			for range b.N {
				it := randomItem{id: newUUID(), size: len(blob), chunkSize: sobChunkSize}
				if _, err := c.Announce(ctx, it.announcement([][]byte{blob})); err != nil {
					b.Errorf("uploader %d: announce %s: %v", n, it.id, err)
					return
				}
				if err := c.UploadChunk(ctx, it.id, 0, bytes.NewReader(blob), int64(len(blob)), nil); err != nil {
					b.Errorf("uploader %d: chunk 0 of %s: %v", n, it.id, err)
					return
				}
				acks[n] = append(acks[n], sobAck{sid: c.CurrentSession(), cid: it.id, at: time.Now()})
			}
		})
	}
	wg.Wait()
	uploading := time.Since(start)
	b.StopTimer()
	if b.Failed() {
		b.FailNow()
	}

	perSession := map[string]int{}
	for _, list := range acks {
		for _, a := range list {
			perSession[a.sid]++
		}
	}
	waitWithin(b, sobWait, "every subscriber to get every item's content.completed", func() bool {
		for _, s := range subs {
			if s.completed.Load() < int64(perSession[s.sid]) {
				return false
			}
		}
		return true
	}, func() string {
		var behind []string
		for _, s := range subs {
			if got := s.completed.Load(); got < int64(perSession[s.sid]) {
				behind = append(behind, fmt.Sprintf("%s has %d of %d", s.name, got, perSession[s.sid]))
			}
		}
		return strings.Join(behind, "; ")
	})
	cancel()

	r := sobResult{topology: topo.name, perUploader: b.N, uploading: uploading, streams: streams}
	var latencies []time.Duration
	early := 0
	perItem := map[string][][]time.Duration{} // content id → latencies by instance of the subscriber
	for _, s := range subs {
		if <-s.done; !errors.Is(s.err, context.Canceled) {
			b.Errorf("%s: the event stream ended with %v before the benchmark cancelled it", s.name, s.err)
		}
		if len(s.repeats) > 0 {
			b.Errorf("%s got content.completed more than once for %v", s.name, s.repeats)
		}
		for _, list := range acks {
			for _, a := range list {
				if a.sid != s.sid {
					continue
				}
				at, ok := s.at[a.cid]
				if !ok {
					b.Errorf("%s never got content.completed for %s", s.name, a.cid)
					continue
				}
				d := at.Sub(a.at)
				if d < 0 {
					early++
				}
				latencies = append(latencies, d)
				if perItem[a.cid] == nil {
					perItem[a.cid] = make([][]time.Duration, len(env.srvs))
				}
				perItem[a.cid][s.instance] = append(perItem[a.cid][s.instance], d)
			}
		}
	}
	if f := transport.failures(); len(f) > 0 {
		b.Errorf("%d requests failed or were answered 5xx/429, e.g.:\n%s", len(f), strings.Join(f[:min(len(f), 10)], "\n"))
	}
	if n := transport.streams.Load(); n != int64(nSubs) {
		b.Errorf("%d event-stream connections for %d subscribers: streams broke and reconnected", n, nSubs)
	}
	for _, list := range acks {
		r.items += len(list)
	}
	r.bytes = int64(r.items) * int64(len(blob))
	sobCheckStored(b, env.srvs[0], r.items)
	if b.Failed() {
		b.FailNow()
	}

	slices.Sort(latencies)
	r.deliveries = len(latencies)
	r.p50, r.p99, r.max = sobPercentile(latencies, 0.50), sobPercentile(latencies, 0.99), latencies[len(latencies)-1]
	r.beforeAck = float64(early) / float64(len(latencies))
	if len(env.srvs) > 1 {
		r.crossInstance = sobCrossInstance(perItem)
	}

	// Stopped before the logs are read, so that what the shutdown logs counts too.
	cancel()
	hc.CloseIdleConnections()
	env.stop()
	problems := env.logProblems()
	r.serverLogProblems = len(problems)
	if len(problems) > 0 {
		b.Logf("%s: the servers logged %d WARN/ERROR lines, e.g.:\n%s", topo.name, len(problems), strings.Join(problems[:min(len(problems), 5)], "\n"))
	}
	if env.lb != nil {
		if out := strings.TrimSpace(env.lb.logs.String()); out != "" {
			b.Logf("%s: haproxy said:\n%s", topo.name, out)
		}
	}
	return r
}

// sobCrossInstance is the median over items of the later instance's median latency minus the
// earlier one's, for the items whose event reached subscribers on two instances.
func sobCrossInstance(perItem map[string][][]time.Duration) time.Duration {
	var gaps []time.Duration
	for _, byInstance := range perItem {
		if len(byInstance) != 2 || len(byInstance[0]) == 0 || len(byInstance[1]) == 0 {
			continue
		}
		var medians [2]time.Duration
		for i, l := range byInstance {
			slices.Sort(l)
			medians[i] = sobPercentile(l, 0.5)
		}
		gaps = append(gaps, max(medians[0], medians[1])-min(medians[0], medians[1]))
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return sobPercentile(gaps, 0.5)
}

// sobClientID is the subject of a session token, the id of the client it was issued to; the
// payload is read, not verified.
func sobClientID(b *testing.B, token string) string {
	b.Helper()
	parts := strings.Split(token, ".")
	var claims struct {
		Sub string `json:"sub"`
	}
	if len(parts) == 3 {
		if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			json.Unmarshal(raw, &claims)
		}
	}
	if claims.Sub == "" {
		b.Fatalf("token %q names no client", token)
	}
	return claims.Sub
}

// sobPercentile is the nearest-rank percentile of sorted durations.
func sobPercentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// sobCheckStored checks that the database holds items complete items and no unfinished upload.
func sobCheckStored(b *testing.B, srv *testServer, items int) {
	b.Helper()
	db := srv.openDB(b)
	defer db.Close()
	var stored, complete, pending int
	if err := db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN is_complete THEN 1 ELSE 0 END), 0) FROM content_metadata`).Scan(&stored, &complete); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM uploads`).Scan(&pending); err != nil {
		b.Fatal(err)
	}
	if stored != items || complete != items || pending != 0 {
		b.Errorf("the database holds %d items (%d complete) and %d unfinished uploads; want %d complete, none unfinished",
			stored, complete, pending, items)
	}
}

// sobBalancer is haproxy running the documented scale-out configuration.
type sobBalancer struct {
	url  string
	logs *syncBuffer
	stop func() // kills haproxy and waits for it; safe to call twice
}

// sobStartBalancer runs haproxy in the foreground with docs/deploy/scaleout/haproxy.cfg, its
// bind address and the two server addresses substituted, and returns once it listens.
func sobStartBalancer(b *testing.B, srvs []*testServer) *sobBalancer {
	b.Helper()
	if len(srvs) != 2 {
		b.Fatalf("the scale-out example names 2 servers; got %d instances", len(srvs))
	}
	addr := freeAddr(b)
	logs, stop := runHAProxy(b, scaleOutExample, addr, map[string]string{
		"bind 127.0.0.1:8080\n":        "bind " + addr + "\n",
		"server app1 127.0.0.1:8081\n": "server app1 " + strings.TrimPrefix(srvs[0].url, "http://") + "\n",
		"server app2 127.0.0.1:8082\n": "server app2 " + strings.TrimPrefix(srvs[1].url, "http://") + "\n",
	})
	return &sobBalancer{url: "http://" + addr, logs: logs, stop: stop}
}
