package main

// End-to-end tests of the event stream (PROTOCOL §6) as clients meet it: the `eventsource`
// npm package through web/tools/events.mjs (a WHATWG EventSource with its own reconnects), a
// long-poll loop, and a raw HTTP reader behind nginx. Every test compares what a client got
// with the durable log: the same ids, names and data, in order, nothing lost, nothing twice.
// Like the tus end-to-end tests they fail, not skip, when Node, the npm packages or nginx are
// missing: CI installs them (.ci/run, make node-deps).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	eventsPath = "/api/v1/sessions/team-alpha/events"
	// eventWait bounds every wait for an event. It is generous: after a server restart the
	// client waits the 3 s retry hint before each attempt.
	eventWait = 60 * time.Second
)

// loggedEvent is an event as the log holds it and as clients print it.
type loggedEvent struct {
	ID    int64           `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

func (e loggedEvent) String() string { return fmt.Sprintf("%d %s %s", e.ID, e.Event, e.Data) }

// contentID is data.contentId, or "" for events about no item.
func (e loggedEvent) contentID() string {
	var d struct {
		ContentID string `json:"contentId"`
	}
	json.Unmarshal(e.Data, &d)
	return d.ContentID
}

// sameEvent compares data as JSON values: the log stores Go's encoding, clients re-encode it.
func sameEvent(a, b loggedEvent) bool {
	var da, db any
	return a.ID == b.ID && a.Event == b.Event &&
		json.Unmarshal(a.Data, &da) == nil && json.Unmarshal(b.Data, &db) == nil && reflect.DeepEqual(da, db)
}

// requireSameEvents fails unless got is want, event for event.
func requireSameEvents(t *testing.T, who string, got, want []loggedEvent) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = sameEvent(got[i], want[i])
	}
	if !ok {
		t.Fatalf("%s received %d events, the log has %d:\nreceived:\n%s\nlog:\n%s", who, len(got), len(want), listEvents(got), listEvents(want))
	}
}

func listEvents(events []loggedEvent) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}

// eventLog returns team-alpha's logged events after the given id: through the App when the
// server runs in this process, else straight from its database.
func (s *testServer) eventLog(t *testing.T, after int64) []loggedEvent {
	t.Helper()
	var out []loggedEvent
	if s.app != nil {
		events, err := s.app.db.ListEvents(t.Context(), "team-alpha", after, 100000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			out = append(out, loggedEvent{ID: e.ID, Event: e.Type, Data: e.Data})
		}
		return out
	}
	db := s.openDB(t)
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT id, type, data FROM events WHERE session_id = 'team-alpha' AND id > ? ORDER BY id`, after)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e loggedEvent
		var data string
		if err := rows.Scan(&e.ID, &e.Event, &data); err != nil {
			t.Fatal(err)
		}
		e.Data = json.RawMessage(data)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// through keeps the events with ids up to last.
func through(events []loggedEvent, last int64) []loggedEvent {
	return slices.DeleteFunc(slices.Clone(events), func(e loggedEvent) bool { return e.ID > last })
}

// streamJoin joins team-alpha (creating it) and returns the token, the client id and the
// lastEventId to open the stream with.
func (s *testServer) streamJoin(t *testing.T) (token, clientID string, last int64) {
	t.Helper()
	v := loadVectors(t)[0]
	r := s.join(v.SessionID, v.Fingerprint, v.KDF)
	var answer struct {
		Token       string `json:"token"`
		ClientID    string `json:"clientId"`
		LastEventID *int64 `json:"lastEventId"`
	}
	if (r.status != http.StatusCreated && r.status != http.StatusOK) || json.Unmarshal(r.body, &answer) != nil || answer.LastEventID == nil {
		t.Fatalf("join: %d %s, want a token and a lastEventId", r.status, r.body)
	}
	return answer.Token, answer.ClientID, *answer.LastEventID
}

// requireEventTools is requireNodeTools for events.mjs, which needs the eventsource package.
func requireEventTools(t *testing.T) {
	t.Helper()
	requireNodePackage(t, "eventsource")
}

// eventsJob is the job events.mjs reads.
type eventsJob struct {
	URL         string `json:"url"`
	Token       string `json:"token"`
	LastEventID *int64 `json:"lastEventId,omitempty"`
}

// clientLine is one line events.mjs prints: an open, an error or an event.
type clientLine struct {
	Open       bool    `json:"open"`
	Error      *string `json:"error"`
	ReadyState int     `json:"readyState"`
	loggedEvent
	at time.Time // when the test read it
}

