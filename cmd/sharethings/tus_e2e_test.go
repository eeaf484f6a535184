package main

// End-to-end tests of tus uploads driven by tus-js-client, the library the browser app uses,
// through web/tools/tus-upload.mjs. They need Node and `make node-deps`; without them they fail
// rather than skip, so CI cannot pass without running them.

import (
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// completeInDB reads content_metadata.is_complete straight from the database, past the API.
func (s *testServer) completeInDB(t testing.TB, id string) bool {
	t.Helper()
	db := s.openDB(t)
	defer db.Close()
	var done bool
	if err := db.QueryRow(`SELECT is_complete FROM content_metadata WHERE session_id = 'team-alpha' AND content_id = $1`, id).Scan(&done); err != nil {
		t.Fatalf("is_complete of %s: %v", id, err)
	}
	return done
}

func TestTusRoundTripSizes(t *testing.T) {
	requireNodeTools(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	everyByte := func(it *item) {
		// The plaintext part of the one blob holds every byte value, in order.
		for i := range 256 {
			it.blobs[0][12+i] = byte(i)
		}
	}
	for i, tc := range []struct {
		name            string
		size, chunkSize int
		edit            func(*item)
	}{
		{"Empty", 0, 4 * miB, nil},
		{"OneByte", 1, 4 * miB, nil},
		{"ChunkSizeMinusOne", 4*miB - 1, 4 * miB, nil},
		{"ChunkSize", 4 * miB, 4 * miB, nil},
		{"ChunkSizePlusOne", 4*miB + 1, 4 * miB, nil},
		{"ThirteenMiB", 13 * miB, 4 * miB, nil},
		{"EveryByteValue", 256, 64 * kiB, everyByte},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := newItemFrom(t, seededRand(uint64(i)), tc.size, tc.chunkSize)
			if tc.edit != nil {
				tc.edit(it)
			}
			srv.requireAnnounce(t, token, it)
			n := len(it.blobs)
			if n > 1 {
				first := make([]int, n-1)
				for j := range first {
					first[j] = j
				}
				runUploader(t, newUploadJob(t, srv, token, it, first...))
			}
			// Every chunk but the last is in: the item must not be complete yet.
			if st := srv.itemState(t, token, it.id); st.Complete || st.ReceivedChunks != n-1 || srv.completeInDB(t, it.id) {
				t.Fatalf("before the last chunk: %+v, is_complete %v", st, srv.completeInDB(t, it.id))
			}
			runUploader(t, newUploadJob(t, srv, token, it, n-1))
			if !srv.completeInDB(t, it.id) {
				t.Fatal("is_complete is still 0 after the last chunk")
			}
			srv.requireDownloads(t, token, it)
			srv.requireChunkFiles(t, it)
		})
	}
}

// A resumable chunk: 4 MiB of plaintext, one blob of 4 MiB + 28 bytes, sent in 256 KiB PATCHes.
const (
	resumeChunkPlain = 4 * miB
	resumePatchSize  = 256 * kiB
	resumeTrials     = 20
)

