package sse

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/storage"
)

// fixture is a real database with one session, a hub publishing its events, and an HTTP
// server streaming them to any client id.
type fixture struct {
	t      *testing.T
	db     *storage.DB
	hub    *Hub
	url    string
	client string
	// tokenLife is how long the streams' tokens last.
	tokenLife time.Duration
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, tokenLife: time.Hour}
	if opts.ReplayPage == 0 {
		opts = Options{WriteTimeout: time.Second, MaxSubscribers: 100, MaxPerSession: 100, ReplayPage: 3, PollWait: time.Hour, ReconnectRetryDelay: time.Second}
	}
	f.hub = NewHub(db, opts)
	db.Broker = f.hub
	joined, err := db.JoinSession(context.Background(), api.JoinInput{SessionID: "s1", ClientName: "a",
		KDF: &api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 1, Salt: make([]byte, 16)}, Fingerprint: api.Fingerprint{IV: make([]byte, 12), Data: make([]byte, 18)}})
	if err != nil {
		t.Fatal(err)
	}
	f.client = joined.Client.ID
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last := int64(LiveOnly)
		if v := r.Header.Get("Last-Event-ID"); v != "" {
			last, _ = strconv.ParseInt(v, 10, 64)
		}
		err := f.hub.Serve(w, r, Subscription{SessionID: "s1", ClientID: f.client, LastEventID: last, Until: time.Now().Add(f.tokenLife)})
		if err != nil {
			http.Error(w, api.ErrorCode(err), http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// record commits n client.joined events, published to the hub as usual.
func (f *fixture) record(n int) {
	f.t.Helper()
	for range n {
		if _, err := f.db.JoinSession(context.Background(), api.JoinInput{SessionID: "s1", ClientName: "b",
			Fingerprint: api.Fingerprint{IV: make([]byte, 12), Data: make([]byte, 18)}}); err != nil {
			f.t.Fatal(err)
		}
	}
}

// logIDs returns the ids of the session's logged events after the given one.
func (f *fixture) logIDs(after int64) []int64 {
	events, err := f.db.ListEvents(context.Background(), "s1", after, 10000)
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []int64
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	return ids
}

// stream is one open subscription read frame by frame.
type stream struct {
	t      *testing.T
	res    *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

func (f *fixture) open(lastEventID string) *stream {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	s := &stream{t: f.t, res: res, r: bufio.NewReader(res.Body), cancel: cancel}
	f.t.Cleanup(s.close)
	if s.next().retry == "" {
		f.t.Fatal("the stream did not open with a retry hint")
	}
	return s
}

func (s *stream) close() { s.cancel(); s.res.Body.Close() }

type sseFrame struct {
	id, event, data, retry, comment string
}

// next reads one frame.
func (s *stream) next() sseFrame {
	s.t.Helper()
	var f sseFrame
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("stream ended: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return f
		}
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "id":
			f.id = v
		case "event":
			f.event = v
		case "data":
			f.data = v
		case "retry":
			f.retry = v
		case "":
			f.comment = v
		}
	}
}

// nextEvent skips heartbeats.
func (s *stream) nextEvent() sseFrame {
	for {
		if f := s.next(); f.comment == "" {
			return f
		}
	}
}

func (s *stream) expectIDs(ids []int64) {
	s.t.Helper()
	for _, want := range ids {
		if got := s.nextEvent(); got.id != strconv.FormatInt(want, 10) {
			s.t.Fatalf("got event %+v, want id %d", got, want)
		}
	}
}

func TestReplayThenLive(t *testing.T) {
	f := newFixture(t, Options{})
	f.record(7) // more than one replay page
	s := f.open("1")
	s.expectIDs(f.logIDs(1))
	before := f.logIDs(0)
	f.record(2)
	s.expectIDs(f.logIDs(before[len(before)-1]))
}

func TestLiveOnlyWithoutLastEventID(t *testing.T) {
	f := newFixture(t, Options{})
	f.record(2)
	seen := f.logIDs(0)
	s := f.open("")
	f.record(1)
	s.expectIDs(f.logIDs(seen[len(seen)-1]))
}

// TestDroppedLiveCopiesAreReadFromTheLog: the hub drops a live copy rather than block a
// publisher; the next frame shows the gap and the subscriber reads it from the log.
func TestDroppedLiveCopiesAreReadFromTheLog(t *testing.T) {
	f := newFixture(t, Options{})
	s := f.open("")
	start := f.logIDs(0)
	f.db.Broker = nil // these copies are "dropped"
	f.record(3)
	f.db.Broker = f.hub
	f.record(1)
	s.expectIDs(f.logIDs(start[len(start)-1]))
}

func TestHeartbeatRepairsATrailingGap(t *testing.T) {
	f := newFixture(t, Options{})
	s := f.open("")
	start := f.logIDs(0)
	f.db.Broker = nil
	f.record(2)
	f.hub.mu.Lock()
	f.hub.sessions["s1"].latest = f.logIDs(0)[len(f.logIDs(0))-1]
	f.hub.mu.Unlock()
	f.hub.Heartbeat(context.Background())
	s.expectIDs(f.logIDs(start[len(start)-1]))
	if hb := s.next(); hb.comment != "heartbeat" {
		t.Fatalf("after the repair: %+v, want the heartbeat", hb)
	}
}

func TestResyncWhenTheLogNoLongerReachesBack(t *testing.T) {
	f := newFixture(t, Options{})
	f.record(4)
	if _, err := f.db.PruneEvents(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	kept := f.logIDs(0)
	s := f.open("1")
	if r := s.nextEvent(); r.event != api.EventSessionResync {
		t.Fatalf("first frame %+v, want session.resync", r)
	}
	s.expectIDs(kept)
}

func TestExpireEndsStreams(t *testing.T) {
	f := newFixture(t, Options{})
	s := f.open("")
	f.hub.Expire("s1")
	if e := s.nextEvent(); e.event != api.EventSessionExpired {
		t.Fatalf("got %+v, want session.expired", e)
	}
	if _, err := s.r.ReadString('\n'); err == nil {
		t.Fatal("stream still open after session.expired")
	}
}

func TestSubscriberLimits(t *testing.T) {
	opts := Options{WriteTimeout: time.Second, MaxSubscribers: 5, MaxPerSession: 1, ReplayPage: 10, PollWait: time.Hour, ReconnectRetryDelay: time.Second}
	f := newFixture(t, opts)
	f.open("")
	res, err := http.Get(f.url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second stream of a one-stream session: %d", res.StatusCode)
	}
}

func pollOptions(wait time.Duration) Options {
	return Options{WriteTimeout: time.Second, MaxSubscribers: 5, MaxPerSession: 5, ReplayPage: 10, PollWait: wait, ReconnectRetryDelay: time.Second}
}

func TestPollAnswersAtOnceOrAfterItsWait(t *testing.T) {
	f := newFixture(t, pollOptions(20*time.Millisecond))
	ctx := context.Background()
	latest := f.logIDs(0)[0]
	if events, err := f.hub.Poll(ctx, "s1", 0); err != nil || len(events) != 1 || events[0].ID != latest {
		t.Fatalf("poll with events waiting: %v %v", events, err)
	}
	if events, err := f.hub.Poll(ctx, "s1", latest); err != nil || len(events) != 0 {
		t.Fatalf("poll with nothing new: %v %v", events, err)
	}
}

func TestPollWakesOnPublish(t *testing.T) {
	f := newFixture(t, pollOptions(time.Hour))
	latest := f.logIDs(0)[0]
	done := make(chan []api.Event)
	go func() { events, _ := f.hub.Poll(context.Background(), "s1", latest); done <- events }()
	// Whether the poll registers before or after this commit, it answers with the event: it
	// is woken by the publish, or finds the event in the log at once.
	f.record(1)
	if events := <-done; len(events) != 1 || events[0].ID <= latest {
		t.Fatalf("woken poll: %v", events)
	}
}

func uuidString(b [16]byte) string {
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// TestStreamEndsWhenTheTokenExpires: the client then refreshes its token and reconnects with
// its Last-Event-ID.
func TestStreamEndsWhenTheTokenExpires(t *testing.T) {
	f := newFixture(t, Options{})
	f.tokenLife = 50 * time.Millisecond
	s := f.open("")
	for {
		if _, err := s.r.ReadString('\n'); err != nil {
			return // ended, as it should
		}
	}
}
