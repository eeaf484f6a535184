package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chunkOverhead is what encryption adds around every chunk: a 12-byte IV and a 16-byte GCM tag.
const chunkOverhead = 28

// uploadPath is the tus endpoint.
const uploadPath = "/api/v1/uploads/"

// session joins team-alpha (creating it) and returns its token.
func (s *testServer) session(t testing.TB) string {
	t.Helper()
	return s.joinToken(t, loadVectors(t)[0])
}

// item is a test item: random blobs standing in for the encrypted chunks of size plaintext
// bytes cut into chunkSize pieces. The server never decrypts, so random bytes serve as IV,
// ciphertext and tag.
type item struct {
	id        string
	chunkSize int
	blobs     [][]byte
}

func newItem(t testing.TB, size, chunkSize int) *item {
	t.Helper()
	return newItemFrom(t, rand.Reader, size, chunkSize)
}

// newItemFrom is newItem with the blob bytes read from src: a seeded source makes the bytes of
// a failing case reproducible.
func newItemFrom(t testing.TB, src io.Reader, size, chunkSize int) *item {
	t.Helper()
	n := max(1, (size+chunkSize-1)/chunkSize)
	it := &item{id: newUUID(), chunkSize: chunkSize}
	for i := range n {
		blob := make([]byte, min(chunkSize, size-i*chunkSize)+chunkOverhead)
		if _, err := io.ReadFull(src, blob); err != nil {
			t.Fatal(err)
		}
		it.blobs = append(it.blobs, blob)
	}
	return it
}

// seededRand is a random source that gives the same bytes for the same n, such as the number
// of a case or trial.
func seededRand(n uint64) *mrand.ChaCha8 {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], n)
	return mrand.NewChaCha8(seed)
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (it *item) totalSize() int {
	total := 0
	for _, b := range it.blobs {
		total += len(b)
	}
	return total
}

func (it *item) announceBody() map[string]any {
	return map[string]any{
		"contentId": it.id, "totalChunks": len(it.blobs), "totalSize": it.totalSize(), "chunkSize": it.chunkSize,
		"metadata": map[string]any{"iv": "TWyLqsnoByZFZIOi", "data": "Jp0rWpnnZhXcExxLJh9Wx2LW"},
	}
}

func (s *testServer) announce(t testing.TB, token string, it *item) response {
	t.Helper()
	return s.do(http.MethodPost, "/api/v1/sessions/team-alpha/contents", it.announceBody(), token)
}

// requireAnnounce announces it and fails the test unless the server accepts it.
func (s *testServer) requireAnnounce(t testing.TB, token string, it *item) {
	t.Helper()
	if r := s.announce(t, token, it); r.status != http.StatusCreated {
		t.Fatalf("announce %s: %d %s", it.id, r.status, r.body)
	}
}

// postChunk uploads one chunk in a single tus creation-with-upload request.
func (s *testServer) postChunk(t testing.TB, token, sid string, it *item, index int, headers ...string) response {
	t.Helper()
	return s.tusCreate(t, token, sid, it.id, index, int64(len(it.blobs[index])), it.blobs[index], headers...)
}

// tusCreate asks for a tus upload of chunk index of item cid, with body (nil for none) as its
// first bytes.
func (s *testServer) tusCreate(t testing.TB, token, sid, cid string, index int, length int64, body []byte, headers ...string) response {
	t.Helper()
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	meta := "sessionId " + b64(sid) + ",contentId " + b64(cid) + ",chunkIndex " + b64(strconv.Itoa(index))
	return s.tus(t, http.MethodPost, uploadPath, token, body,
		append([]string{"Upload-Length", strconv.FormatInt(length, 10), "Upload-Metadata", meta}, headers...)...)
}

// tus sends a tus 1.0.0 request to target, the upload path or an upload URL; body, when not
// nil, is upload data.
func (s *testServer) tus(t testing.TB, method, target, token string, body []byte, headers ...string) response {
	t.Helper()
	tusHeaders := []string{"Tus-Resumable", "1.0.0"}
	if body != nil {
		tusHeaders = append(tusHeaders, "Content-Type", "application/offset+octet-stream")
	}
	return s.request(t, method, target, token, body, append(tusHeaders, headers...)...)
}

