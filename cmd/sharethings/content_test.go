package main

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

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
