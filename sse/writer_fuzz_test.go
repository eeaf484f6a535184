package sse

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
)

// r3Frame is an event frame exactly as r3labs writes liveEvent's output.
func r3Frame(id, prev int64, event, data string) []byte {
	return fmt.Appendf(nil, "id: %d\ndata: %s\nevent: %s\n: %s%d\n\n", id, data, event, prevPrefix, prev)
}

// FuzzParseEvent: the writer's in-place frame parsing. On frames as r3labs renders them it
// reads back the id and previous id and cuts out exactly the prev comment; heartbeats give
// their latest id and are never taken for events, nor events for heartbeats. On arbitrary
// bytes it never panics and only ever returns pieces of the frame it was given.
func FuzzParseEvent(f *testing.F) {
	f.Add(int64(7), int64(5), "content.created", `{"contentId":"x"}`, []byte(": hb latest=42\n\n"))
	f.Add(int64(1), int64(0), "client.joined", `{}`, []byte("id: 3\ndata: {}\nevent: x\n: prev=2\n\n"))
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64-1), "session.cleared", `{}`, []byte("id: 99999999999999999999\n"))
	f.Add(int64(0), int64(0), "", "", []byte("\n: prev="))
	f.Add(int64(2), int64(1), "x", `{"a":": prev=9"}`, []byte(": hb latest="))
	f.Add(int64(3), int64(1), "ünïcödé", "\u2028", []byte("id: -1\n: prev=-5\n\n"))
	f.Fuzz(func(t *testing.T, id, prev int64, event, data string, raw []byte) {
		// Arbitrary bytes: no panic, and only pieces of raw come back.
		if latest, ok := heartbeatLatest(raw); ok && (!bytes.HasPrefix(raw, heartbeatMarker) || latest < 0 && !overflows(raw[len(heartbeatMarker):])) {
			t.Fatalf("heartbeatLatest(%q) = %d", raw, latest)
		}
		_, p, before, after := parseEvent(raw)
		if !bytes.HasPrefix(raw, before) || !bytes.HasSuffix(raw, after) || len(before)+len(after) > len(raw) {
			t.Fatalf("parseEvent(%q) gave pieces %q and %q", raw, before, after)
		}
		if !bytes.Contains(raw, prevMarker) && (p != -1 || !bytes.Equal(before, raw) || after != nil) {
			t.Fatalf("parseEvent(%q) without a prev comment: prev %d, %q, %q", raw, p, before, after)
		}

		if id < 0 || prev < 0 || strings.ContainsAny(event+data, "\r\n") {
			return // not a frame the hub can publish
		}
		frame := r3Frame(id, prev, event, data)
		if _, ok := heartbeatLatest(frame); ok {
			t.Fatalf("event frame %q taken for a heartbeat", frame)
		}
		gotID, gotPrev, before, after := parseEvent(frame)
		if gotID != id || gotPrev != prev {
			t.Fatalf("parseEvent(%q) = id %d, prev %d", frame, gotID, gotPrev)
		}
		want := fmt.Sprintf("id: %d\ndata: %s\nevent: %s\n\n", id, data, event)
		if got := string(before) + string(after); got != want {
			t.Fatalf("parseEvent(%q) passes on %q, want %q", frame, got, want)
		}
		hb := []byte(": " + heartbeatPrefix + strconv.FormatInt(id, 10) + "\n\n")
		if latest, ok := heartbeatLatest(hb); !ok || latest != id {
			t.Fatalf("heartbeatLatest(%q) = %d, %v", hb, latest, ok)
		}
	})
}

// overflows reports whether b starts with more digits than an int64 holds.
func overflows(b []byte) bool {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	_, err := strconv.ParseInt(string(b[:n]), 10, 64)
	return n > 0 && err != nil
}

// memLog is an api.EventLog over a slice: the kept events of one session, and the newest
// id retention removed.
type memLog struct {
	events []api.Event
	pruned int64
}