func (s *testServer) upload(t testing.TB, token string, it *item) {
	t.Helper()
	s.requireAnnounce(t, token, it)
	for i := range it.blobs {
		if r := s.postChunk(t, token, "team-alpha", it, i); r.status != http.StatusCreated {
			t.Fatalf("chunk %d: %d %s", i, r.status, r.body)
		}
	}
}

// chunkFile is where a recorded chunk of a team-alpha item is stored.
func (s *testServer) chunkFile(id string, index int) string {
	return filepath.Join(s.cfg.DataDir, "sessions", "team-alpha", id, strconv.Itoa(index)+".bin")
}

// itemState is an item as GET /sessions/team-alpha/contents/{cid} shows it.
type itemState struct {
	Complete       bool `json:"complete"`
	ReceivedChunks int  `json:"receivedChunks"`
	Chunks         []struct {
		Index  int    `json:"index"`
		Size   int    `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"chunks"`
}

func (s *testServer) itemState(t testing.TB, token, id string) itemState {
	t.Helper()
	r := s.do(http.MethodGet, "/api/v1/sessions/team-alpha/contents/"+id, nil, token)
	var st itemState
	if r.status != http.StatusOK || json.Unmarshal(r.body, &st) != nil {
		t.Fatalf("item %s: %d %s", id, r.status, r.body)
	}
	return st
}

// requireDownloads checks that the item is complete and that every chunk is listed with its
// size and SHA-256 and downloads byte-identical with that hash as its ETag.
func (s *testServer) requireDownloads(t testing.TB, token string, it *item) {
	t.Helper()
	st := s.itemState(t, token, it.id)
	if !st.Complete || st.ReceivedChunks != len(it.blobs) || len(st.Chunks) != len(it.blobs) {
		t.Fatalf("item %s after its last chunk: %+v, want complete with %d chunks", it.id, st, len(it.blobs))
	}
	for i, blob := range it.blobs {
		want := sha256Hex(blob)
		if c := st.Chunks[i]; c.Index != i || c.Size != len(blob) || c.SHA256 != want {
			t.Errorf("chunk %d listed as %+v, want size %d sha256 %s", i, c, len(blob), want)
		}
		r := s.do(http.MethodGet, fmt.Sprintf("/api/v1/sessions/team-alpha/contents/%s/chunks/%d", it.id, i), nil, token)
		if r.status != http.StatusOK {
			t.Fatalf("download chunk %d: %d %s", i, r.status, r.body)
		}
		if got := sha256Hex(r.body); got != want || len(r.body) != len(blob) {
			t.Errorf("chunk %d downloads as %d bytes sha256 %s, uploaded %d bytes sha256 %s", i, len(r.body), got, len(blob), want)
		}
		if etag := r.header.Get("ETag"); etag != `"`+want+`"` {
			t.Errorf("chunk %d ETag %s, want %q", i, etag, want)
		}
	}
}

// requireChunkFiles checks that each chunk sits at sessions/team-alpha/{cid}/{i}.bin with the
// uploaded bytes, readable only by the server's user.
func (s *testServer) requireChunkFiles(t testing.TB, it *item) {
	t.Helper()
	sessions := filepath.Join(s.cfg.DataDir, "sessions")
	for _, dir := range []string{sessions, filepath.Join(sessions, "team-alpha"), filepath.Join(sessions, "team-alpha", it.id)} {
		st, err := os.Stat(dir)
		if err != nil {
			t.Errorf("directory %s: %v", dir, err)
		} else if !st.IsDir() || st.Mode().Perm() != 0o700 {
			t.Errorf("directory %s has mode %v, want a directory with mode 0700", dir, st.Mode())
		}
	}
	for i, blob := range it.blobs {
		p := s.chunkFile(it.id, i)
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("chunk %d: %v", i, err)
			continue
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("chunk file %s has mode %v, want 0600", p, st.Mode())
		}
		if got, _ := os.ReadFile(p); !bytes.Equal(got, blob) {
			t.Errorf("chunk file %s holds %d bytes sha256 %s, uploaded %d bytes sha256 %s", p, len(got), sha256Hex(got), len(blob), sha256Hex(blob))
		}
	}
}

