package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/storage"
)

// fuzzServer is the real handler stack over a real SQLite store in a temporary directory,
// built once per fuzzing process: requests go through gin, the gate and tusd exactly as in
// production, only without a socket.
type fuzzServer struct {
	db   *storage.DB
	srv  *Server
	h    http.Handler
	opts Options
}

// The item every fuzzServer session announces first: a full chunk and a one-byte chunk.
const (
	fuzzChunkSize = api.MinChunkSize
	fuzzBlob0     = fuzzChunkSize + api.ChunkOverhead
	fuzzBlob1     = 1 + api.ChunkOverhead
)

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	// One log line per request would drown the fuzzer's own output.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.Cleanup(func() { slog.SetDefault(prev) })

	db, err := storage.Open(context.Background(), filepath.Join(f.TempDir(), "data"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	opts := Options{
		MinKDFIterations: 1, DefaultChunkSize: fuzzChunkSize, MaxChunkSize: api.MaxChunkSize,
		MaxItemBytes: 1 << 30, SessionQuotaBytes: math.MaxInt64 / 4, SessionMaxItems: math.MaxInt32,
		SessionIdleTimeout: time.Hour, TokenTTL: time.Hour, UploadExpiry: time.Hour,
		JoinAttemptsPerMinute: 1 << 30, JoinFailuresPerMinute: 1 << 30,
	}
	s := NewServer(Services{Sessions: db, Contents: db, Uploads: db, Chunks: db, Presence: db},
		NewTokens(bytes.Repeat([]byte{9}, 32), time.Hour, time.Now), opts, time.Now)
	h, err := s.Handler()
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzServer{db: db, srv: s, h: h, opts: opts}
}

// do sends one request; it returns nil when the method or target is not a valid request.
func (fs *fuzzServer) do(method, target string, header http.Header, body []byte) *httptest.ResponseRecorder {
	req, err := http.NewRequest(method, "http://example.com"+target, bytes.NewReader(body))
	if err != nil {
		return nil
	}
	req.RemoteAddr = "192.0.2.1:1234"
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	fs.h.ServeHTTP(deadlineRecorder{w}, req)
	return w
}

// deadlineRecorder lets tusd set its connection deadlines (it warns on every PATCH when it
// cannot); there is no connection, so they are no-ops.
type deadlineRecorder struct{ *httptest.ResponseRecorder }

func (deadlineRecorder) SetReadDeadline(time.Time) error  { return nil }
func (deadlineRecorder) SetWriteDeadline(time.Time) error { return nil }

// join creates session sid and returns a token of a client in it.
func (fs *fuzzServer) join(f *testing.F, sid string) string {
	f.Helper()
	body, _ := json.Marshal(JoinRequest{
		ClientName:  "fuzzer of " + sid,
		Fingerprint: api.Fingerprint{IV: make([]byte, 12), Data: make([]byte, len(sid)+api.GCMTagBytes)},
		KDF:         &api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 1, Salt: make([]byte, api.KDFSaltBytes)},
	})
	w := fs.do(http.MethodPost, "/api/v1/sessions/"+sid+"/join", http.Header{"Content-Type": {"application/json"}}, body)
	var res JoinResponse
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &res) != nil {
		f.Fatalf("join %s: %d %s", sid, w.Code, w.Body)
	}
	return res.Token
}

// announce announces the two-chunk item cid in the token's session.
func (fs *fuzzServer) announce(f *testing.F, token, sid, cid string) {
	f.Helper()
	body, _ := json.Marshal(AnnounceRequest{ContentID: cid, TotalChunks: 2, TotalSize: fuzzBlob0 + fuzzBlob1, ChunkSize: fuzzChunkSize,
		Metadata: api.Sealed{IV: make([]byte, 12), Data: make([]byte, 40)}})
	w := fs.do(http.MethodPost, "/api/v1/sessions/"+sid+"/contents", bearer(token, "application/json"), body)
	if w.Code != http.StatusCreated {
		f.Fatalf("announce %s: %d %s", cid, w.Code, w.Body)
	}
}

func bearer(token, contentType string) http.Header {
	h := http.Header{"Authorization": {"Bearer " + token}}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return h
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// problemCode checks that an error answer is a problem document whose status is the one
// the code maps to, and returns the code.
func problemCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, problemContentType) {
		t.Fatalf("%d answered as %q, not a problem: %s", w.Code, ct, w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", w.Body, err)
	}
	if p.Status != w.Code || codeStatus[p.Code] != w.Code || p.Code == api.EINTERNAL {
		t.Fatalf("problem %+v on a %d answer", p, w.Code)
	}
	return p.Code
}

// wantAnswer checks an answer against the status and code a reference decided.
func wantAnswer(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("answered %d %s, want %d %s", w.Code, w.Body, status, code)
	}
	if code != "" {
		if got := problemCode(t, w); got != code {
			t.Fatalf("answered code %s (%s), want %s", got, w.Body, code)
		}
	}
}
