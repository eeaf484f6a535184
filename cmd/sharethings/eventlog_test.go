package main

// What the event-stream tests share: the stream's path, the bound on every wait, and the
// durable log that whatever a client received is compared with.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
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
	rows, err := db.QueryContext(t.Context(), `SELECT id, type, data FROM events WHERE session_id = 'team-alpha' AND id > $1 ORDER BY id`, after)
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