func TestAnnounce(t *testing.T) {
	cfg, clk := testConfig(t, "--max-item-size", "1MiB", "--session-quota", "3MiB", "--session-max-items", "4", "--max-chunk-size", "1MiB")
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	ok := newItem(t, 100, 65536)
	r := srv.announce(t, token, ok)
	if r.status != 201 || r.json(t)["uploadUrl"] != uploadPath {
		t.Fatalf("announce: %d %s", r.status, r.body)
	}
	if got := r.json(t)["item"].(map[string]any); got["contentId"] != ok.id || got["complete"] != false || got["senderName"] != "tester" {
		t.Fatalf("item: %v", got)
	}
	// big is exactly 1 MiB encrypted: 16 chunks of 64 KiB less their overhead.
	big := func() *item { return newItem(t, 1<<20-16*chunkOverhead, 65536) }
	for name, tc := range map[string]struct {
		body   func() map[string]any
		status int
		code   string
	}{
		"ErrCountsDisagree": {func() map[string]any { b := newItem(t, 100, 65536).announceBody(); b["totalChunks"] = 2; return b }, 400, "invalid_request"},
		"ErrTooManyBytes": {func() map[string]any {
			b := newItem(t, 65536, 65536).announceBody()
			b["totalSize"] = 65536 + 29
			return b
		}, 400, "invalid_request"},
		"ErrChunkSizeSmall": {func() map[string]any { b := newItem(t, 100, 65536).announceBody(); b["chunkSize"] = 65535; return b }, 400, "invalid_request"},
		"ErrChunkSizeLarge": {func() map[string]any { b := newItem(t, 100, 65536).announceBody(); b["chunkSize"] = 2 << 20; return b }, 400, "invalid_request"},
		"ErrUppercaseID": {func() map[string]any {
			b := newItem(t, 100, 65536).announceBody()
			b["contentId"] = strings.ToUpper(newUUID())
			return b
		}, 400, "invalid_content_id"},
		"ErrTraversalID": {func() map[string]any {
			b := newItem(t, 100, 65536).announceBody()
			b["contentId"] = "../../etc"
			return b
		}, 400, "invalid_content_id"},
		"ErrBadMetadata": {func() map[string]any {
			b := newItem(t, 100, 65536).announceBody()
			b["metadata"] = map[string]any{"iv": "AAAA", "data": ""}
			return b
		}, 400, "invalid_request"},
		"ErrDuplicate":       {func() map[string]any { return ok.announceBody() }, 409, "conflict"},
		"ErrItemTooLarge":    {func() map[string]any { return newItem(t, 1<<20, 65536).announceBody() }, 413, "too_large"},
		"ErrNegativeSize":    {func() map[string]any { b := newItem(t, 100, 65536).announceBody(); b["totalSize"] = -5; return b }, 400, "invalid_request"},
		"ErrNotJSONNumber":   {func() map[string]any { b := newItem(t, 100, 65536).announceBody(); b["totalChunks"] = "1"; return b }, 400, "invalid_request"},
		"ErrZeroTotalChunks": {func() map[string]any { b := newItem(t, 100, 65536).announceBody(); b["totalChunks"] = 0; return b }, 400, "invalid_request"},
	} {
		t.Run(name, func(t *testing.T) {
			before := srv.snapshot()
			srv.do(http.MethodPost, "/api/v1/sessions/team-alpha/contents", tc.body(), token).requireProblem(t, tc.status, tc.code)
			if srv.snapshot() != before {
				t.Fatal("a refused announce changed state")
			}
		})
	}
	t.Run("ErrQuotaBytes", func(t *testing.T) {
		for range 2 {
			if r := srv.announce(t, token, big()); r.status != 201 {
				t.Fatalf("%d %s", r.status, r.body)
			}
		}
		srv.announce(t, token, big()).requireProblem(t, 413, "quota_exceeded")
	})
	t.Run("ErrQuotaItems", func(t *testing.T) {
		srv.announce(t, token, newItem(t, 1, 65536))
		srv.announce(t, token, newItem(t, 1, 65536)).requireProblem(t, 413, "quota_exceeded")
	})
}

func TestStorageFloorRefusesNewItems(t *testing.T) {
	cfg, clk := testConfig(t, "--min-free-disk", "1000000TiB")
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	srv.announce(t, token, newItem(t, 10, 65536)).requireProblem(t, 507, "storage_full")
}

