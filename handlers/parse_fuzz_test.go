package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/sse"
)

const fuzzCID = "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"

// wantAPIError fails unless err is an *api.Error with the given code.
func wantAPIError(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: err = %v, want an *api.Error with code %s", what, err, code)
	}
}

// FuzzUploadID: the upload ids the gate lets through to tusd (and so to the file store's
// paths) are exactly {valid session}/{valid content id}/{canonical index}-{16 hex}: three
// clean path elements, nothing that climbs out of the upload directory, and the parts
// format back to the same id. Every id the server hands out is accepted.
func FuzzUploadID(f *testing.F) {
	for _, id := range []string{
		"s1/" + fuzzCID + "/0-0123456789abcdef", "s1/" + fuzzCID + "/999999999-ffffffffffffffff",
		"s1/" + fuzzCID + "/1000000000-0123456789abcdef", "s1/" + fuzzCID + "/01-0123456789abcdef",
		"s1/" + fuzzCID + "/0-0123456789ABCDEF", "s1/" + fuzzCID + "/0-0123456789abcde",
		"../" + fuzzCID + "/0-0123456789abcdef", "s1/../s2/" + fuzzCID + "/0-0123456789abcdef",
		"s1/" + fuzzCID + "/0-0123456789abcdef/", "/s1/" + fuzzCID + "/0-0123456789abcdef",
		"s1//" + fuzzCID + "/0-0123456789abcdef", "s1\\" + fuzzCID + "\\0-0123456789abcdef",
		"s1/" + fuzzCID + "/0-0123456789abcdef\n", "s1/" + fuzzCID + "/0-0123456789abcdef.info",
		"", "s1", "Zürich/" + fuzzCID + "/0-0123456789abcdef",
	} {
		f.Add(id, "s1", fuzzCID, 0, uint64(0x0123456789abcdef))
	}
	f.Add("", "a/b", fuzzCID, 1, uint64(0))
	f.Add("", "s1", "0F8E4C1A-2B3D-4E5F-8A9B-0C1D2E3F4A5B", 1, uint64(1))
	f.Add("", "s1", fuzzCID, -1, uint64(1))
	f.Add("", strings.Repeat("x", 64), fuzzCID, 1<<30-1, ^uint64(0))
	f.Fuzz(func(t *testing.T, id, sid, cid string, index int, random uint64) {
		if m := uploadIDPattern.FindStringSubmatch(id); m != nil {
			if api.ValidateSessionID(m[1]) != nil || api.ValidateContentID(m[2]) != nil {
				t.Fatalf("upload id %q accepted with session %q, content %q", id, m[1], m[2])
			}
			n, err := api.ParseChunkIndex(m[3])
			if err != nil {
				t.Fatalf("upload id %q accepted with index %q: %v", id, m[3], err)
			}
			if strings.ContainsAny(id, "\\\x00\r\n") || strings.Contains(id, "..") || filepath.Clean(id) != id || filepath.IsAbs(id) {
				t.Fatalf("upload id %q is not a clean relative path", id)
			}
			if parts := strings.Split(id, "/"); len(parts) != 3 {
				t.Fatalf("upload id %q has %d path elements", id, len(parts))
			}
			if rel, err := filepath.Rel("/data/uploads", filepath.Join("/data/uploads", id+".info")); err != nil || strings.HasPrefix(rel, "..") {
				t.Fatalf("upload id %q leaves the upload directory: %q", id, rel)
			}
			suffix := id[strings.LastIndexByte(id, '-')+1:]
			if again := fmt.Sprintf("%s/%s/%d-%s", m[1], m[2], n, suffix); again != id {
				t.Fatalf("upload id %q formats back as %q", id, again)
			}
		}
		// The ids uploadFromHook makes: accepted exactly when their parts are valid.
		made := fmt.Sprintf("%s/%s/%d-%016x", sid, cid, index, random)
		valid := api.ValidateSessionID(sid) == nil && api.ValidateContentID(cid) == nil && index >= 0 && index < 1_000_000_000
		if got := uploadIDPattern.MatchString(made); got != valid {
			t.Fatalf("made id %q: accepted=%v, want %v", made, got, valid)
		}
	})
}