// eventClient is one running events.mjs; its lines arrive as it prints them, so a test waits
// on events rather than on time.
type eventClient struct {
	t      *testing.T
	name   string
	stdin  io.WriteCloser
	cmd    *exec.Cmd
	lines  chan clientLine // closed once the process has exited and its output is read
	stdout syncBuffer
	stderr syncBuffer
	logs   func() string // the server's logs, for failure messages

	events []loggedEvent // every event read so far, in order
	opens  int
	errors int
	exited bool
}

func startEventClient(t *testing.T, name string, job eventsJob, serverLogs func() string) *eventClient {
	t.Helper()
	requireEventTools(t)
	raw, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	c := &eventClient{t: t, name: name, lines: make(chan clientLine, 1<<12), logs: serverLogs}
	c.cmd = nodeTool(t, "events.mjs")
	c.cmd.Stderr = &c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	go c.read(stdout)
	if _, err := c.stdin.Write(append(raw, '\n')); err != nil {
		t.Fatalf("send the job to %s: %v", name, err)
	}
	t.Cleanup(c.stop)
	return c
}

func (c *eventClient) read(stdout io.Reader) {
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 16<<20)
	for lines.Scan() {
		fmt.Fprintln(&c.stdout, lines.Text())
		l := clientLine{at: time.Now()}
		if err := json.Unmarshal(lines.Bytes(), &l); err != nil {
			msg := "unparsable line: " + lines.Text()
			l = clientLine{Error: &msg, ReadyState: -1, at: l.at}
		}
		c.lines <- l
	}
	io.Copy(io.Discard, stdout)
	c.cmd.Wait()
	close(c.lines)
}

// take records one line.
func (c *eventClient) take(l clientLine) {
	switch {
	case l.Open:
		c.opens++
	case l.Error != nil:
		c.errors++
	default:
		c.events = append(c.events, l.loggedEvent)
	}
}

// waitFor reads lines until one matches, failing the test with what the client and the
// server said when none comes within eventWait, or the client exits or stops reconnecting
// first (an error with readyState CLOSED, such as a refused request).
func (c *eventClient) waitFor(what string, match func(clientLine) bool) clientLine {
	c.t.Helper()
	timeout := time.NewTimer(eventWait)
	defer timeout.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.exited = true
				c.fatalf("%s exited while waiting for %s", c.name, what)
			}
			c.take(l)
			if match(l) {
				return l
			}
			if l.Error != nil && l.ReadyState != 0 {
				c.fatalf("%s gave up while waiting for %s", c.name, what)
			}
		case <-timeout.C:
			c.fatalf("%s: no %s within %v", c.name, what, eventWait)
		}
	}
}

func (c *eventClient) waitOpen() {
	c.t.Helper()
	c.waitFor("open", func(l clientLine) bool { return l.Open })
}

// waitEvent waits for the event named name about item cid ("" for any).
func (c *eventClient) waitEvent(name, cid string) clientLine {
	c.t.Helper()
	return c.waitFor(name+" "+cid, func(l clientLine) bool {
		return l.Event == name && (cid == "" || l.contentID() == cid)
	})
}

// waitID waits until the client has an event with an id of at least id.
func (c *eventClient) waitID(id int64) {
	c.t.Helper()
	if c.lastID() >= id {
		return
	}
	c.waitFor(fmt.Sprintf("event %d", id), func(l clientLine) bool { return !l.Open && l.Error == nil && l.ID >= id })
}

func (c *eventClient) lastID() int64 {
	if len(c.events) == 0 {
		return 0
	}
	return c.events[len(c.events)-1].ID
}

// kill ends the client with SIGKILL, like a closed laptop lid, and keeps every line it had
// printed by then.
func (c *eventClient) kill() {
	c.cmd.Process.Kill()
	c.drain()
}

// stop closes the client's stdin, which ends it, and reads what it printed until then.
func (c *eventClient) stop() {
	c.stdin.Close()
	c.drain()
}

func (c *eventClient) drain() {
	if c.exited {
		return
	}
	for l := range c.lines {
		c.take(l)
	}
	c.exited = true
}

func (c *eventClient) fatalf(format string, args ...any) {
	c.t.Helper()
	logs := ""
	if c.logs != nil {
		logs = "\nserver logs:\n" + c.logs()
	}
	c.t.Fatalf(format+"\n%s stdout:\n%s\n%s stderr:\n%s%s", append(args, c.name, c.stdout.String(), c.name, c.stderr.String(), logs)...)
}

// uploadSmall uploads an item of n chunks of 64 KiB at most: content.created, n ×
// content.chunk, content.completed.
func (s *testServer) uploadSmall(t *testing.T, token string, chunks int) *item {
	t.Helper()
	it := newItem(t, (chunks-1)*64*kiB+100, 64*kiB)
	s.upload(t, token, it)
	return it
}