func TestUploadRecordsChunksAndCompletes(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	it := newItem(t, 2*65536+1, 65536)
	srv.announce(t, token, it)
	for i := range it.blobs {
		detail := srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/contents/"+it.id, nil, token).json(t)
		if detail["complete"] != false || detail["receivedChunks"] != float64(i) {
			t.Fatalf("before chunk %d: %v", i, detail)
		}
		if r := srv.postChunk(t, token, "team-alpha", it, i); r.status != 201 || r.header.Get("Upload-Offset") != strconv.Itoa(len(it.blobs[i])) {
			t.Fatalf("chunk %d: %d %s", i, r.status, r.body)
		}
	}
	srv.requireDownloads(t, token, it)
	srv.requireChunkFiles(t, it)
	events, _ := srv.app.db.ListEvents(t.Context(), "team-alpha", 0, 100)
	var names []string
	for _, e := range events {
		names = append(names, e.Type)
	}
	want := "client.joined content.created content.chunk content.chunk content.chunk content.completed"
	if strings.Join(names, " ") != want {
		t.Fatalf("events %v, want %s", names, want)
	}
}

func TestChunkDownload(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	it := newItem(t, 65536+100, 65536)
	srv.announce(t, token, it)
	srv.postChunk(t, token, "team-alpha", it, 0)
	base := "/api/v1/sessions/team-alpha/contents/" + it.id + "/chunks/"
	get := func(path string, headers ...string) response {
		return srv.request(t, http.MethodGet, path, token, nil, headers...)
	}
	full := get(base + "0")
	etag := `"` + sha256Hex(it.blobs[0]) + `"`
	if full.status != 200 || !bytes.Equal(full.body, it.blobs[0]) || full.header.Get("ETag") != etag ||
		full.header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(full.header.Get("Cache-Control"), "private") {
		t.Fatalf("download: %d %v", full.status, full.header)
	}
	if r := get(base+"0", "Range", "bytes=10-19"); r.status != 206 || !bytes.Equal(r.body, it.blobs[0][10:20]) {
		t.Fatalf("range: %d", r.status)
	}
	if r := get(base+"0", "Range", "bytes=-5"); r.status != 206 || !bytes.Equal(r.body, it.blobs[0][len(it.blobs[0])-5:]) {
		t.Fatalf("suffix range: %d", r.status)
	}
	if r := get(base+"0", "Range", "bytes=0-1,5-6"); r.status != 200 || !bytes.Equal(r.body, it.blobs[0]) {
		t.Fatalf("several ranges must give the whole blob: %d", r.status)
	}
	if r := get(base+"0", "If-None-Match", etag); r.status != 304 {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	get(base+"0", "Range", "bytes=999999-").requireProblem(t, 416, "range_not_satisfiable")
	get(base+"0", "Range", "lines=1-2").requireProblem(t, 416, "range_not_satisfiable")
	get(base+"1").requireProblem(t, 404, "not_found")
	get(base+"2").requireProblem(t, 400, "chunk_out_of_range")
	get(base+"01").requireProblem(t, 400, "invalid_request")
	get(base+"-1").requireProblem(t, 400, "invalid_request")
	get("/api/v1/sessions/team-alpha/contents/"+newUUID()+"/chunks/0").requireProblem(t, 404, "content_not_found")
	if r := srv.do(http.MethodGet, base+"0?access_token="+token, nil, ""); r.status != 200 || !bytes.Equal(r.body, it.blobs[0]) {
		t.Fatalf("access_token query: %d", r.status)
	}
}

func TestListContents(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	var ids []string // oldest first
	for range 5 {
		it := newItem(t, 1, 65536)
		srv.announce(t, token, it)
		ids = append(ids, it.id)
		clk.Advance(time.Second)
	}
	pin := srv.do(http.MethodPatch, "/api/v1/sessions/team-alpha/contents/"+ids[1], map[string]any{"pinned": true}, token)
	if pin.status != 200 || pin.json(t)["pinned"] != true {
		t.Fatalf("pin: %d %s", pin.status, pin.body)
	}
	collect := func(query string) []string {
		var got []string
		cursor := ""
		for page := 0; page < 10; page++ {
			r := srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/contents?limit=2"+query+cursor, nil, token)
			body := r.json(t)
			for _, it := range body["items"].([]any) {
				got = append(got, it.(map[string]any)["contentId"].(string))
			}
			if body["nextCursor"] == nil {
				return got
			}
			cursor = "&cursor=" + body["nextCursor"].(string)
		}
		t.Fatal("pagination did not end")
		return nil
	}
	want := strings.Join([]string{ids[1], ids[4], ids[3], ids[2], ids[0]}, ",")
	if got := strings.Join(collect(""), ","); got != want {
		t.Fatalf("newest first:\n got %s\nwant %s", got, want)
	}
	want = strings.Join([]string{ids[1], ids[0], ids[2], ids[3], ids[4]}, ",")
	if got := strings.Join(collect("&order=oldest"), ","); got != want {
		t.Fatalf("oldest first:\n got %s\nwant %s", got, want)
	}
	if r := srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/contents?limit=500", nil, token); r.status != 200 || len(r.json(t)["items"].([]any)) != 5 {
		t.Fatalf("limit above 200 is clamped, not refused: %d", r.status)
	}
	for _, q := range []string{"limit=abc", "limit=0", "limit=-1", "order=sideways", "cursor=bm9wZQ"} {
		srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/contents?"+q, nil, token).requireProblem(t, 400, "invalid_request")
	}
}

