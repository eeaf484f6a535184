package main

// The EventSource client of the event-stream tests: web/tools/events.mjs run under Node, its
// printed lines read as they come.

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"testing"
	"time"
)

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
	readToolOutput(stdout, &c.stdout, func(line []byte) {
		l := clientLine{at: time.Now()}
		if err := json.Unmarshal(line, &l); err != nil {
			msg := "unparsable line: " + string(line)
			l = clientLine{Error: &msg, ReadyState: -1, at: l.at}
		}
		c.lines <- l
	})
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
