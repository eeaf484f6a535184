package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startUnfinished creates a tus upload for chunk 0 of a one-chunk item without sending bytes,
// and returns the upload URL and the chunk's path.
func startUnfinished(t testing.TB, srv *testServer, token string) (*item, string, string) {
	t.Helper()
	it := newItem(t, 1000, 65536)
	srv.announce(t, token, it)
	r := srv.tusCreate(t, token, "team-alpha", it.id, 0, int64(len(it.blobs[0])), nil)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return it, r.header.Get("Location"), srv.chunkFile(it.id, 0)
}

// TestCompleteButUnrecordedChunkIsRecorded covers bytes that all landed while their recording
// did not happen: a crash between the last byte and the commit, or a failed finish hook whose
// retried PATCH tusd answers without calling the hook again (tus/tusd#1299).
func TestCompleteButUnrecordedChunkIsRecorded(t *testing.T) {
	t.Run("OnResumeRequest", func(t *testing.T) {
		cfg, clk := testConfig(t)
		srv := startServer(t, cfg, clk)
		token := srv.session(t)
		it, url, path := startUnfinished(t, srv, token)
		if err := os.WriteFile(path, it.blobs[0], 0o600); err != nil {
			t.Fatal(err)
		}
		if r := srv.tus(t, http.MethodHead, url, token, nil); r.status != 200 || r.header.Get("Upload-Offset") != r.header.Get("Upload-Length") {
			t.Fatalf("HEAD: %d %v", r.status, r.header)
		}
		if !srv.itemState(t, token, it.id).Complete {
			t.Fatal("the complete chunk was not recorded when its upload was asked about")
		}
	})
	t.Run("AtStart", func(t *testing.T) {
		cfg, clk := testConfig(t, "--token-ttl", "24h")
		srv := startServer(t, cfg, clk)
		token := srv.session(t)
		it, _, path := startUnfinished(t, srv, token)
		srv.shutdown()
		if err := os.WriteFile(path, it.blobs[0], 0o600); err != nil {
			t.Fatal(err)
		}
		srv = srv.restart()
		if !srv.itemState(t, token, it.id).Complete {
			t.Fatal("the complete chunk was not recorded at start-up")
		}
	})
}

func TestAbandonedUploadIsRemoved(t *testing.T) {
	cfg, clk := testConfig(t, "--upload-expiry", "1h", "--token-ttl", "24h", "--session-idle-timeout", "24h")
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	it, url, path := startUnfinished(t, srv, token)
	os.WriteFile(path, it.blobs[0][:10], 0o600) // some bytes arrived, then the client vanished
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(path, old, old)

	srv.tusCreate(t, token, "team-alpha", it.id, 0, int64(len(it.blobs[0])), nil).requireProblem(t, 409, "chunk_in_progress")
	clk.Advance(2 * time.Hour)
	srv.app.Sweep(t.Context())

	uploadID := url[strings.Index(url, "/uploads/")+len("/uploads/"):]
	for _, p := range []string{path, filepath.Join(cfg.DataDir, "uploads", uploadID+".info")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s of the abandoned upload remains: %v", p, err)
		}
	}
	if r := srv.postChunk(t, token, "team-alpha", it, 0); r.status != http.StatusCreated {
		t.Fatalf("a new upload of the chunk: %d %s", r.status, r.body)
	}
	if !srv.itemState(t, token, it.id).Complete {
		t.Fatal("item incomplete after the new upload")
	}
}

func TestInProgressChunkPointsToItsUpload(t *testing.T) {
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	it, url, _ := startUnfinished(t, srv, token)
	r := srv.tusCreate(t, token, "team-alpha", it.id, 0, int64(len(it.blobs[0])), nil)
	r.requireProblem(t, 409, "chunk_in_progress")
	if got := r.json(t)["uploadUrl"]; got != url {
		t.Fatalf("uploadUrl %v does not name the running upload %s", got, url)
	}
}
