package main

// The long-poll form of the event stream (PROTOCOL §6), checked against the durable log like
// the EventSource in events_e2e_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

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
		if err := db.QueryRow(`SELECT last_seen FROM clients WHERE client_id = $1`, clientID).Scan(&seen); err != nil {
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