func TestUpdateAndDeleteContent(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	a, b := newItem(t, 10, 65536), newItem(t, 10, 65536)
	srv.upload(t, token, a)
	srv.upload(t, token, b)
	list := "/api/v1/sessions/team-alpha/contents"
	path := list + "/"

	renamed := map[string]any{"iv": "AAAAAAAAAAAAAAAA", "data": base64.StdEncoding.EncodeToString(make([]byte, 40))}
	r := srv.do(http.MethodPatch, path+a.id, map[string]any{"metadata": renamed}, token)
	if r.status != 200 || r.json(t)["metadata"].(map[string]any)["iv"] != "AAAAAAAAAAAAAAAA" {
		t.Fatalf("rename: %d %s", r.status, r.body)
	}
	srv.do(http.MethodPatch, path+a.id, map[string]any{}, token).requireProblem(t, 400, "invalid_request")
	srv.do(http.MethodPatch, path+newUUID(), map[string]any{"pinned": true}, token).requireProblem(t, 404, "content_not_found")
	srv.do(http.MethodPatch, path+"NOT-A-UUID", map[string]any{"pinned": true}, token).requireProblem(t, 400, "invalid_content_id")

	if r := srv.do(http.MethodDelete, path+a.id, nil, token); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, dir := range []string{"sessions", "uploads"} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, dir, "team-alpha", a.id)); !os.IsNotExist(err) {
			t.Fatalf("%s of the deleted item remain: %v", dir, err)
		}
	}
	srv.do(http.MethodDelete, path+a.id, nil, token).requireProblem(t, 404, "content_not_found")
	srv.do(http.MethodGet, path+a.id+"/chunks/0", nil, token).requireProblem(t, 404, "content_not_found")

	if r := srv.do(http.MethodDelete, "/api/v1/sessions/team-alpha/contents", nil, token); r.status != 204 {
		t.Fatalf("clear: %d", r.status)
	}
	if items := srv.do(http.MethodGet, list, nil, token).json(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("items after clear: %v", items)
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "sessions", "team-alpha")); len(entries) != 0 {
		t.Fatalf("files after clear: %v", entries)
	}
}

func TestRetention(t *testing.T) {
	cfg, clk := testConfig(t, "--retention-max-items", "2", "--retention-max-age", "1h", "--token-ttl", "24h", "--session-idle-timeout", "24h")
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	var items []*item
	for range 5 {
		it := newItem(t, 10, 65536)
		srv.upload(t, token, it)
		items = append(items, it)
		clk.Advance(time.Minute)
	}
	srv.do(http.MethodPatch, "/api/v1/sessions/team-alpha/contents/"+items[0].id, map[string]any{"pinned": true}, token)
	srv.app.Sweep(t.Context())
	remaining := func() string {
		var ids []string
		for _, it := range srv.do(http.MethodGet, "/api/v1/sessions/team-alpha/contents?order=oldest", nil, token).json(t)["items"].([]any) {
			ids = append(ids, it.(map[string]any)["contentId"].(string))
		}
		return strings.Join(ids, ",")
	}
	if got, want := remaining(), items[0].id+","+items[3].id+","+items[4].id; got != want {
		t.Fatalf("after max-items: %s, want pinned + 2 newest %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "sessions", "team-alpha", items[1].id)); !os.IsNotExist(err) {
		t.Fatalf("files of a retired item remain: %v", err)
	}
	clk.Advance(2 * time.Hour)
	srv.app.Sweep(t.Context())
	if got := remaining(); got != items[0].id {
		t.Fatalf("after max-age: %s, want only the pinned item", got)
	}
}
