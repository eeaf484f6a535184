package main

// End-to-end tests of the event stream (PROTOCOL §6) as clients meet it: the `eventsource`
// npm package through web/tools/events.mjs (a WHATWG EventSource with its own reconnects), a
// long-poll loop, and a raw HTTP reader behind nginx. Every test compares what a client got
// with the durable log: the same ids, names and data, in order, nothing lost, nothing twice.
// Like the tus end-to-end tests they fail, not skip, when Node, the npm packages or nginx are
// missing: CI installs them (.ci/run, make node-deps).
//
// The EventSource tests are here; the long poll is in longpoll_test.go and nginx in
// nginx_e2e_test.go. eventclient_test.go runs events.mjs and eventlog_test.go reads the log.

import (
	"encoding/json"
	"slices"
	"testing"
)

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