func (l *memLog) ListEvents(_ context.Context, _ string, after int64, limit int) ([]api.Event, error) {
	var out []api.Event
	for _, e := range l.events {
		if e.ID > after && e.ID > l.pruned && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (l *memLog) EventBounds(context.Context, string) (latest, prunedThrough int64, err error) {
	if n := len(l.events); n > 0 {
		latest = l.events[n-1].ID
	}
	return max(latest, l.pruned), l.pruned, nil
}

func (l *memLog) append(id int64) api.Event {
	e := api.Event{ID: id, SessionID: "s1", Type: api.EventContentChunk, Data: fmt.Appendf(nil, `{"n":%d}`, id)}
	if n := len(l.events); n > 0 {
		e.Prev = l.events[n-1].ID
	}
	l.events = append(l.events, e)
	return e
}

// FuzzStreamWriter: whatever r3labs delivers — live copies dropped anywhere, copies of
// events the replay already sent, heartbeats at any point — and wherever the client
// resumes from (live only, inside the kept log, before it, past it), the stream the
// client gets has strictly increasing ids, carries each event's own name and data, opens
// with the retry hint (and a resync when the position is lost), and once a heartbeat has
// shown the newest id, holds every event after its starting point: no duplicate, no gap.
//
// script: byte 0 picks the replay page, byte 1 the log before subscribing, byte 2 the
// pruning, byte 3 the client's position; then one operation per byte.
func FuzzStreamWriter(f *testing.F) {
	f.Add([]byte{0, 5, 0, 0, 0x10, 0x11, 0x12, 0x80})
	f.Add([]byte{1, 8, 3, 2, 0x10, 0x20, 0x10, 0x40, 0x80})
	f.Add([]byte{3, 0, 0, 255, 0x10, 0x10, 0x10, 0x80})
	f.Add([]byte{2, 20, 10, 1, 0x01, 0x10, 0x11, 0x22, 0x33, 0x80})
	f.Add([]byte{0, 6, 2, 200, 0x30, 0xc0, 0x10, 0x31, 0x80, 0x10})
	f.Add([]byte{0, 255, 255, 3})
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) < 4 {
			return
		}
		page, initial, prune, pos, ops := int(script[0]%4)+1, int(script[1]%32), int64(script[2]%40), script[3], script[4:]
		log := &memLog{}
		id := int64(0)
		for range initial {
			id += 1 + int64(initial%3) // gaps: ids come from one log for all sessions
			log.append(id)
		}
		log.pruned = max(0, min(prune, id-1)) // retention keeps a session's newest event
		last := int64(LiveOnly)
		if pos != 0 {
			last = int64(pos) - 1
		}

		h := NewHub(log, Options{WriteTimeout: time.Minute, ReplayPage: page, ReconnectRetryDelay: 3 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := httptest.NewRecorder()
		sw, err := h.newStreamWriter(ctx, w, Subscription{SessionID: "s1", LastEventID: last}, cancel)
		if err != nil {
			t.Fatal(err)
		}
		latest, pruned, _ := log.EventBounds(ctx, "s1")
		start, resync := last, false
		switch {
		case last == LiveOnly:
			start = latest
		case last < pruned || last > latest:
			start, resync = max(pruned, min(last, latest)), true
		}
		sw.Flush() // r3labs' first flush: the subscriber is registered

		delivered := int64(0) // r3labs delivers in publish order
		for _, op := range ops {
			switch op >> 6 {
			case 0, 1: // publish the next event; bit 4 says whether its live copy arrives
				id += 1 + int64(op&3)
				e := log.append(id)
				if op&0x10 != 0 {
					sw.Write(r3Frame(e.ID, e.Prev, e.Type, string(e.Data)))
					sw.Flush()
					delivered = e.ID
				}
			case 2: // a heartbeat with the newest id
				l, _, _ := log.EventBounds(ctx, "s1")
				fmt.Fprintf(sw, ": %s%d\n\n", heartbeatPrefix, l)
				sw.Flush()
			case 3: // a late copy of an older event, still in publish order
				for _, e := range log.events {
					if e.ID > delivered && e.ID <= delivered+int64(op&0x3f) {
						sw.Write(r3Frame(e.ID, e.Prev, e.Type, string(e.Data)))
						sw.Flush()
						delivered = e.ID
						break
					}
				}
			}
		}
		l, _, _ := log.EventBounds(ctx, "s1")
		fmt.Fprintf(sw, ": %s%d\n\n", heartbeatPrefix, l)
		sw.Flush()
		if ctx.Err() != nil {
			t.Fatal("the writer cut the subscriber off")
		}
		checkStream(t, w.Body.String(), log, start, resync)
	})
}

// checkStream parses what the client received and checks it against the log.
func checkStream(t *testing.T, body string, log *memLog, start int64, resync bool) {
	t.Helper()
	frames := strings.Split(body, "\n\n")
	if len(frames) == 0 || frames[0] != "retry: 3000" || frames[len(frames)-1] != "" {
		t.Fatalf("stream %q does not open with the retry hint or ends mid-frame", body)
	}
	byID := map[int64]api.Event{}
	for _, e := range log.events {
		byID[e.ID] = e
	}
	var got []int64
	sawResync := false
	for i, fr := range frames[1 : len(frames)-1] {
		if fr == ": heartbeat" {
			continue
		}
		var id int64
		var event, data string
		for _, line := range strings.Split(fr, "\n") {
			k, v, _ := strings.Cut(line, ": ")
			switch k {
			case "id":
				id, _ = strconv.ParseInt(v, 10, 64)
			case "event":
				event = v
			case "data":
				data = v
			default:
				t.Fatalf("frame %d %q has line %q", i, fr, line)
			}
		}
		if event == api.EventSessionResync {
			if sawResync || len(got) > 0 || !resync || id != start || data != "{}" {
				t.Fatalf("resync frame %q (start %d, resync expected %v) in %q", fr, start, resync, body)
			}
			sawResync = true
			continue
		}
		e, ok := byID[id]
		if !ok || e.Type != event || string(e.Data) != data {
			t.Fatalf("frame %q is not logged event %d", fr, id)
		}
		if len(got) > 0 && id <= got[len(got)-1] || id <= start {
			t.Fatalf("event %d after %v (start %d): duplicate or out of order in %q", id, got, start, body)
		}
		got = append(got, id)
	}
	if resync != sawResync {
		t.Fatalf("resync expected %v, sent %v", resync, sawResync)
	}
	var want []int64
	for _, e := range log.events {
		if e.ID > start && e.ID > log.pruned {
			want = append(want, e.ID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("client got events %v, the log after %d holds %v", got, start, want)
	}
}