func TestEventSourceSeesUploadEvents(t *testing.T) {
	requireEventTools(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token, clientID, start := srv.streamJoin(t)
	es := startEventClient(t, "eventsource", eventsJob{URL: srv.url + eventsPath, Token: token, LastEventID: &start}, srv.logs.String)
	es.waitOpen()
	joined := es.waitEvent("client.joined", "")
	var who struct {
		ClientID string `json:"clientId"`
	}
	if json.Unmarshal(joined.Data, &who); who.ClientID != clientID {
		es.fatalf("first event %s, want this client's own client.joined (%s)", joined.loggedEvent, clientID)
	}

	it := srv.uploadSmall(t, token, 3)
	es.waitEvent("content.completed", it.id)

	want := srv.eventLog(t, start)
	var names []string
	for _, e := range es.events {
		names = append(names, e.Event)
	}
	wantNames := []string{"client.joined", "content.created", "content.chunk", "content.chunk", "content.chunk", "content.completed"}
	if !slices.Equal(names, wantNames) {
		es.fatalf("events %v, want %v", names, wantNames)
	}
	for i, e := range es.events[2:5] {
		var chunk struct {
			ContentID  string `json:"contentId"`
			ChunkIndex int    `json:"chunkIndex"`
			Size       int    `json:"size"`
		}
		if json.Unmarshal(e.Data, &chunk); chunk.ContentID != it.id || chunk.ChunkIndex != i || chunk.Size != len(it.blobs[i]) {
			es.fatalf("content.chunk %d is %s, want chunk %d of %s with %d bytes", i, e, i, it.id, len(it.blobs[i]))
		}
	}
	requireSameEvents(t, "the EventSource", es.events, want)
}

func TestEventStreamSurvivesDisconnectAndRestart(t *testing.T) {
	requireEventTools(t)
	// The real binary, killed with SIGKILL and started again on the same address and data
	// directory: the EventSource reconnects to the URL it had, with its Last-Event-ID.
	p := startProcess(t, buildBinary(t), "--min-kdf-iterations", "1000", "--join-rate", "1000", "--heartbeat", "1s")
	srv := p.client(t)
	token, _, start := srv.streamJoin(t)
	job := eventsJob{URL: srv.url + eventsPath, Token: token, LastEventID: &start}
	first := startEventClient(t, "first eventsource", job, p.logs.String)
	first.waitOpen()
	first.waitEvent("client.joined", "")

	// The server dies mid-stream: b's events may or may not have reached the client.
	a := srv.uploadSmall(t, token, 2)
	first.waitEvent("content.created", a.id)
	srv.uploadSmall(t, token, 1)
	p.restart(t)
	if p.url != srv.url {
		t.Fatalf("restarted on %s, want %s", p.url, srv.url)
	}
	c := srv.uploadSmall(t, token, 2)
	first.waitEvent("content.completed", c.id)
	if first.opens < 2 || first.errors < 1 {
		first.fatalf("%d opens and %d errors across a server restart, want a reconnect", first.opens, first.errors)
	}

	// The client dies mid-stream; a new one resumes from the last id the first printed.
	d := srv.uploadSmall(t, token, 3)
	first.waitEvent("content.created", d.id)
	first.kill()
	resume := first.lastID()
	srv.uploadSmall(t, token, 1)
	job.LastEventID = &resume
	second := startEventClient(t, "second eventsource", job, p.logs.String)
	f := srv.uploadSmall(t, token, 2)
	second.waitEvent("content.completed", f.id)

	// Presence may log more events at any time: compare through the last one received.
	logged := srv.eventLog(t, start)
	second.waitID(logged[len(logged)-1].ID)
	got := append(slices.Clone(first.events), second.events...)
	t.Logf("%d events: %d by the first client over %d connections, %d by the second after id %d",
		len(got), len(first.events), first.opens, len(second.events), resume)
	requireSameEvents(t, "the two EventSources", got, through(srv.eventLog(t, start), second.lastID()))
}

// pollPage is one answer of the long-poll form.
type pollPage struct {
	Events    []loggedEvent
	NextAfter int64
}

// poll sends one long poll after the given id. It returns an error rather than failing the
// test, so a polling goroutine can call it.
func (s *testServer) poll(ctx context.Context, token string, after int64) (pollPage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+eventsPath+"?poll=1&after="+strconv.FormatInt(after, 10), nil)
	if err != nil {
		return pollPage{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return pollPage{}, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	// events must be an array and nextAfter a number (PROTOCOL §6), not null or a string.
	var answer struct {
		Events    json.RawMessage `json:"events"`
		NextAfter json.RawMessage `json:"nextAfter"`
	}
	var page pollPage
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &answer) != nil || !bytes.HasPrefix(answer.Events, []byte("[")) ||
		json.Unmarshal(answer.Events, &page.Events) != nil || json.Unmarshal(answer.NextAfter, &page.NextAfter) != nil {
		return page, fmt.Errorf("poll after %d: %d %s", after, res.StatusCode, raw)
	}
	// nextAfter is the last returned id, or after when none; ids increase past after.
	want, prev := after, after
	for _, e := range page.Events {
		if e.ID <= prev {
			return page, fmt.Errorf("poll after %d: ids out of order: %s", after, raw)
		}
		want, prev = e.ID, e.ID
	}
	if page.NextAfter != want {
		return page, fmt.Errorf("poll after %d: nextAfter %d, want %d: %s", after, page.NextAfter, want, raw)
	}
	return page, nil
}

// waitPolling returns true once the server has taken the poll of clientID that the caller
// sent after moving the clock on: the poll marks the client present at the clock's time just
// before it reads the log and waits. It returns false when the poll answers first. (An event
// that still lands before the wait is answered at once, which is as correct; the test then
// only loses its proof of the wake.)
func (s *testServer) waitPolling(t *testing.T, clientID string, answered <-chan struct{}) bool {
	t.Helper()
	want := s.clock.Now().UnixMilli()
	db := s.openDB(t)
	defer db.Close()
	deadline := time.NewTimer(eventWait)
	defer deadline.Stop()
	for {
		var seen int64
		if err := db.QueryRow(`SELECT last_seen FROM clients WHERE client_id = ?`, clientID).Scan(&seen); err != nil {
			t.Fatal(err)
		}
		if seen == want {
			return true
		}
		select {
		case <-answered:
			return false
		case <-deadline.C:
			t.Fatalf("the server did not take the poll within %v\nserver logs:\n%s", eventWait, s.logs.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestLongPollDeliversTheSameSequence(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token, clientID, start := srv.streamJoin(t)

	t.Run("Sequence", func(t *testing.T) {
		// A client polls in a loop, each time after the last id it got, while items are uploaded.
		last := newItem(t, 2*64*kiB+100, 64*kiB)
		type result struct {
			events []loggedEvent
			polls  int
			err    error
		}
		done := make(chan result, 1)
		go func() {
			var r result
			for after := start; ; r.polls++ {
				page, err := srv.poll(t.Context(), token, after)
				r.events = append(r.events, page.Events...)
				if err != nil || slices.ContainsFunc(page.Events, func(e loggedEvent) bool {
					return e.Event == "content.completed" && e.contentID() == last.id
				}) {
					r.err = err
					done <- r
					return
				}
				after = page.NextAfter
			}
		}()
		srv.uploadSmall(t, token, 1)
		srv.uploadSmall(t, token, 2)
		srv.upload(t, token, last)
		var r result
		select {
		case r = <-done:
		case <-time.After(eventWait):
			t.Fatalf("the poll loop did not get %s's content.completed within %v\nserver logs:\n%s", last.id, eventWait, srv.logs.String())
		}
		if r.err != nil {
			t.Fatalf("after %d polls and %d events: %v", r.polls, len(r.events), r.err)
		}
		t.Logf("%d events in %d polls", len(r.events), r.polls+1)
		requireSameEvents(t, "the poll loop", r.events, srv.eventLog(t, start))
	})

	t.Run("AtOnceWhenBehind", func(t *testing.T) {
		// The hub holds a poll with nothing to answer for 25 s (PollWait, app.go); a poll with
		// events waiting must not be held, so an answer within 20 s shows it was not.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		page, err := srv.poll(ctx, token, start)
		if err != nil {
			t.Fatal(err)
		}
		requireSameEvents(t, "a poll after the join's lastEventId", page.Events, srv.eventLog(t, start))
	})

	t.Run("WokenByEvent", func(t *testing.T) {
		logged := srv.eventLog(t, start)
		latest := logged[len(logged)-1].ID
		clk.Advance(time.Second)
		var page pollPage
		var err error
		answered := make(chan struct{})
		go func() {
			defer close(answered)
			page, err = srv.poll(t.Context(), token, latest)
		}()
		if !srv.waitPolling(t, clientID, answered) {
			t.Fatalf("a poll after the newest id answered before any event: %+v %v", page, err)
		}
		it := newItem(t, 100, 64*kiB)
		srv.requireAnnounce(t, token, it)
		select {
		case <-answered:
		case <-time.After(eventWait):
			t.Fatalf("the waiting poll did not answer within %v of content.created", eventWait)
		}
		if err != nil {
			t.Fatal(err)
		}
		requireSameEvents(t, "the woken poll", page.Events, srv.eventLog(t, latest))
		if len(page.Events) != 1 || page.Events[0].contentID() != it.id {
			t.Fatalf("the woken poll answered %v, want %s's content.created alone", page.Events, it.id)
		}
	})
}

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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers must reach the temp paths inside the 0700 test dir
	}
	conf := filepath.Join(dir, "nginx.conf")
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`worker_processes 1;
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
