package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
)

// FuzzReadJoin: the join body decoder and validation, as joinSession runs them. Accepted
// exactly when the media type is application/json, the body is one JSON object of the
// JoinRequest shape, the name is 1-64 characters without control characters once trimmed,
// the fingerprint has the shape this session id needs and any kdf is supported. Refusals
// are invalid_request, or unsupported_kdf for the kdf; what is accepted is normalised.
func FuzzReadJoin(f *testing.F) {
	gin.SetMode(gin.ReleaseMode)
	s := NewServer(Services{}, nil, Options{MinKDFIterations: 1000}, time.Now)
	fp := func(sid string) string {
		b, _ := json.Marshal(api.Fingerprint{IV: make([]byte, 12), Data: make([]byte, len(sid)+16)})
		return string(b)
	}
	kdf := `{"alg":"PBKDF2-SHA256","iterations":600000,"salt":"ByZFZIOiweD/Hj1ce5q52A=="}`
	for _, c := range []struct{ sid, ct, body string }{
		{"team-alpha", "application/json", `{"clientName":"Alice","fingerprint":` + fp("team-alpha") + `,"kdf":` + kdf + `}`},
		{"team-alpha", "application/json; charset=utf-8", `{"clientName":"  Bob  ","fingerprint":` + fp("team-alpha") + `}`},
		{"team-alpha", "Application/JSON", `{"clientname":"Bob","FINGERPRINT":` + fp("team-alpha") + `,"kdf":null}`},
		{"team-alpha", "text/plain", `{"clientName":"Alice","fingerprint":` + fp("team-alpha") + `}`},
		{"team-alpha", "", `{}`},
		{"team-alpha", "application/json", ``},
		{"team-alpha", "application/json", `null`},
		{"team-alpha", "application/json", `[]`},
		{"team-alpha", "application/json", `{"clientName":"Alice","fingerprint":` + fp("team-alpha") + `}{}`},
		{"team-alpha", "application/json", `{"clientName":"Alice","fingerprint":` + fp("team-alph") + `}`},
		{"team-alpha", "application/json", `{"clientName":"a\u0000b","fingerprint":` + fp("team-alpha") + `}`},
		{"team-alpha", "application/json", `{"clientName":"` + strings.Repeat("é", 65) + `","fingerprint":` + fp("team-alpha") + `}`},
		{"team-alpha", "application/json", `{"clientName":"\u2028\u00a0x\u3000","fingerprint":` + fp("team-alpha") + `}`},
		{"team-alpha", "application/json", `{"clientName":"x","fingerprint":` + fp("team-alpha") + `,"kdf":{"alg":"scrypt","iterations":1,"salt":""}}`},
		{"team-alpha", "application/json", `{"clientName":"x","fingerprint":` + fp("team-alpha") + `,"kdf":{"alg":"PBKDF2-SHA256","iterations":999,"salt":"ByZFZIOiweD/Hj1ce5q52A=="}}`},
		{"team-alpha", "application/json", `{"clientName":1,"fingerprint":` + fp("team-alpha") + `}`},
		{"team-alpha", "application/json", `{"clientName":"x","fingerprint":{"iv":"!!","data":""}}`},
		{"../etc", "application/json", `{"clientName":"x","fingerprint":` + fp("../etc") + `}`},
	} {
		f.Add(c.sid, c.ct, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, sid, contentType string, body []byte) {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodPost, "/api/v1/sessions/x/join", bytes.NewReader(body))
		if contentType != "" {
			c.Request.Header["Content-Type"] = []string{contentType}
		}
		in, err := s.readJoin(c, sid)
		wantCode := joinVerdict(contentType, body, sid, s.Options.MinKDFIterations)
		if wantCode != "" {
			if err == nil {
				t.Fatalf("readJoin accepted %q (%q) for %q as %+v, want %s", body, contentType, sid, in, wantCode)
			}
			wantAPIError(t, "readJoin", err, wantCode)
			return
		}
		if err != nil {
			t.Fatalf("readJoin refused %q (%q) for %q: %v", body, contentType, sid, err)
		}
		name := in.ClientName
		if n := utf8.RuneCountInString(name); !utf8.ValidString(name) || n < 1 || n > api.MaxClientNameLen ||
			strings.TrimSpace(name) != name || strings.IndexFunc(name, unicode.IsControl) >= 0 {
			t.Fatalf("accepted client name %q", name)
		}
		if again, err := api.NormalizeClientName(name); err != nil || again != name {
			t.Fatalf("client name %q does not normalise to itself: %q, %v", name, again, err)
		}
		if in.SessionID != sid || in.Fingerprint.Validate(sid) != nil || in.KDF != nil && in.KDF.Validate(s.Options.MinKDFIterations) != nil {
			t.Fatalf("accepted join %+v for %q", in, sid)
		}
	})
}