// FuzzCheckRange: checkRange answers before http.ServeContent and must refuse (with
// range_not_satisfiable, a problem) every Range that ServeContent would answer with its
// plain-text 416, so what it lets through is served 200 or 206 from the real blob. Several
// ranges are dropped and served whole.
func FuzzCheckRange(f *testing.F) {
	for _, spec := range []string{
		"", "bytes=0-", "bytes=0-0", "bytes=0-99", "bytes=99-", "bytes=100-", "bytes=-1", "bytes=-100",
		"bytes=-101", "bytes=-0", "bytes=5-3", "bytes=0-1,3-4", "bytes=,", "bytes=abc,def", "bytes=",
		"bytes=-", "bytes= 0-1", "bytes=0-1 ", "bytes=+0-1", "bytes=0-+1", "bytes=0--1", "Bytes=0-1",
		"bytes 0-1", "items=0-1", "bytes=0-99999999999999999999", "bytes=9223372036854775807-",
		"bytes=0x0-1", "bytes=٠-١", "bytes=1_0-20",
	} {
		f.Add(spec, int64(100))
	}
	f.Add("bytes=0-", int64(0))
	f.Add("bytes=-1", int64(0))
	f.Add("bytes=0-0", int64(1))
	f.Fuzz(func(t *testing.T, spec string, size int64) {
		size = min(max(size, 0), 1<<12) // real blob bytes are served below
		r := httptest.NewRequest(http.MethodGet, "/chunk", nil)
		r.Header.Set("Range", spec)
		err := checkRange(r, size)
		if err != nil {
			wantAPIError(t, fmt.Sprintf("checkRange(%q, %d)", spec, size), err, api.ERANGENOTSATISFIABLE)
			if ErrorStatus(err) != http.StatusRequestedRangeNotSatisfiable {
				t.Fatalf("range error maps to %d", ErrorStatus(err))
			}
			return
		}
		if strings.HasPrefix(spec, "bytes=") && strings.Contains(spec, ",") && r.Header.Get("Range") != "" {
			t.Fatalf("several ranges %q were not dropped", spec)
		}
		blob := bytes.Repeat([]byte("0123456789abcdef"), int(size/16)+1)[:size]
		w := httptest.NewRecorder()
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(blob))
		switch w.Code {
		case http.StatusOK:
			if !bytes.Equal(w.Body.Bytes(), blob) {
				t.Fatalf("Range %q on %d bytes: 200 with %d bytes", spec, size, w.Body.Len())
			}
		case http.StatusPartialContent:
			var start, end, total int64
			if _, err := fmt.Sscanf(w.Header().Get("Content-Range"), "bytes %d-%d/%d", &start, &end, &total); err != nil ||
				total != size || !bytes.Equal(w.Body.Bytes(), blob[start:end+1]) {
				t.Fatalf("Range %q on %d bytes: 206 %q with %d bytes", spec, size, w.Header().Get("Content-Range"), w.Body.Len())
			}
		default:
			t.Fatalf("checkRange let %q through on a %d-byte blob, ServeContent answered %d %q", spec, size, w.Code, w.Body.String())
		}
	})
}

// FuzzEventID: Last-Event-ID (header, else the lastEventId query) and the long poll's after
// are whole numbers of at least 0; nothing else is taken for a position (invalid_request).
// No id means live only. The header wins over the query. Every id the log can hand out
// round-trips.
func FuzzEventID(f *testing.F) {
	for _, raw := range []string{"", "0", "42", "007", "-1", "+1", " 1", "1 ", "1e3", "0x10", "١٢",
		"9223372036854775807", "9223372036854775808", "18446744073709551615", "\x00", "1\x00", "null"} {
		f.Add(raw, "", int64(0))
		f.Add("", raw, int64(1))
	}
	f.Add("5", "7", int64(9223372036854775807))
	f.Add("x", "7", int64(-1))
	f.Fuzz(func(t *testing.T, header, query string, id int64) {
		target := "/api/v1/sessions/s1/events"
		if query != "" {
			target += "?" + url.Values{"lastEventId": {query}}.Encode()
		}
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if header != "" {
			r.Header["Last-Event-Id"] = []string{header} // as sent, whatever the bytes
		}
		got, err := lastEventID(r)
		raw := header
		if raw == "" {
			raw = query
		}
		switch n, ok := wholeNumber(raw); {
		case raw == "":
			if err != nil || got != sse.LiveOnly {
				t.Fatalf("no position: %d, %v; want live only", got, err)
			}
		case ok:
			if err != nil || got != n {
				t.Fatalf("position %q (header %q, query %q): %d, %v; want %d", raw, header, query, got, err, n)
			}
		default:
			wantAPIError(t, fmt.Sprintf("position %q", raw), err, api.EINVALID)
		}
		if id >= 0 {
			if got, err := parseEventID(strconv.FormatInt(id, 10)); err != nil || got != id {
				t.Fatalf("parseEventID(%d) = %d, %v", id, got, err)
			}
		}
	})
}

