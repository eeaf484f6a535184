package handlers

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/storage"
)

// TestFinishIsIdempotent: a HEAD arriving during the final PATCH may try to record the same
// upload; whichever comes second must succeed when the chunk is recorded, and must not when
// it is not.
func TestFinishIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := NewServer(Services{Sessions: db, Contents: db, Uploads: db, Chunks: db}, NewTokens(make([]byte, 32), time.Hour, time.Now),
		Options{JoinAttemptsPerMinute: 1, JoinFailuresPerMinute: 1, MaxChunkSize: api.MaxChunkSize}, time.Now)
	u, err := newUploads(s)
	if err != nil {
		t.Fatal(err)
	}
	salt := make([]byte, 16)
	if _, err := db.JoinSession(ctx, api.JoinInput{SessionID: "s1", ClientName: "x", KDF: &api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 1, Salt: salt},
		Fingerprint: api.Fingerprint{IV: make([]byte, 12), Data: make([]byte, 18)}}); err != nil {
		t.Fatal(err)
	}
	const cid = "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
	item := &api.Content{ID: cid, SessionID: "s1", TotalChunks: 2, TotalSize: 65536 + 28 + 29, ChunkSize: 65536, Metadata: api.Sealed{IV: make([]byte, 12), Data: make([]byte, 16)}}
	limits := api.ContentLimits{MaxChunkSize: api.MaxChunkSize, MaxItemBytes: 1 << 30, SessionQuotaBytes: 1 << 30, SessionMaxItems: 10}
	if err := db.CreateContent(ctx, item, limits); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"s1/" + cid + "/0-0123456789abcdef", "s1/" + cid + "/1-0123456789abcdef"} {
		if err := db.BeginUpload(ctx, &api.Upload{ID: id, SessionID: "s1", ContentID: cid, Index: i, Size: item.BlobLength(i)}); err != nil {
			t.Fatal(err)
		}
		path, _ := db.ChunkPath("s1", cid, i)
		os.MkdirAll(filepath.Dir(path), 0o700)
		os.WriteFile(path, make([]byte, item.BlobLength(i)), 0o600)
	}
	first := "s1/" + cid + "/0-0123456789abcdef"
	path, _ := db.ChunkPath("s1", cid, 0)
	if err := u.finish(ctx, first, path); err != nil {
		t.Fatalf("first finish: %v", err)
	}
	if err := u.finish(ctx, first, path); err != nil {
		t.Fatalf("second finish of a recorded chunk: %v", err)
	}
	if err := db.AbandonUpload(ctx, "s1/"+cid+"/1-0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	path1, _ := db.ChunkPath("s1", cid, 1)
	if err := u.finish(ctx, "s1/"+cid+"/1-0123456789abcdef", path1); api.ErrorCode(err) != api.ENOTFOUND {
		t.Fatalf("finishing a forgotten upload whose chunk is not recorded: %v, want not_found", err)
	}
}
