package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	apiclient "github.com/sharethings/sharethings/api/client"
	"github.com/sharethings/sharethings/storage/pgtest"
)

// openStream opens the session's event stream with a token and returns once the server has
// started it (the retry hint arrived); the returned func closes it.
func (s *testServer) openStream(t testing.TB, token string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/api/v1/sessions/team-alpha/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("open stream: %v %v", res, err)
	}
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("stream opened with %q, %v", line, err)
	}
	return func() { cancel(); res.Body.Close() }
}

// waitFor polls a condition the server reaches on its own after a client disconnects, which
// no event announces; it fails after a generous bound.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, 10*time.Second, what, cond)
}

// waitWithin polls cond until it holds, failing the test after bound with what the optional
// detail says then.
func waitWithin(t testing.TB, bound time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	for deadline := time.Now().Add(bound); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			more := ""
			for _, d := range detail {
				more += ": " + d()
			}
			t.Fatalf("timed out after %v waiting for %s%s", bound, what, more)
		}
	}
}

// presenceEvents lists the client.joined/client.left events of the log, as "joined:<name>".
func (s *testServer) presenceEvents(t testing.TB) []string {
	t.Helper()
	events, err := s.app.db.ListEvents(t.Context(), "team-alpha", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if strings.HasPrefix(e.Type, "client.") {
			var c struct{ ClientName string }
			json.Unmarshal(e.Data, &c)
			out = append(out, strings.TrimPrefix(e.Type, "client.")+":"+c.ClientName)
		}
	}
	return out
}

func (s *testServer) presentNames(t testing.TB, token string) []string {
	t.Helper()
	var names []string
	for _, c := range s.do(http.MethodGet, "/api/v1/sessions/team-alpha/clients", nil, token).json(t)["clients"].([]any) {
		names = append(names, c.(map[string]any)["clientName"].(string))
	}
	return names
}

func (s *testServer) joinAs(t testing.TB, name string, create bool) string {
	t.Helper()
	v := loadVectors(t)
	body := map[string]any{"clientName": name, "fingerprint": v[0].Fingerprint}
	if create {
		body["kdf"] = v[0].KDF
	}
	return s.do(http.MethodPost, "/api/v1/sessions/team-alpha/join", body, "").json(t)["token"].(string)
}

func TestPresence(t *testing.T) {
	cfg, clk := testConfig(t, "--token-ttl", "24h", "--session-idle-timeout", "10m")
	srv := startServer(t, cfg, clk)
	streamer := srv.joinAs(t, "streamer", true)
	poller := srv.joinAs(t, "poller", false)
	closeStream := srv.openStream(t, streamer)

	// Past the grace: the client holding a stream stays, the silent one leaves, once.
	clk.Advance(31 * time.Second)
	srv.app.ExpirePresence(t.Context())
	srv.app.ExpirePresence(t.Context())
	if got := strings.Join(srv.presentNames(t, streamer), ","); got != "streamer" {
		t.Fatalf("present: %s, want only the streamer", got)
	}
	// A poll brings it back.
	if r := srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/events?poll=1&after=0", nil, poller); r.status != 200 {
		t.Fatalf("poll: %d %s", r.status, r.body)
	}
	// A quick reconnect does not flap.
	closeStream()
	waitFor(t, "the stream to close", func() bool { return srv.app.hub.Subscribers() == 0 })
	clk.Advance(10 * time.Second)
	closeStream = srv.openStream(t, streamer)
	srv.app.ExpirePresence(t.Context())
	// A session with a stream open is active, however quiet.
	clk.Advance(11 * time.Minute)
	srv.app.Sweep(t.Context())
	if r := srv.do(http.MethodGet, "/api/v1/sessions/team-alpha", nil, ""); r.status != 200 {
		t.Fatalf("a session with an open stream expired: %d", r.status)
	}
	// Leaving is at once, and not repeated by the presence check.
	srv.do(http.MethodPost, "/api/v1/sessions/team-alpha/leave", nil, streamer)
	closeStream()
	srv.app.ExpirePresence(t.Context())

	// The poller, silent since its poll 11 minutes ago, leaves at the last check.
	want := "joined:streamer joined:poller left:poller joined:poller left:streamer left:poller"
	if got := strings.Join(srv.presenceEvents(t), " "); got != want {
		t.Fatalf("presence events:\n got %s\nwant %s", got, want)
	}
}

// TestShutdownEndsStreamsAtOnce: a graceful stop does not wait for open event streams, which
// would otherwise hold it for the whole shutdown timeout and make Serve return an error.
func TestShutdownEndsStreamsAtOnce(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.joinAs(t, "streamer", true)
	closeStream := srv.openStream(t, token)
	defer closeStream()
	srv.stop()
	if err := <-srv.done; err != nil {
		t.Fatalf("shutdown with a stream open: %v", err)
	}
	srv.stop = nil
}

// TestPresenceHoldsAcrossInstances: instances sharing a PostgreSQL database each mark the
// clients holding their streams as seen, and the sessions they stream as active, so another
// instance's checks, which know nothing of those streams, neither send the clients away nor
// expire the session.
func TestPresenceHoldsAcrossInstances(t *testing.T) {
	cfg, clk := testConfig(t, "--token-ttl", "24h", "--session-idle-timeout", "10m",
		"--database-url", pgtest.Shared(t).NewDatabase(t))
	other := *cfg
	one, two := startServer(t, cfg, clk), startServer(t, &other, clk)
	streamer := one.joinAs(t, "streamer", true)
	two.joinAs(t, "silent", false)
	closeStream := one.openStream(t, streamer)
	defer closeStream()

	clk.Advance(31 * time.Second)
	one.app.ExpirePresence(t.Context())
	two.app.ExpirePresence(t.Context())
	if got := strings.Join(two.presentNames(t, streamer), ","); got != "streamer" {
		t.Fatalf("present: %s, want only the streamer", got)
	}
	clk.Advance(11 * time.Minute)
	one.app.Sweep(t.Context())
	two.app.Sweep(t.Context())
	if r := two.do(http.MethodGet, "/api/v1/sessions/team-alpha", nil, ""); r.status != 200 {
		t.Fatalf("a session streamed on another instance expired: %d", r.status)
	}
	if got, want := strings.Join(two.presenceEvents(t), " "), "joined:streamer joined:silent left:silent"; got != want {
		t.Fatalf("presence events:\n got %s\nwant %s", got, want)
	}
}

// TestSessionExpiryReachesEveryInstance: a session one instance deletes as idle ends the
// streams other instances hold in it with session.expired, as it does on the one that
// deleted it.
func TestSessionExpiryReachesEveryInstance(t *testing.T) {
	cfg, clk := testConfig(t, "--token-ttl", "24h", "--session-idle-timeout", "10m",
		"--database-url", pgtest.Shared(t).NewDatabase(t))
	other := *cfg
	one, two := startServer(t, cfg, clk), startServer(t, &other, clk)
	c, joined := joinedClient(t, one.url, "alice")
	sink, _, done := listen(t, c, joined.LastEventID)
	sink.next(t, "client.joined")

	clk.Advance(11 * time.Minute) // one never sweeps: two does not know of its stream
	two.app.Sweep(t.Context())
	sink.next(t, "session.expired")
	if err := <-done; !errors.Is(err, apiclient.ErrSessionExpired) {
		t.Fatalf("Events returned %v, want ErrSessionExpired", err)
	}
}
