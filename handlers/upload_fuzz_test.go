package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/sharethings/sharethings/api"
)

// createUpload starts the tus upload of chunk 0 of cid and returns its id.
func (fs *fuzzServer) createUpload(f *testing.F, token, sid, cid string) string {
	f.Helper()
	h := bearer(token, "")
	h.Set("Tus-Resumable", "1.0.0")
	h.Set("Upload-Length", strconv.Itoa(fuzzBlob0))
	h.Set("Upload-Metadata", "sessionId "+b64(sid)+",contentId "+b64(cid)+",chunkIndex "+b64("0"))
	w := fs.do(http.MethodPost, uploadPath, h, nil)
	if w.Code != http.StatusCreated {
		f.Fatalf("create upload: %d %s", w.Code, w.Body)
	}
	id, ok := strings.CutPrefix(w.Header().Get("Location"), "http://example.com"+uploadPath)
	if !ok {
		f.Fatalf("Location %q", w.Header().Get("Location"))
	}
	return id
}

// FuzzUploadGate: HEAD and PATCH reach an upload only with a token of the upload's own
// session. Whatever the method, X-HTTP-Method-Override, path (escaped, with dot segments,
// doubled slashes) and credentials — none, garbage, or another session's token — a request
// without alice's token never reads alice's upload offset, never changes its bytes, and
// never gets a 5xx. Alice's own requests are exercised too, and must not 5xx either.
//
// Paths may use {id} (alice's upload id), {sid} and {cid}.
func FuzzUploadGate(f *testing.F) {
	fs := newFuzzServer(f)
	alice, mallory := fs.join(f, "alice"), fs.join(f, "mallory")
	fs.announce(f, alice, "alice", fuzzCID)
	fs.announce(f, mallory, "mallory", fuzzCID)
	id := fs.createUpload(f, alice, "alice", fuzzCID)
	chunk, err := fs.db.ChunkPath("alice", fuzzCID, 0)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"/{id}", "/{id}/", "//{id}", "/{sid}/{cid}/0-0123456789abcdef", "/{sid}%2F{cid}%2F0-0123456789abcdef",
		"/mallory/../{id}", "/mallory/{cid}/../../{id}", "/./{id}", "/{id}%00", "/{id}?x=1", "/{id}#frag", "", "/",
		"/{sid}/{cid}/0-0123456789ABCDEF", "/mallory/{cid}/0-0123456789abcdef"} {
		for i, m := range [][2]string{{"HEAD", ""}, {"PATCH", ""}, {"POST", "PATCH"}, {"POST", "HEAD"}, {"GET", ""}, {"DELETE", ""}, {"POST", "DELETE"}, {"OPTIONS", ""}} {
			f.Add(m[0], m[1], p, uint8(i+len(p))%4, []byte("x")) // every credential on every path, over the methods
		}
	}
	f.Fuzz(func(t *testing.T, method, override, path string, auth uint8, body []byte) {
		path = strings.NewReplacer("{id}", id, "{sid}", "alice", "{cid}", fuzzCID).Replace(path)
		h := http.Header{}
		switch auth % 4 {
		case 1:
			h.Set("Authorization", "Bearer "+mallory)
		case 2:
			h.Set("Authorization", "Bearer not.a.token")
		case 3:
			h.Set("Authorization", "Bearer "+alice)
		}
		if override != "" {
			h["X-Http-Method-Override"] = []string{override}
		}
		before := fileSize(chunk)
		h.Set("Tus-Resumable", "1.0.0")
		h.Set("Content-Type", "application/offset+octet-stream")
		h.Set("Upload-Offset", strconv.FormatInt(before, 10))
		w := fs.do(method, "/api/v1/uploads"+path, h, body[:min(len(body), 1024)])
		if w == nil {
			return // not a request a client can send
		}
		if w.Code >= 500 {
			t.Fatalf("%s (override %q) %s: %d %s", method, override, path, w.Code, w.Body)
		}
		if auth%4 == 3 {
			return
		}
		if after := fileSize(chunk); after != before {
			t.Fatalf("%s (override %q) %s without alice's token (auth %d) changed her chunk from %d to %d bytes: %d %q",
				method, override, path, auth%4, before, after, w.Code, w.Body)
		}
		if off := w.Header().Get("Upload-Offset"); off != "" {
			t.Fatalf("%s (override %q) %s without alice's token (auth %d) read her upload: %d, Upload-Offset %s",
				method, override, path, auth%4, w.Code, off)
		}
	})
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}

