package client

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseContentRange: what the client takes from a 206's Content-Range is a byte
// position and a chunk length, so both are never negative whatever the header says (a
// negative total would switch off the length check of the download); canonical headers
// round-trip.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{
		"bytes 0-99/100", "bytes 42-99/100", "bytes 0-0/1", "bytes */100", "bytes 0-99/*",
		"bytes=0-99/100", "Bytes 0-99/100", "bytes  0-99/100", "bytes 0-99 / 100", "bytes -5-9/10",
		"bytes +1-2/+3", "bytes 9223372036854775807-9223372036854775807/9223372036854775807",
		"bytes 9223372036854775808-1/2", "bytes 0-99/100/200", "bytes 0-99", "", "bytes ", "bytes 0-1/0x10",
	} {
		f.Add(s, int64(0), int64(0), int64(1))
	}
	f.Add("", int64(5), int64(9), int64(10))
	f.Add("", int64(math.MaxInt64-1), int64(math.MaxInt64-1), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, v string, start, end, total int64) {
		s, n, ok := parseContentRange(v)
		if ok && (s < 0 || n < 0) {
			t.Fatalf("parseContentRange(%q) = start %d, total %d, ok", v, s, n)
		}
		if ok && !strings.HasPrefix(v, "bytes ") {
			t.Fatalf("parseContentRange(%q) accepted another unit", v)
		}
		if 0 <= start && start <= end && end < total {
			h := fmt.Sprintf("bytes %d-%d/%d", start, end, total)
			if s, n, ok := parseContentRange(h); !ok || s != start || n != total {
				t.Fatalf("parseContentRange(%q) = %d, %d, %v", h, s, n, ok)
			}
		}
	})
}

// FuzzParseRetryAfter: a server's Retry-After is a wait, never a negative one, and a longer
// delay-seconds never becomes a shorter wait (no overflow); delay-seconds and HTTP dates in
// their canonical forms round-trip to the wait they say.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Unix()
	for _, s := range []string{
		"", "0", "5", " 5 ", "120", "+5", "-1", "-0", "1.5", "0x10", "5s", "9223372036", "Wed, 25 Nov 2026 12:00:30 GMT",
		"Wed, 25 Nov 2026 11:59:30 GMT", "Wednesday, 25-Nov-26 12:00:30 GMT", "Wed Nov 25 12:00:30 2026",
		"Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT",
	} {
		f.Add(s, now, int64(0))
	}
	f.Add("", now, int64(90))
	f.Add("", now, int64(math.MaxInt64/int64(time.Second)))
	f.Fuzz(func(t *testing.T, v string, nowUnix, seconds int64) {
		nowT := time.Unix(nowUnix, 0)
		got := parseRetryAfter(v, nowT)
		if got < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, a negative wait", v, got)
		}
		if k, ok := allDigits(v); ok && k > 0 {
			// RFC 9110 delay-seconds: the wait is k seconds, or as long as a Duration goes.
			if want := time.Duration(min(k, math.MaxInt64/int64(time.Second))) * time.Second; got < want {
				t.Fatalf("parseRetryAfter(%q) = %v, shorter than the %d s asked for", v, got, k)
			}
		}
		if seconds >= 0 && seconds <= math.MaxInt64/int64(time.Second) {
			want := time.Duration(seconds) * time.Second
			if got := parseRetryAfter(strconv.FormatInt(seconds, 10), nowT); got != want {
				t.Fatalf("Retry-After: %d gives %v", seconds, got)
			}
			at := nowT.Add(want)
			if at.Year() >= 1 && at.Year() <= 9999 && seconds > 0 {
				h := at.UTC().Format(http.TimeFormat)
				if got := parseRetryAfter(h, nowT); got != want {
					t.Fatalf("Retry-After: %s (now %s) gives %v, want %v", h, nowT.UTC().Format(http.TimeFormat), got, want)
				}
			}
		}
	})
}

// allDigits reads a delay-seconds value (1*DIGIT, surrounding spaces allowed as the client
// trims them); values past int64 saturate.
func allDigits(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var n int64
	for _, c := range []byte(v) {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
