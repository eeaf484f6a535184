package client

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readAll parses a whole stream, also fed one byte at a time so that every line end and
// every CRLF is split across reads.
func readAll(t *testing.T, stream string) (frames []sseFrame, r *sseReader) {
	t.Helper()
	for _, src := range []io.Reader{strings.NewReader(stream), iotest.OneByteReader(strings.NewReader(stream))} {
		r = newSSEReader(src)
		var got []sseFrame
		for {
			f, err := r.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, f)
		}
		if frames != nil && !sameFrames(frames, got) {
			t.Fatalf("byte-at-a-time parse %+v differs from %+v", got, frames)
		}
		frames = got
	}
	return frames, r
}

func sameFrames(a, b []sseFrame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].id != b[i].id || a[i].hasID != b[i].hasID || a[i].event != b[i].event || string(a[i].data) != string(b[i].data) {
			return false
		}
	}
	return true
}

func TestSSEParsesLikeEventSource(t *testing.T) {
	for name, tc := range map[string]struct {
		stream string
		want   []sseFrame
		lastID int64
		retry  time.Duration
	}{
		"ServerFrames": {
			stream: "retry: 3000\n\n: heartbeat\n\nid: 7\nevent: content.created\ndata: {\"a\":1}\n\nevent: session.expired\ndata: {}\n\n",
			want:   []sseFrame{{id: 7, hasID: true, event: "content.created", data: []byte(`{"a":1}`)}, {event: "session.expired", data: []byte(`{}`)}},
			lastID: 7, retry: 3 * time.Second,
		},
		"MultiLineDataAndDefaultType": {
			stream: "data: one\ndata:two\ndata\n\n",
			want:   []sseFrame{{event: "message", data: []byte("one\ntwo\n")}},
		},
		"CRLFAndCR": {
			stream: "id: 1\r\nevent: a\r\ndata: x\r\n\r\nid: 2\revent: b\rdata: y\r\r",
			want:   []sseFrame{{id: 1, hasID: true, event: "a", data: []byte("x")}, {id: 2, hasID: true, event: "b", data: []byte("y")}},
			lastID: 2,
		},
		"IDWithoutDataStillCounts": {
			stream: "id: 9\n\n",
			lastID: 9,
		},
		"BadIDAndRetryIgnored": {
			stream: "id: 1\ndata: a\n\nid: x\nretry: soon\ndata: b\n\nid: -3\ndata: c\n\n",
			want:   []sseFrame{{id: 1, hasID: true, event: "message", data: []byte("a")}, {event: "message", data: []byte("b")}, {event: "message", data: []byte("c")}},
			lastID: 1,
		},
		"CutOffFrameDropped": {
			stream: "id: 1\ndata: a\n\nid: 2\ndata: b\n",
			want:   []sseFrame{{id: 1, hasID: true, event: "message", data: []byte("a")}},
			lastID: 2,
		},
		"BOMAndSpaceKept": {
			stream: "\xEF\xBB\xBFdata:  two spaces\n\n",
			want:   []sseFrame{{event: "message", data: []byte(" two spaces")}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, r := readAll(t, tc.stream)
			if !sameFrames(got, tc.want) {
				t.Fatalf("frames %+v, want %+v", got, tc.want)
			}
			if r.lastID != tc.lastID || r.retry != tc.retry {
				t.Fatalf("lastID %d retry %v, want %d %v", r.lastID, r.retry, tc.lastID, tc.retry)
			}
		})
	}
}

func TestRefreshTime(t *testing.T) {
	// Payload {"iat":1000,"exp":5000}; the signature is not the client's to check.
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJpYXQiOjEwMDAsImV4cCI6NTAwMH0.sig"
	at, ok := refreshTime(tok)
	if !ok || at.Unix() != 4000 {
		t.Fatalf("refreshTime = %v, %v; want 4000", at.Unix(), ok)
	}
	if refreshDue(tok, time.Unix(3999, 0)) || !refreshDue(tok, time.Unix(4000, 0)) {
		t.Fatal("refreshDue disagrees with refreshTime")
	}
	if _, ok := refreshTime("not-a-jwt"); ok {
		t.Fatal("a non-JWT token got a refresh time")
	}
}

func TestErrorIsOneLine(t *testing.T) {
	e := &Error{Status: 401, Code: "fingerprint_mismatch", Detail: "wrong\npassphrase"}
	if e.Error() != "fingerprint_mismatch: wrong passphrase" {
		t.Fatalf("Error() = %q", e.Error())
	}
	if got := (&Error{Status: 502}).Error(); got != "HTTP 502 Bad Gateway" {
		t.Fatalf("Error() = %q", got)
	}
	if !IsCode(errors.Join(errors.New("x"), e), "fingerprint_mismatch") {
		t.Fatal("IsCode does not look through wrapping")
	}
}
