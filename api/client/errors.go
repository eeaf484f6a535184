package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxProblemBody bounds how much of an error answer is read.
const maxProblemBody = 64 << 10

// Error is an RFC 9457 problem answer, or any other non-2xx HTTP answer (then Code is empty
// and Detail holds the start of the body). Use it with errors.As, or IsCode.
type Error struct {
	Status int
	Code   string // the stable protocol code, e.g. "fingerprint_mismatch"
	Title  string
	Detail string
	// UploadURL is the unfinished upload named by a chunk_in_progress answer.
	UploadURL string
	// RetryAfter is the server's Retry-After (429, 503), or 0.
	RetryAfter time.Duration
}

// Error renders one line: "code: detail", or "HTTP 502 Bad Gateway: detail" without a code.
func (e *Error) Error() string {
	head := e.Code
	if head == "" {
		head = fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	detail := e.Detail
	if detail == "" {
		detail = e.Title
	}
	if detail == "" {
		return head
	}
	return head + ": " + oneLine(detail)
}

// IsCode reports whether err is (or wraps) an *Error with the given protocol code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// checkStatus returns nil for a 2xx answer and the parsed *Error otherwise. It consumes
// the body of an error answer but leaves closing it to the caller.
func checkStatus(res *http.Response) error {
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	return parseError(res)
}

// parseError reads a problem body. Bodies that are not problems (tusd's own protocol
// errors, a proxy's HTML page) still give a useful one-line detail.
func parseError(res *http.Response) *Error {
	e := &Error{Status: res.StatusCode, RetryAfter: parseRetryAfter(res.Header.Get("Retry-After"), time.Now())}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, maxProblemBody))
	var p struct {
		Code      string `json:"code"`
		Title     string `json:"title"`
		Detail    string `json:"detail"`
		UploadURL string `json:"uploadUrl"`
	}
	if json.Unmarshal(raw, &p) == nil && p.Code != "" {
		e.Code, e.Title, e.Detail, e.UploadURL = p.Code, p.Title, p.Detail, p.UploadURL
		return e
	}
	e.Title = http.StatusText(res.StatusCode)
	e.Detail = oneLine(string(raw))
	if len(e.Detail) > 200 {
		e.Detail = e.Detail[:200] + "…"
	}
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// A wait too long for a Duration is as good as forever; it must not wrap to nothing.
		if err != nil || s > uint64(math.MaxInt64/int64(time.Second)) {
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// oneLine keeps error messages on one line whatever a body contained.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