// FuzzUploadCreate: the tus creation request with arbitrary Upload-Metadata and
// Upload-Length. The server reads the metadata with tusd's parser and then must answer as
// PROTOCOL §5 says: 201 only for alice's session, an announced item, an index in range and
// exactly that chunk's blob length; the documented problem otherwise. A created upload has
// an id of the checked form in alice's session, keeps exactly the three metadata keys and
// writes to the chunk's own path.
//
// Metadata may use {sid} and {cid} (alice's, base64) and {other} (a valid, unannounced
// content id); the length may be {len0} or {len1}.
func FuzzUploadCreate(f *testing.F) {
	fs := newFuzzServer(f)
	alice := fs.join(f, "alice")
	fs.announce(f, alice, "alice", fuzzCID)
	const other = "11111111-2222-4333-8444-555555555555"
	for _, c := range [][2]string{
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("0"), "{len0}"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("1"), "{len1}"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("1"), "{len0}"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("2"), "{len1}"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("01"), "{len1}"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("-1"), "{len1}"},
		{"sessionId {sid},contentId {other},chunkIndex " + b64("0"), "{len0}"},
		{"sessionId " + b64("mallory") + ",contentId {cid},chunkIndex " + b64("0"), "{len0}"},
		{"sessionId " + b64("../alice") + ",contentId {cid},chunkIndex " + b64("0"), "{len0}"},
		{"sessionId {sid},contentId " + b64("../../etc") + ",chunkIndex " + b64("0"), "{len0}"},
		{"sessionId {sid},contentId " + b64(strings.ToUpper(fuzzCID)) + ",chunkIndex " + b64("0"), "{len0}"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("0") + ",filename " + b64("secret.pdf"), "{len0}"},
		{"sessionId {sid},sessionId " + b64("mallory") + ",contentId {cid},chunkIndex " + b64("0"), "{len0}"},
		{"sessionId {sid} ,contentId {cid},chunkIndex " + b64("1"), "{len1}"},
		{"sessionId  {sid},contentId {cid},chunkIndex " + b64("1"), "{len1}"},
		{"sessionId {sid},contentId {cid},chunkIndex", "{len1}"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("1"), ""},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("1"), "+29"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("1"), "029"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("1"), "16777245"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("1"), "16777244"},
		{"sessionId {sid},contentId {cid},chunkIndex " + b64("1"), "99999999999999999999"},
		{"", "{len0}"},
	} {
		f.Add(c[0], c[1])
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, meta, length string) {
		meta = strings.NewReplacer("{sid}", b64("alice"), "{cid}", b64(fuzzCID), "{other}", b64(other)).Replace(meta)
		length = strings.NewReplacer("{len0}", strconv.Itoa(fuzzBlob0), "{len1}", strconv.Itoa(fuzzBlob1)).Replace(length)
		h := bearer(alice, "")
		h.Set("Tus-Resumable", "1.0.0")
		h["Upload-Metadata"] = []string{meta}
		if length != "" {
			h["Upload-Length"] = []string{length}
		}
		w := fs.do(http.MethodPost, uploadPath, h, nil)
		if w == nil {
			t.Fatalf("request with metadata %q, length %q not built", meta, length)
		}
		status, code, index := fs.createVerdict(meta, length)
		wantAnswer(t, w, status, code)
		if status != http.StatusCreated {
			return
		}
		id, _ := strings.CutPrefix(w.Header().Get("Location"), "http://example.com"+uploadPath)
		m := uploadIDPattern.FindStringSubmatch(id)
		if m == nil || m[1] != "alice" || m[2] != fuzzCID || m[3] != strconv.Itoa(index) {
			t.Fatalf("created upload %q for chunk %d", w.Header().Get("Location"), index)
		}
		var info tusd.FileInfo
		raw, err := os.ReadFile(filepath.Join(fs.srv.Chunks.UploadDir(), id+".info"))
		if err != nil || json.Unmarshal(raw, &info) != nil {
			t.Fatalf("upload info: %v", err)
		}
		keys := make([]string, 0, len(info.MetaData))
		for k := range info.MetaData {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"chunkIndex", "contentId", "sessionId"}) || info.MetaData["chunkIndex"] != strconv.Itoa(index) {
			t.Fatalf("upload keeps metadata %v", info.MetaData)
		}
		chunk, _ := fs.db.ChunkPath("alice", fuzzCID, index)
		if info.Storage["Path"] != chunk {
			t.Fatalf("upload writes to %q, not %q", info.Storage["Path"], chunk)
		}
		// Forget it, so that the next creation of this chunk is decided by its headers again.
		if err := fs.db.AbandonUpload(ctx, id); err != nil {
			t.Fatal(err)
		}
		os.Remove(chunk)
		os.Remove(filepath.Join(fs.srv.Chunks.UploadDir(), id+".info"))
	})
}

// createVerdict is the answer a creation must get: the gate's length check, then the
// metadata as tusd parses it, checked in the order of PROTOCOL §5 against the announced
// two-chunk item.
func (fs *fuzzServer) createVerdict(meta, length string) (status int, code string, index int) {
	n, err := parseUint(length)
	switch {
	case err != nil:
		return http.StatusBadRequest, api.EINVALID, 0
	case n > int64(fs.opts.MaxChunkSize+api.ChunkOverhead):
		return http.StatusRequestEntityTooLarge, api.ETOOLARGE, 0
	}
	md := tusd.ParseMetadataHeader(meta)
	index, idxErr := api.ParseChunkIndex(md["chunkIndex"])
	switch {
	case api.ValidateSessionID(md["sessionId"]) != nil:
		return http.StatusBadRequest, api.EINVALIDSESSIONID, 0
	case md["sessionId"] != "alice":
		return http.StatusForbidden, api.EFORBIDDEN, 0
	case api.ValidateContentID(md["contentId"]) != nil:
		return http.StatusBadRequest, api.EINVALIDCONTENTID, 0
	case idxErr != nil:
		return http.StatusBadRequest, api.EINVALID, 0
	case md["contentId"] != fuzzCID:
		return http.StatusNotFound, api.ECONTENTNOTFOUND, 0
	case index >= 2:
		return http.StatusBadRequest, api.ECHUNKOUTOFRANGE, 0
	case n != []int64{fuzzBlob0, fuzzBlob1}[index]:
		return http.StatusBadRequest, api.EINVALID, 0
	}
	return http.StatusCreated, "", index
}