func TestTusResumeAfterClientCut(t *testing.T) {
	requireNodeTools(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	token := srv.session(t)
	for trial := range resumeTrials {
		t.Run(fmt.Sprintf("Trial%02d", trial), func(t *testing.T) {
			rng := seededRand(uint64(trial))
			it := newItemFrom(t, rng, resumeChunkPlain, resumeChunkPlain)
			srv.requireAnnounce(t, token, it)
			size := it.totalSize()
			cut := newUploadJob(t, srv, token, it, 0)
			cut.PatchSize = resumePatchSize
			cut.StopAfterBytes = 1 + int64(mrand.New(rng).Uint64N(uint64(size-1)))

			first := startUploader(t, cut)
			events := first.finish()
			created, aborted := findEvent(events, "created"), findEvent(events, "aborted")
			if first.err != nil || created == nil || aborted == nil || aborted.URL != created.URL {
				first.fatalf("cut after %d of %d bytes: want a created and an aborted event with one URL", cut.StopAfterBytes, size)
			}

			resume := newUploadJob(t, srv, token, it, 0)
			resume.PatchSize = resumePatchSize
			resume.Resume = map[int]string{0: aborted.URL}
			second := startUploader(t, resume)
			events = second.requireDone(resume)
			// onUploadUrlAvailable after a HEAD prints "resumed"; a new creation would print "created".
			if findEvent(events, "created") != nil || findEvent(events, "resumed") == nil || findEvent(events, "done").URL != aborted.URL {
				second.fatalf("resume of %s: want HEAD then PATCH on that URL, no new upload", aborted.URL)
			}
			srv.requireDownloads(t, token, it)
		})
	}
}

func TestTusResumeAfterServerKill(t *testing.T) {
	requireNodeTools(t)
	p := startProcess(t, buildBinary(t), "--min-kdf-iterations", "1000", "--join-rate", "1000")
	token := p.client(t).session(t)
	resumed := 0
	for trial := range resumeTrials {
		t.Run(fmt.Sprintf("Trial%02d", trial), func(t *testing.T) {
			if !p.alive() {
				p.restart(t) // an earlier trial failed between kill and start
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("server logs:\n%s", p.logs.String())
				}
			})
			srv := p.client(t)
			rng := seededRand(uint64(1000 + trial))
			it := newItemFrom(t, rng, resumeChunkPlain, resumeChunkPlain)
			srv.requireAnnounce(t, token, it)
			killAt := 1 + int64(mrand.New(rng).Uint64N(uint64(it.totalSize()-1)))

			job := newUploadJob(t, srv, token, it, 0)
			job.PatchSize = resumePatchSize
			// tus-js-client's default delays give up 6.3 s after the kill; a loaded CI machine
			// may take longer to start the server again, so the tail is longer here.
			job.RetryDelays = []int{0, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600}
			up := startUploader(t, job)
			killed := false
			for ev, ok := up.next(); ok; ev, ok = up.next() {
				if !killed && ev.Event == "progress" && ev.Sent >= killAt {
					killed = true
					p.restart(t)
					if p.url != srv.url {
						t.Fatalf("restarted on %s, want %s", p.url, srv.url)
					}
				}
			}
			events := up.requireDone(job)
			if !killed {
				up.fatalf("progress never reached %d bytes, so the server was never killed", killAt)
			}
			if findEvent(events, "resumed") != nil {
				resumed++
			}
			srv.requireDownloads(t, token, it)
		})
	}
	// Not asserted: a kill may land after the last byte, and then there is nothing to resume.
	t.Logf("%d of %d trials resumed with HEAD + PATCH after the kill", resumed, resumeTrials)
}

