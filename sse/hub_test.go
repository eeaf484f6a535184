package sse

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sharethings/sharethings/api"
)

func TestPublishDeliversLogIDsNamesAndData(t *testing.T) {
	hub := NewHub()
	hub.srv.CreateStream("s1")
	ts := httptest.NewServer(hub.srv)
	defer ts.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"?stream=s1", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if got := res.Header.Get("Cache-Control"); got != "no-cache, no-transform" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := res.Header.Get("X-Accel-Buffering"); got != "no" {
		t.Errorf("X-Accel-Buffering = %q", got)
	}

	// The subscriber is registered once the response headers are out: r3labs registers it
	// before flushing them, on the same goroutine that then handles published events.
	hub.Publish([]api.Event{
		{ID: 41, SessionID: "other", Type: api.EventClientJoined, Data: []byte(`{"x":0}`)},
		{ID: 42, SessionID: "s1", Type: api.EventClientJoined, Data: []byte(`{"clientId":"c","clientName":"n"}`)},
		{ID: 57, SessionID: "s1", Type: api.EventSessionCleared},
	})

	got := readFrames(t, bufio.NewReader(res.Body), 2)
	want := []string{
		"id: 42\ndata: {\"clientId\":\"c\",\"clientName\":\"n\"}\nevent: client.joined\n",
		"id: 57\ndata: {}\nevent: session.cleared\n",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("frame %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// readFrames reads n blank-line-terminated SSE frames.
func readFrames(t *testing.T, r *bufio.Reader, n int) []string {
	t.Helper()
	var frames []string
	var cur strings.Builder
	for len(frames) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended after %d frames: %v", len(frames), err)
		}
		if line == "\n" {
			frames = append(frames, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return frames
}

func TestPublishWithoutStreamDoesNotCreateOne(t *testing.T) {
	hub := NewHub()
	hub.Publish([]api.Event{{ID: 1, SessionID: "quiet", Type: api.EventClientJoined, Data: []byte(`{}`)}})
	if hub.srv.StreamExists("quiet") {
		t.Fatal("publishing created a stream nobody subscribed to")
	}
}
