package main

// Test items and how they reach the server: random blobs standing in for encrypted chunks, the
// announce and tus requests that upload them, and checks of what the server then stores.

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
	"testing"
)

const (
	kiB = 1 << 10
	miB = 1 << 20
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

// uploadSmall uploads an item of n chunks of 64 KiB at most: content.created, n ×
// content.chunk, content.completed.
func (s *testServer) uploadSmall(t *testing.T, token string, chunks int) *item {
	t.Helper()
	it := newItem(t, (chunks-1)*64*kiB+100, 64*kiB)
	s.upload(t, token, it)
	return it
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