func TestTusRefusesWithProblems(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	alpha, zurich := srv.joinToken(t, v[0]), srv.joinToken(t, v[1])

	// Fixtures: a two-chunk item whose chunk 1 is stored and whose chunk 0 has an unfinished
	// upload holding its first 1000 bytes.
	it := newItemFrom(t, seededRand(7), 64*kiB+10, 64*kiB)
	srv.requireAnnounce(t, alpha, it)
	long, short := int64(len(it.blobs[0])), int64(len(it.blobs[1]))
	stored := srv.tusCreate(t, alpha, "team-alpha", it.id, 1, short, nil)
	if stored.status != http.StatusCreated {
		t.Fatalf("create chunk 1: %d %s", stored.status, stored.body)
	}
	if r := srv.tus(t, http.MethodPatch, stored.header.Get("Location"), alpha, it.blobs[1], "Upload-Offset", "0"); r.status != http.StatusNoContent {
		t.Fatalf("upload chunk 1: %d %s", r.status, r.body)
	}
	running := srv.tusCreate(t, alpha, "team-alpha", it.id, 0, long, nil)
	pending := running.header.Get("Location")
	if running.status != http.StatusCreated || pending == "" {
		t.Fatalf("create chunk 0: %d %s", running.status, running.body)
	}
	if r := srv.tus(t, http.MethodPatch, pending, alpha, it.blobs[0][:1000], "Upload-Offset", "0"); r.status != http.StatusNoContent {
		t.Fatalf("first bytes of chunk 0: %d %s", r.status, r.body)
	}
	pendingURL, _ := url.Parse(pending)
	maxBlob := int64(srv.cfg.MaxChunkSize + chunkOverhead)

	for _, tc := range []struct {
		name   string
		status int
		code   string // empty for HEAD: its answer has no body
		send   func(t *testing.T) response
	}{
		{"ErrChunkOutOfRange", 400, "chunk_out_of_range", func(t *testing.T) response {
			return srv.tusCreate(t, alpha, "team-alpha", it.id, 2, short, nil)
		}},
		{"ErrForbiddenOtherSession", 403, "forbidden", func(t *testing.T) response {
			return srv.tusCreate(t, alpha, "Zurich", it.id, 0, long, nil)
		}},
		{"ErrContentNotFound", 404, "content_not_found", func(t *testing.T) response {
			return srv.tusCreate(t, alpha, "team-alpha", newUUID(), 0, short, nil)
		}},
		{"ErrTooLarge", 413, "too_large", func(t *testing.T) response {
			return srv.tusCreate(t, alpha, "team-alpha", it.id, 0, maxBlob+1, nil)
		}},
		{"ErrWrongLength", 400, "invalid_request", func(t *testing.T) response {
			return srv.tusCreate(t, alpha, "team-alpha", it.id, 0, short, nil)
		}},
		{"ErrChunkExists", 409, "chunk_exists", func(t *testing.T) response {
			return srv.tusCreate(t, alpha, "team-alpha", it.id, 1, short, nil)
		}},
		{"ErrChunkInProgress", 409, "chunk_in_progress", func(t *testing.T) response {
			r := srv.tusCreate(t, alpha, "team-alpha", it.id, 0, long, nil)
			if got, _ := r.json(t)["uploadUrl"].(string); got != pendingURL.Path && got != pending {
				t.Errorf("uploadUrl %q, want the unfinished upload %s", got, pending)
			}
			return r
		}},
		{"ErrTraversalContentID", 400, "invalid_content_id", func(t *testing.T) response {
			return srv.tusCreate(t, alpha, "team-alpha", "../../x", 0, short, nil)
		}},
		{"ErrTraversalSessionID", 400, "invalid_session_id", func(t *testing.T) response {
			return srv.tusCreate(t, alpha, "../x", it.id, 0, short, nil)
		}},
		{"ErrTermination", 405, "method_not_allowed", func(t *testing.T) response {
			return srv.tus(t, http.MethodDelete, pending, alpha, nil)
		}},
		{"ErrTerminationByOverride", 405, "method_not_allowed", func(t *testing.T) response {
			return srv.tus(t, http.MethodPost, pending, alpha, nil, "X-HTTP-Method-Override", "DELETE")
		}},
		{"ErrHeadOtherSession", 404, "", func(t *testing.T) response {
			return srv.tus(t, http.MethodHead, pending, zurich, nil)
		}},
		{"ErrPatchOtherSession", 404, "not_found", func(t *testing.T) response {
			return srv.tus(t, http.MethodPatch, pending, zurich, it.blobs[0][1000:], "Upload-Offset", "1000")
		}},
		{"ErrNoTokenCreate", 401, "unauthorized", func(t *testing.T) response {
			return srv.tusCreate(t, "", "team-alpha", it.id, 0, long, nil)
		}},
		{"ErrNoTokenHead", 401, "", func(t *testing.T) response {
			return srv.tus(t, http.MethodHead, pending, "", nil)
		}},
		{"ErrNoTokenPatch", 401, "unauthorized", func(t *testing.T) response {
			return srv.tus(t, http.MethodPatch, pending, "", it.blobs[0][1000:], "Upload-Offset", "1000")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.snapshot()
			r := tc.send(t)
			if tc.code != "" {
				r.requireProblem(t, tc.status, tc.code)
			} else if ct := r.header.Get("Content-Type"); r.status != tc.status || ct != "application/problem+json" {
				t.Fatalf("status %d Content-Type %q, want %d application/problem+json", r.status, ct, tc.status)
			}
			if after := srv.snapshot(); after != before {
				t.Fatalf("refused request changed state:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}

	t.Run("RefusedTerminationLeavesUploadResumable", func(t *testing.T) {
		head := srv.tus(t, http.MethodHead, pending, alpha, nil)
		if head.status != http.StatusOK || head.header.Get("Upload-Offset") != "1000" {
			t.Fatalf("HEAD %s: %d offset %q", pending, head.status, head.header.Get("Upload-Offset"))
		}
		if r := srv.tus(t, http.MethodPatch, pending, alpha, it.blobs[0][1000:], "Upload-Offset", "1000"); r.status != http.StatusNoContent {
			t.Fatalf("resume chunk 0: %d %s", r.status, r.body)
		}
		srv.requireDownloads(t, alpha, it)
	})
}

// TestUploadWithCutInfoIsForgotten: a server killed while tusd writes a new upload's .info
// leaves it empty. That creation was never answered, so nothing of it was acknowledged; the
// upload is forgotten, so HEAD answers 404 (not 500 forever) and a new creation for the chunk
// succeeds (instead of being sent back to the broken upload). A server alone forgets it at
// its next start; instances sharing a database, which cannot tell it from a creation another
// is writing now, once it is a minute old, at start or at the next sweep.
func TestUploadWithCutInfoIsForgotten(t *testing.T) {
	cutInfo := func(t *testing.T) (*testServer, *clock, string, *item, string) {
		cfg, clk := testConfig(t)
		srv := startServer(t, cfg, clk)
		token := srv.session(t)
		it := newItem(t, 100, 64*kiB)
		srv.requireAnnounce(t, token, it)
		created := srv.tusCreate(t, token, "team-alpha", it.id, 0, int64(len(it.blobs[0])), nil)
		if created.status != http.StatusCreated {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		id := strings.TrimPrefix(created.header.Get("Location"), srv.url+uploadPath)
		if err := os.Truncate(filepath.Join(cfg.DataDir, "uploads", id+".info"), 0); err != nil {
			t.Fatal(err)
		}
		return srv, clk, token, it, id
	}
	requireForgotten := func(t *testing.T, srv *testServer, token string, it *item, id string) {
		t.Helper()
		head := srv.request(t, http.MethodHead, srv.url+uploadPath+id, token, nil, "Tus-Resumable", "1.0.0")
		if head.status != http.StatusNotFound {
			t.Fatalf("HEAD on the cut upload: %d, want 404", head.status)
		}
		if r := srv.postChunk(t, token, "team-alpha", it, 0); r.status != http.StatusCreated {
			t.Fatalf("a new upload of the chunk: %d %s", r.status, r.body)
		}
		if !srv.completeInDB(t, it.id) {
			t.Fatal("the item is not complete after the new upload")
		}
	}
	t.Run("AtStart", func(t *testing.T) {
		srv, clk, token, it, id := cutInfo(t)
		srv.shutdown()
		if srv.cfg.DatabaseURL != "" {
			clk.Advance(time.Minute)
		}
		srv = srv.restart()
		requireForgotten(t, srv, token, it, id)
	})
	t.Run("BySweep", func(t *testing.T) {
		srv, clk, token, it, id := cutInfo(t)
		clk.Advance(time.Minute)
		srv.app.Sweep(t.Context())
		requireForgotten(t, srv, token, it, id)
	})
}