// joinVerdict is the code readJoin must refuse with, or "" to accept, decided with the
// standard library's decoder and the api validators in the order the protocol lists them.
func joinVerdict(contentType string, body []byte, sid string, minIterations int) string {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return api.EINVALID
	}
	var req JoinRequest
	if len(body) > maxJSONBody || json.Unmarshal(body, &req) != nil {
		return api.EINVALID
	}
	if _, err := api.NormalizeClientName(req.ClientName); err != nil {
		return api.EINVALID
	}
	if req.Fingerprint.Validate(sid) != nil {
		return api.EINVALID
	}
	if req.KDF != nil && req.KDF.Validate(minIterations) != nil {
		return api.EUNSUPPORTEDKDF
	}
	return ""
}

// FuzzAnnounce: POST …/contents through the real router and store. The answer is decided by
// the body alone — 201 with the item as announced, or the documented refusal (400
// invalid_request / invalid_content_id for malformed bodies, ids and counts, 413 too_large
// over maxItemBytes) as a problem document — never a 500.
func FuzzAnnounce(f *testing.F) {
	fs := newFuzzServer(f)
	token := fs.join(f, "alice")
	meta := `{"iv":"TWyLqsnoByZFZIOi","data":"Jp0rWpnnZhXcExxLJh9Wx2LWkRNASnZcuWXVVDLr+1UH0ibx"}`
	for _, body := range []string{
		`{"contentId":"` + fuzzCID + `","totalChunks":3,"totalSize":131157,"chunkSize":65536,"metadata":` + meta + `}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":1,"totalSize":28,"chunkSize":65536,"metadata":` + meta + `}`,
		`{"contentId":"` + strings.ToUpper(fuzzCID) + `","totalChunks":1,"totalSize":28,"chunkSize":65536,"metadata":` + meta + `}`,
		`{"contentId":"../../etc/passwd","totalChunks":1,"totalSize":28,"chunkSize":65536,"metadata":` + meta + `}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":2,"totalSize":131157,"chunkSize":65536,"metadata":` + meta + `}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":1,"totalSize":28,"chunkSize":65535,"metadata":` + meta + `}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":17,"totalSize":1073742300,"chunkSize":67108864,"metadata":` + meta + `}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":65,"totalSize":1073743644,"chunkSize":16777216,"metadata":` + meta + `}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":1,"totalSize":28,"chunkSize":65536,"metadata":{"iv":"","data":""}}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":1,"totalSize":28,"chunkSize":65536}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":1e3,"totalSize":28,"chunkSize":65536,"metadata":` + meta + `}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":9223372036854775807,"totalSize":-9223372036854775808,"chunkSize":65536,"metadata":` + meta + `}`,
		`{"contentId":"` + fuzzCID + `","totalChunks":1,"totalSize":28,"chunkSize":65536,"metadata":` + meta + `} trailing`,
		`{}`, `null`, ``, `[`, `"x"`,
	} {
		f.Add([]byte(body))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxJSONBody {
			return
		}
		w := fs.do(http.MethodPost, "/api/v1/sessions/alice/contents", bearer(token, "application/json"), body)
		status, code, req := fs.announceVerdict(body)
		wantAnswer(t, w, status, code)
		if status != http.StatusCreated {
			return
		}
		var res AnnounceResponse
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || res.Item == nil {
			t.Fatalf("201 body %s: %v", w.Body, err)
		}
		it := res.Item
		if it.ID != req.ContentID || it.TotalChunks != req.TotalChunks || it.TotalSize != req.TotalSize || it.ChunkSize != req.ChunkSize ||
			!bytes.Equal(it.Metadata.IV, req.Metadata.IV) || !bytes.Equal(it.Metadata.Data, req.Metadata.Data) || it.Complete || it.ReceivedChunks != 0 ||
			res.UploadURL != uploadPath {
			t.Fatalf("announced %+v, answered %s", req, w.Body)
		}
		stored, _, err := fs.db.FindContent(ctx, "alice", req.ContentID)
		if err != nil || stored.TotalSize != req.TotalSize {
			t.Fatalf("announced item not stored as announced: %+v, %v", stored, err)
		}
		// Forget it, so that the next announce of the same id is decided by its body again.
		if err := fs.db.DeleteContent(ctx, "alice", req.ContentID); err != nil {
			t.Fatal(err)
		}
	})
}

