package client

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"testing"
	"testing/iotest"
	"time"
)

// FuzzSSEReader: the client's text/event-stream parser against a plain reading of the HTML
// standard's algorithm over the whole input (lines end in CRLF, LF or CR; one leading BOM
// is skipped; a blank line dispatches a frame with data; ids count only when all digits;
// retry only when all digits). The result must not depend on how the bytes arrive: whole,
// one at a time, or cut at points the input picks. And parse → format → parse is the
// identity on the frames that came out.
func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{
		"retry: 3000\n\n: heartbeat\n\nid: 7\nevent: content.created\ndata: {\"a\":1}\n\nevent: session.expired\ndata: {}\n\n",
		"data: one\ndata:two\ndata\n\n",
		"id: 1\r\nevent: a\r\ndata: x\r\n\r\nid: 2\revent: b\rdata: y\r\r",
		"id: 9\n\n",
		"id: 1\ndata: a\n\nid: x\nretry: soon\ndata: b\n\nid: -3\ndata: c\n\n",
		"id: 1\ndata: a\n\nid: 2\ndata: b\n",
		"\xEF\xBB\xBFdata:  two spaces\n\n",
		"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n",
		"id: 99999999999999999999\ndata: overflow\n\n",
		"id: 9223372036854775807\ndata: max\n\n",
		"id: 1\x00\ndata: nul\n\n",
		"retry: 4294967296\ndata: x\n\nretry: 4294967295\n\n",
		"event\ndata\n\n",
		":\n\n:::\r\n\r\n",
		"data: \xff\xfe\n\n",
		"\r\n\r\n\n\r",
		"data: a\r",
		"id:5\nid\ndata:x\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		want, wantLast, wantHasLast, wantRetry := referenceSSE(stream)
		for name, src := range map[string]io.Reader{
			"whole":    bytes.NewReader(stream),
			"bytewise": iotest.OneByteReader(bytes.NewReader(stream)),
			"cut":      &cutReader{data: stream, cuts: stream},
		} {
			got, r := parseSSE(t, src)
			if !sameFrames(got, want) {
				t.Fatalf("%s: frames %s, want %s", name, showFrames(got), showFrames(want))
			}
			if r.lastID != wantLast || r.hasLastID != wantHasLast || r.retry != wantRetry {
				t.Fatalf("%s: lastID %d (%v) retry %v, want %d (%v) %v", name, r.lastID, r.hasLastID, r.retry, wantLast, wantHasLast, wantRetry)
			}
		}
		for _, fr := range want {
			if fr.event == "" || bytes.ContainsAny([]byte(fr.event), "\r\n") || bytes.ContainsRune(fr.data, '\r') || (fr.hasID && fr.id < 0) {
				t.Fatalf("impossible frame %s", showFrames([]sseFrame{fr}))
			}
		}
		again, _ := parseSSE(t, bytes.NewReader(formatSSE(want)))
		if !sameFrames(again, want) {
			t.Fatalf("parse/format/parse: %s, want %s", showFrames(again), showFrames(want))
		}
	})
}

func parseSSE(t *testing.T, src io.Reader) ([]sseFrame, *sseReader) {
	t.Helper()
	r := newSSEReader(src)
	var got []sseFrame
	for {
		fr, err := r.next()
		if errors.Is(err, io.EOF) {
			return got, r
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fr)
	}
}

// referenceSSE parses a whole stream the way the standard describes, with this client's
// numeric ids. A last line without its end still counts as a field (the reader sees it at
// EOF) but never dispatches.
func referenceSSE(stream []byte) (frames []sseFrame, lastID int64, hasLastID bool, retry time.Duration) {
	stream = bytes.TrimPrefix(stream, []byte("\xEF\xBB\xBF"))
	var cur sseFrame
	var data []byte
	hasData := false
	for len(stream) > 0 {
		end := bytes.IndexAny(stream, "\r\n")
		line, complete := stream, false
		if end >= 0 {
			line, complete = stream[:end], true
			next := end + 1
			if stream[end] == '\r' && next < len(stream) && stream[next] == '\n' {
				next++
			}
			stream = stream[next:]
		} else {
			stream = nil
		}
		if len(line) == 0 {
			if complete && hasData {
				cur.data = bytes.TrimSuffix(data, []byte("\n"))
				if cur.event == "" {
					cur.event = "message"
				}
				frames = append(frames, cur)
			}
			cur, data, hasData = sseFrame{}, nil, false
			continue
		}
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], bytes.TrimPrefix(line[i+1:], []byte(" "))
		}
		switch string(name) {
		case "event":
			cur.event = string(value)
		case "data":
			data = append(append(data, value...), '\n')
			hasData = true
		case "id":
			if n, ok := digits(value, 63); ok {
				cur.id, cur.hasID = n, true
				lastID, hasLastID = n, true
			}
		case "retry":
			if n, ok := digits(value, 32); ok {
				retry = time.Duration(n) * time.Millisecond
			}
		}
	}
	return frames, lastID, hasLastID, retry
}

// digits reads a non-empty all-digit value that fits in bits bits.
func digits(b []byte, bits uint) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<bits-1-uint64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return int64(n), true
}

// formatSSE writes frames the way the server does, one data line per line of data.
func formatSSE(frames []sseFrame) []byte {
	var b bytes.Buffer
	for _, fr := range frames {
		if fr.hasID {
			b.WriteString("id: " + strconv.FormatInt(fr.id, 10) + "\n")
		}
		b.WriteString("event: " + fr.event + "\n")
		for _, line := range bytes.Split(fr.data, []byte("\n")) {
			b.WriteString("data: ")
			b.Write(line)
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func showFrames(frames []sseFrame) string {
	var b bytes.Buffer
	for _, fr := range frames {
		b.WriteString("{id " + strconv.FormatInt(fr.id, 10) + " " + strconv.FormatBool(fr.hasID) + " event " + strconv.Quote(fr.event) + " data " + strconv.Quote(string(fr.data)) + "}")
	}
	return b.String()
}

// cutReader returns data in pieces whose sizes come from cuts, so that line ends (a CR
// here, its LF in the next read) fall where the input decides.
type cutReader struct {
	data, cuts []byte
}

func (r *cutReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.cuts) > 0 {
		n = min(n, int(r.cuts[0]%7)+1)
		r.cuts = r.cuts[1:]
	}
	n = copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}
