package sse

import (
	"context"
	cryptorand "crypto/rand"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
)

// settle waits until a count the server reaches on its own comes down to want; disconnects are
// noticed asynchronously and nothing announces them.
func settle(t *testing.T, what string, count func() int, want int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); count() > want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d, want at most %d", what, count(), want)
		}
	}
}

// TestNoLeakAfterManyDisconnects: 1,000 subscribe/disconnect cycles leave no goroutine and no
// subscriber behind.
func TestNoLeakAfterManyDisconnects(t *testing.T) {
	f := newFixture(t, Options{})
	http.DefaultClient.CloseIdleConnections()
	warm := f.open("")
	warm.close()
	settle(t, "subscribers", f.hub.Subscribers, 0)
	baseline, fds := runtime.NumGoroutine(), openFiles(t)
	for range 1000 {
		s := f.open("")
		s.close()
	}
	settle(t, "subscribers", f.hub.Subscribers, 0)
	http.DefaultClient.CloseIdleConnections()
	settle(t, "goroutines", runtime.NumGoroutine, baseline)
	settle(t, "open files", func() int { return openFiles(t) }, fds)
	f.hub.mu.Lock()
	defer f.hub.mu.Unlock()
	if len(f.hub.sessions) != 0 || f.hub.srv.StreamExists("s1") {
		t.Fatalf("state left behind: %d sessions, stream %v", len(f.hub.sessions), f.hub.srv.StreamExists("s1"))
	}
}

// TestStuckSubscriberIsCutOffAndOthersGetEverything: a client that stops reading fills its
// connection; its writes time out and it is dropped, while a reading client receives every
// event and no publish waits for either. The write timeout leaves the reading client, slowed
// by the race detector on a busy machine, ample time for each write.
func TestStuckSubscriberIsCutOffAndOthersGetEverything(t *testing.T) {
	f := newFixture(t, Options{WriteTimeout: 2 * time.Second, MaxSubscribers: 10, MaxPerSession: 10,
		ReplayPage: 100, PollWait: time.Hour, ReconnectRetryDelay: time.Second})
	stuck := openUnread(t, f.url)
	defer stuck.Close()
	reader := f.open("")
	settle(t, "subscribers", func() int { return 3 - f.hub.Subscribers() }, 1) // both registered

	start := f.logIDs(0)
	for range 300 { // ~5 MB of events: more than the socket buffers hold
		f.announceLarge()
	}
	reader.expectIDs(f.logIDs(start[len(start)-1]))
	settle(t, "subscribers", f.hub.Subscribers, 1)
}

// openUnread sends a stream request on a raw connection with a small receive buffer and never
// reads the answer.
func openUnread(t *testing.T, url string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).SetReadBuffer(4096)
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	return conn
}

// announceLarge records a content.created event carrying 16 KiB of encrypted metadata.
func (f *fixture) announceLarge() {
	f.t.Helper()
	var b [16]byte
	cryptorand.Read(b[:])
	id := uuidString(b)
	c := &api.Content{ID: id, SessionID: "s1", SenderID: f.client, SenderName: "a", TotalChunks: 1, TotalSize: 28, ChunkSize: 65536,
		Metadata: api.Sealed{IV: make([]byte, 12), Data: make([]byte, api.MaxMetadataData)}}
	limits := api.ContentLimits{MaxChunkSize: api.MaxChunkSize, MaxItemBytes: 1 << 30, SessionQuotaBytes: 1 << 40, SessionMaxItems: 1 << 20}
	if err := f.db.CreateContent(context.Background(), c, limits); err != nil {
		f.t.Fatal(err)
	}
}

// openFiles counts this process's file descriptors.
func openFiles(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