// announceVerdict is the answer an announce body must get, from the standard library's
// decoder and the api validators in the order of PROTOCOL §4.
func (fs *fuzzServer) announceVerdict(body []byte) (int, string, AnnounceRequest) {
	var req AnnounceRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, api.EINVALID, req
	}
	item := &api.Content{ID: req.ContentID, TotalChunks: req.TotalChunks, TotalSize: req.TotalSize, ChunkSize: req.ChunkSize, Metadata: req.Metadata}
	switch {
	case api.ValidateContentID(item.ID) != nil:
		return http.StatusBadRequest, api.EINVALIDCONTENTID, req
	case item.ValidateCounts(fs.opts.MaxChunkSize) != nil, item.Metadata.Validate() != nil:
		return http.StatusBadRequest, api.EINVALID, req
	case item.TotalSize > fs.opts.MaxItemBytes:
		return http.StatusRequestEntityTooLarge, api.ETOOLARGE, req
	}
	return http.StatusCreated, "", req
}

// FuzzPatchContent: PATCH …/contents/{cid} through the real router and store. A body with
// pinned and/or valid metadata changes exactly those and answers the item as it now is;
// an empty patch, malformed JSON or malformed metadata is 400 invalid_request and changes
// nothing.
func FuzzPatchContent(f *testing.F) {
	fs := newFuzzServer(f)
	token := fs.join(f, "alice")
	fs.announce(f, token, "alice", fuzzCID)
	meta := `{"iv":"TWyLqsnoByZFZIOi","data":"Jp0rWpnnZhXcExxLJh9Wx2LWkRNASnZcuWXVVDLr+1UH0ibx"}`
	for _, body := range []string{
		`{"pinned":true}`, `{"pinned":false}`, `{"metadata":` + meta + `}`, `{"pinned":true,"metadata":` + meta + `}`,
		`{}`, `{"pinned":null}`, `{"pinned":"true"}`, `{"pinned":1}`, `{"metadata":null}`, `{"metadata":{}}`,
		`{"metadata":{"iv":"TWyLqsnoByZFZIOi","data":""}}`, `{"metadata":{"iv":"AAAA","data":"Jp0rWpnnZhXcExxLJh9Wx2LWkRNASnZcuWXVVDLr+1UH0ibx"}}`,
		`{"Pinned":true}`, `{"pinned":true,"pinned":false}`, `{"pinned":true}{"pinned":false}`, `null`, ``, `[]`,
		`{"pinned":true,"contentId":"../x","totalSize":1}`,
	} {
		f.Add([]byte(body))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxJSONBody {
			return
		}
		before, _, err := fs.db.FindContent(ctx, "alice", fuzzCID)
		if err != nil {
			t.Fatal(err)
		}
		w := fs.do(http.MethodPatch, "/api/v1/sessions/alice/contents/"+fuzzCID, bearer(token, "application/json"), body)
		var req ContentPatch
		switch err := json.Unmarshal(body, &req); {
		case err != nil, req.Pinned == nil && req.Metadata == nil, req.Metadata != nil && req.Metadata.Validate() != nil:
			wantAnswer(t, w, http.StatusBadRequest, api.EINVALID)
		default:
			wantAnswer(t, w, http.StatusOK, "")
		}
		after, _, err := fs.db.FindContent(ctx, "alice", fuzzCID)
		if err != nil {
			t.Fatal(err)
		}
		want := *before
		if w.Code == http.StatusOK {
			if req.Pinned != nil {
				want.Pinned = *req.Pinned
			}
			if req.Metadata != nil {
				want.Metadata = *req.Metadata
			}
			var answered api.Content
			if err := json.Unmarshal(w.Body.Bytes(), &answered); err != nil || !sameItem(&answered, after) {
				t.Fatalf("answered %s, stored %+v", w.Body, after)
			}
		}
		if !sameItem(after, &want) {
			t.Fatalf("patch %q: stored %+v, want %+v", body, after, want)
		}
	})
}

func sameItem(a, b *api.Content) bool {
	return a.ID == b.ID && a.Pinned == b.Pinned && a.TotalSize == b.TotalSize && a.TotalChunks == b.TotalChunks &&
		bytes.Equal(a.Metadata.IV, b.Metadata.IV) && bytes.Equal(a.Metadata.Data, b.Metadata.Data)
}