// wholeNumber reads 1*DIGIT that fits an int64.
func wholeNumber(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// FuzzBearerToken: the token is what follows "Bearer " (scheme in any case, RFC 9110
// §11.1) in Authorization, trimmed; the access_token query is read only where allowed and
// only when the header holds no bearer token; anything else gives no token at all.
func FuzzBearerToken(f *testing.F) {
	for _, h := range []string{"", "Bearer abc.def.ghi", "bearer abc", "BEARER  abc  ", "Bearer", "Bearer ",
		"Basic dXNlcjpwYXNz", "Bearerabc", "Bearer\tabc", "Bearer abc def", "Token abc", " Bearer abc",
		"Bearer \x00", "Bеarer abc"} {
		f.Add(h, "", false)
		f.Add(h, "q.token", true)
	}
	f.Add("", "a b", true)
	f.Add("", "%2F..%2F", true)
	f.Fuzz(func(t *testing.T, header, query string, allowQuery bool) {
		target := "/x"
		if query != "" {
			target += "?" + url.Values{"access_token": {query}}.Encode()
		}
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if header != "" {
			r.Header["Authorization"] = []string{header}
		}
		got := bearerToken(r, allowQuery)
		want := ""
		if sp := strings.IndexByte(header, ' '); sp >= 0 && strings.EqualFold(header[:sp], "bearer") {
			want = strings.TrimSpace(header[sp+1:])
		} else if allowQuery {
			want = query
		}
		if got != want {
			t.Fatalf("bearerToken(Authorization %q, access_token %q, query allowed %v) = %q, want %q", header, query, allowQuery, got, want)
		}
		if !allowQuery && query != "" && got == query && !strings.Contains(header, query) {
			t.Fatal("the query token was read where only the header is allowed")
		}
	})
}

// FuzzRequestTarget: the parts of a request target the handlers read themselves. The
// stream form is recognised only for GET /api/v1/sessions/{one segment}/events without
// poll, and the session id it yields is that segment unescaped (it is validated next); every
// valid session id round-trips. The listing's order and limit are refused (invalid_request)
// unless order is newest or oldest and limit a whole number of at least 1, which is clamped
// to 200.
func FuzzRequestTarget(f *testing.F) {
	for _, target := range []string{
		"/api/v1/sessions/s1/events", "/api/v1/sessions/s1/events?poll=1&after=0", "/api/v1/sessions/s1/events?poll",
		"/api/v1/sessions/a%2Fb/events", "/api/v1/sessions/a/b/events", "/api/v1/sessions//events", "/api/v1/sessions/%zz/events",
		"/api/v1/sessions/s1/events/", "/api/v1/sessions/s1/contents?limit=0", "/api/v1/sessions/s1/contents?limit=-1",
		"/api/v1/sessions/s1/contents?limit=%2B5", "/api/v1/sessions/s1/contents?limit=201&order=oldest",
		"/api/v1/sessions/s1/contents?limit=1e3", "/api/v1/sessions/s1/contents?limit=99999999999999999999",
		"/api/v1/sessions/s1/contents?order=OLDEST", "/api/v1/sessions/s1/contents?order=newest&order=oldest",
		"/api/v1/sessions/s1/contents?limit=&cursor=x", "/api/v1/sessions/..%2F..%2Fetc/events",
	} {
		f.Add(http.MethodGet, target, "s1")
	}
	f.Add(http.MethodPost, "/api/v1/sessions/s1/events", "team-alpha")
	f.Add(http.MethodHead, "/api/v1/sessions/s1/events", strings.Repeat("z", 64))
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, method, target, sid string) {
		r, err := http.NewRequest(method, "http://example.com"+target, nil)
		if err != nil {
			return
		}
		if got, ok := streamRequest(r); ok {
			esc := r.URL.EscapedPath()
			seg, isStream := strings.CutPrefix(esc, "/api/v1/sessions/")
			seg, isStream2 := strings.CutSuffix(seg, "/events")
			if r.Method != http.MethodGet || r.URL.Query().Has("poll") || !isStream || !isStream2 || strings.Contains(seg, "/") {
				t.Fatalf("%s %s taken for the stream of %q", method, target, got)
			}
			if want, err := url.PathUnescape(seg); err != nil || got != want {
				t.Fatalf("%s %s: stream of %q, the path names %q", method, target, got, want)
			}
		}
		if api.ValidateSessionID(sid) == nil {
			for _, q := range []string{"", "?access_token=x&lastEventId=3"} {
				r := httptest.NewRequest(http.MethodGet, "/api/v1/sessions/"+sid+"/events"+q, nil)
				if got, ok := streamRequest(r); !ok || got != sid {
					t.Fatalf("stream request for %q read as %q, %v", sid, got, ok)
				}
			}
		}

		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = r
		flt, err := contentFilter(c)
		q := r.URL.Query()
		order, limit := q.Get("order"), q.Get("limit")
		n, numErr := strconv.Atoi(limit)
		switch {
		case order != "" && order != "newest" && order != "oldest", q.Has("limit") && (numErr != nil || n < 1):
			wantAPIError(t, "contentFilter("+target+")", err, api.EINVALID)
			return
		case err != nil:
			t.Fatalf("contentFilter(%s): %v", target, err)
		}
		if (flt.Order == api.OldestFirst) != (order == "oldest") || flt.Cursor != q.Get("cursor") ||
			flt.Limit < 1 || flt.Limit > maxPageSize || q.Has("limit") && flt.Limit != min(n, maxPageSize) || !q.Has("limit") && flt.Limit != defaultPageSize {
			t.Fatalf("contentFilter(%s) = %+v", target, flt)
		}
	})
}
