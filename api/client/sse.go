package client

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"time"
)

// maxSSELine bounds one line of the stream. The largest event, content.created, carries
// at most 16 KiB of sealed metadata, so this only stops a runaway stream.
const maxSSELine = 4 << 20

// sseFrame is one dispatched event of a text/event-stream.
type sseFrame struct {
	id    int64
	hasID bool // the frame had a numeric id field
	event string
	data  []byte
}

// sseReader parses text/event-stream as the HTML standard's EventSource does: lines end with
// CRLF, LF or CR; a blank line dispatches; ":" starts a comment; "field: value" with one
// optional space; data lines join with "\n"; a frame without data dispatches nothing; an
// id with NUL is ignored; retry takes only digits; a frame cut off by the end is dropped.
type sseReader struct {
	sc *bufio.Scanner
	// lastID is the last event id seen, even on frames that dispatch nothing: it is what a
	// reconnection sends as Last-Event-ID.
	lastID    int64
	hasLastID bool
	// retry is the reconnection delay the server asked for, 0 until it does.
	retry time.Duration
	first bool
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSSELine)
	sc.Split(sseLines())
	return &sseReader{sc: sc, first: true}
}

// next returns the next dispatched event, or io.EOF at the end of the stream.
func (r *sseReader) next() (sseFrame, error) {
	var f sseFrame
	var data bytes.Buffer
	hasData := false
	for r.sc.Scan() {
		line := r.sc.Bytes()
		if r.first {
			line, r.first = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF")), false
		}
		if len(line) == 0 {
			if hasData {
				f.data = bytes.TrimSuffix(data.Bytes(), []byte("\n"))
				if f.event == "" {
					f.event = "message"
				}
				return f, nil
			}
			f, hasData = sseFrame{}, false
			continue
		}
		if r.field(&f, line) {
			data.Write(sseValue(line))
			data.WriteByte('\n')
			hasData = true
		}
	}
	if err := r.sc.Err(); err != nil {
		return sseFrame{}, err
	}
	return sseFrame{}, io.EOF
}

// field applies one non-blank line to f and reports whether it was a data line.
func (r *sseReader) field(f *sseFrame, line []byte) (isData bool) {
	name, _, _ := bytes.Cut(line, []byte(":"))
	value := sseValue(line)
	switch string(name) {
	case "": // a comment, such as the server's heartbeat
	case "event":
		f.event = string(value)
	case "data":
		return true
	case "id":
		// The protocol's ids are numbers; anything else is not ours to send back.
		if id, err := strconv.ParseInt(string(value), 10, 64); err == nil && isDigits(value) {
			f.id, f.hasID = id, true
			r.lastID, r.hasLastID = id, true
		}
	case "retry":
		if ms, err := strconv.ParseUint(string(value), 10, 32); err == nil && isDigits(value) {
			r.retry = time.Duration(ms) * time.Millisecond
		}
	}
	return false
}

// isDigits reports whether b is all ASCII digits (no sign, no NUL, not empty).
func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// sseValue is what follows the first colon of a line, less one leading space ("" when the
// line has no colon).
func sseValue(line []byte) []byte {
	_, value, found := bytes.Cut(line, []byte(":"))
	if !found {
		return nil
	}
	return bytes.TrimPrefix(value, []byte(" "))
}

// sseLines is a bufio.SplitFunc for lines ending in CRLF, LF or CR. A CR is a whole line
// end at once (a live stream may pause right after it), so the LF of a CRLF split across
// reads is skipped when it arrives.
func sseLines() bufio.SplitFunc {
	skipLF := false
	return func(data []byte, atEOF bool) (int, []byte, error) {
		skip := 0
		if skipLF && len(data) > 0 {
			skipLF = false
			if data[0] == '\n' {
				skip = 1
			}
		}
		if i := bytes.IndexAny(data[skip:], "\r\n"); i >= 0 {
			end := skip + i
			if data[end] == '\r' {
				if end+1 < len(data) {
					if data[end+1] == '\n' {
						return end + 2, data[skip:end], nil
					}
				} else {
					skipLF = true
				}
			}
			return end + 1, data[skip:end], nil
		}
		if atEOF && len(data) > skip {
			return len(data), data[skip:], nil
		}
		return skip, nil, nil
	}
}
