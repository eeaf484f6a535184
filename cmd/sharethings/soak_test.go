package main

// TestCrashRestartSoak runs the real server binary under uploaders and event subscribers
// while a killer SIGKILLs and restarts it at random moments, then checks what a crash must
// never cost: an acknowledged chunk, an event (lost, repeated or out of order), an item's
// completion, a file without its row or a row without its file. It runs only when
// SHARETHINGS_SOAK names a duration, e.g. SHARETHINGS_SOAK=60s.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
	apiclient "github.com/sharethings/sharethings/api/client"
)

const (
	soakSessions   = 3
	soakPerSession = 2 // uploaders, and as many subscribers, in each session
	soakBigChunk   = 4 * miB
	// soakKeep is how many complete items an uploader keeps; it deletes older ones, which
	// bounds the disk a long soak takes and puts deletions under the kills too.
	soakKeep        = 8
	soakFinishLimit = time.Minute
)

// soakRetry outlasts any number of restarts: a soak client does not give up on the server.
var soakRetry = apiclient.RetryPolicy{Attempts: 1 << 30, MinDelay: 50 * time.Millisecond, MaxDelay: time.Second}

// soakItem is an announced item, which of its chunks the server acknowledged, and whether
// its deletion was.
type soakItem struct {
	randomItem
	sid     string
	acked   []bool
	deleted bool
}

func (it *soakItem) whole() bool { return !slices.Contains(it.acked, false) }

// soak is one run: the server, the clients, and what the clients were told.
type soak struct {
	t         *testing.T
	p         *process
	transport *watchedTransport
	hc        *http.Client
	creds     []loadCreds
	uploaders []*apiclient.Client
	recorders []*recorder
	stop      chan struct{} // closed: send no further chunk
	wg        sync.WaitGroup
	items     [][]*soakItem // per uploader; read after wg.Wait
	chunks    atomic.Int64
	bytes     atomic.Int64
}

func TestCrashRestartSoak(t *testing.T) {
	d, ok := envDuration(t, "SHARETHINGS_SOAK")
	if !ok {
		t.Skip("set SHARETHINGS_SOAK to a duration, e.g. 60s, to run the crash-restart soak")
	}
	p := startProcess(t, buildBinary(t), "--min-kdf-iterations", "1000", "--join-rate", "100000", "--session-max-items", "1000000")
	t.Cleanup(func() {
		if t.Failed() {
			logs := p.logs.String()
			t.Logf("server logs, last 16 KiB:\n%s", logs[max(0, len(logs)-16*kiB):])
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := newSoak(ctx, t, p)
	start := time.Now()
	uploads, stuck := context.WithCancel(ctx)
	defer stuck()
	s.startUploaders(uploads)
	kills := s.killUntil(start.Add(d))
	loaded := time.Since(start)
	s.finishUploads(stuck)

	db := p.client(t).openDB(t)
	waitCaughtUp(t, s.recorders, lastLogged(t, db, sessionIDs(s.creds)), 2*time.Minute)
	db.Close()
	s.checkDownloads(ctx)
	cancel()
	s.stopServer()
	s.logFigures(kills, loaded)
	s.checkStore()
}

// newSoak joins every client and opens the event streams before the first kill: joins are
// not retried.
func newSoak(ctx context.Context, t *testing.T, p *process) *soak {
	s := &soak{t: t, p: p, transport: newWatchedTransport(), stop: make(chan struct{})}
	s.hc = &http.Client{Transport: s.transport}
	for i := range soakSessions {
		s.creds = append(s.creds, newLoadCreds(t, fmt.Sprintf("soak-%d", i)))
	}
	for i := range soakSessions * soakPerSession {
		s.uploaders = append(s.uploaders, s.join(fmt.Sprintf("uploader-%d", i), i))
		name := fmt.Sprintf("subscriber-%d", i)
		s.recorders = append(s.recorders, startRecorder(ctx, s.join(name, i), name))
	}
	s.items = make([][]*soakItem, len(s.uploaders))
	return s
}

func (s *soak) join(name string, i int) *apiclient.Client {
	s.t.Helper()
	c, err := s.creds[i%len(s.creds)].join(s.t.Context(), s.p.url, name, s.hc, soakRetry)
	if err != nil {
		s.t.Fatalf("join %s: %v", name, err)
	}
	return c
}

// killUntil SIGKILLs and restarts the server every 1–4 s until end, on the test goroutine (a
// failed start fails the test), and returns the number of kills.
func (s *soak) killUntil(end time.Time) int {
	for kills := 0; ; kills++ {
		wait := time.Second + mrand.N(3*time.Second)
		if time.Until(end) < wait {
			time.Sleep(time.Until(end))
			return kills
		}
		time.Sleep(wait)
		s.p.restart(s.t)
	}
}

func (s *soak) startUploaders(ctx context.Context) {
	for i, c := range s.uploaders {
		s.wg.Go(func() { s.items[i] = s.uploader(ctx, c, i) })
	}
}

// finishUploads lets the chunks on their way finish and sends no more. Uploads still
// unfinished after the limit are an error, and are cancelled so that the other checks run.
func (s *soak) finishUploads(cancel context.CancelFunc) {
	close(s.stop)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(soakFinishLimit):
		cancel()
		<-done
		f := s.transport.failures()
		s.t.Errorf("uploads stuck %v after the last restart, the last failed requests:\n%s", soakFinishLimit, strings.Join(f[max(0, len(f)-6):], "\n"))
	}
}

func (s *soak) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// uploader announces items and uploads their chunks until stopped (possibly between the
// chunks of an item), noting each chunk the server acknowledged, and deletes old items.
func (s *soak) uploader(ctx context.Context, c *apiclient.Client, n int) []*soakItem {
	rng := mrand.New(mrand.NewPCG(uint64(n), 2))
	var items []*soakItem
	for i := uint64(0); !s.stopping(); i++ {
		it := &soakItem{randomItem: newRandomItem(rng, uint64(n)<<32|i, soakBigChunk), sid: c.CurrentSession()}
		blobs := it.blobs(s.t)
		it.acked = make([]bool, len(blobs))
		err := retried(ctx, func() error { _, err := c.Announce(ctx, it.announcement(blobs)); return err }, api.ECONFLICT)
		if err != nil {
			s.failed(ctx, "uploader %d: announce %s: %v", n, it.id, err)
			return items
		}
		items = append(items, it)
		if err := s.sendChunks(ctx, c, it, blobs); err != nil {
			s.failed(ctx, "uploader %d: %v", n, err)
			return items
		}
		if err := deleteOldest(ctx, c, items); err != nil {
			s.failed(ctx, "uploader %d, item %s: %v", n, it.id, err)
			return items
		}
	}
	return items
}

// failed reports an uploader's error, unless the uploads were cancelled as stuck, which
// finishUploads reports.
func (s *soak) failed(ctx context.Context, format string, args ...any) {
	if ctx.Err() == nil {
		s.t.Errorf(format, args...)
	}
}

// sendChunks uploads the chunks of an item until all are acknowledged or the soak stops.
func (s *soak) sendChunks(ctx context.Context, c *apiclient.Client, it *soakItem, blobs [][]byte) error {
	for i, b := range blobs {
		if s.stopping() {
			return nil
		}
		if err := c.UploadChunk(ctx, it.id, i, bytes.NewReader(b), int64(len(b)), nil); err != nil {
			return fmt.Errorf("chunk %d of %s: %w", i, it.id, err)
		}
		it.acked[i] = true
		s.chunks.Add(1)
		s.bytes.Add(int64(len(b)))
	}
	return nil
}

// deleteOldest deletes the oldest complete item once more than soakKeep are kept.
func deleteOldest(ctx context.Context, c *apiclient.Client, items []*soakItem) error {
	var kept []*soakItem
	for _, it := range items {
		if !it.deleted && it.whole() {
			kept = append(kept, it)
		}
	}
	if len(kept) <= soakKeep {
		return nil
	}
	old := kept[0]
	if err := retried(ctx, func() error { return c.Delete(ctx, old.id) }, api.ECONTENTNOTFOUND); err != nil {
		return fmt.Errorf("delete %s: %w", old.id, err)
	}
	old.deleted = true
	return nil
}

// retried repeats op through restarts until it succeeds or is refused for good. Announcing
// and deleting are not idempotent: landed is the code that, after a failed attempt, means
// that attempt went through (conflict, content_not_found).
func retried(ctx context.Context, op func() error, landed string) error {
	for attempt := 0; ; attempt++ {
		err := op()
		var e *apiclient.Error
		switch {
		case err == nil, attempt > 0 && apiclient.IsCode(err, landed):
			return nil
		case ctx.Err() != nil, errors.As(err, &e) && e.Status < 500 && e.Status != http.StatusTooManyRequests:
			return err
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// checkDownloads downloads every acknowledged chunk and compares it with what was sent.
func (s *soak) checkDownloads(ctx context.Context) {
	for i, items := range s.items {
		for _, it := range items {
			blobs := it.blobs(s.t)
			for idx, acked := range it.acked {
				if !acked || it.deleted {
					continue
				}
				var got bytes.Buffer
				if _, err := s.uploaders[i].DownloadChunk(ctx, it.id, idx, &got); err != nil || !bytes.Equal(got.Bytes(), blobs[idx]) {
					s.t.Errorf("acknowledged chunk %d of %s/%s downloads as %d bytes (%v), want the %d sent", idx, it.sid, it.id, got.Len(), err, len(blobs[idx]))
				}
			}
		}
	}
}

// stopServer stops the server as an operator would, with SIGTERM, once the streams are done.
func (s *soak) stopServer() {
	for _, rec := range s.recorders {
		<-rec.done
	}
	s.p.cmd.Process.Signal(syscall.SIGTERM)
	<-s.p.exited
	if s.p.err != nil {
		s.t.Errorf("the server's final stop: %v", s.p.err)
	}
}

func (s *soak) logFigures(kills int, loaded time.Duration) {
	items, whole, deleted, delivered := 0, 0, 0, 0
	for _, list := range s.items {
		for _, it := range list {
			items++
			if it.whole() {
				whole++
			}
			if it.deleted {
				deleted++
			}
		}
	}
	for _, rec := range s.recorders {
		delivered += len(rec.received())
	}
	var errs []string
	for _, line := range strings.Split(s.p.logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") || strings.HasPrefix(line, "panic") {
			errs = append(errs, line)
		}
	}
	if len(errs) > 0 {
		s.t.Logf("the server logged %d errors and warnings, e.g.:\n%s", len(errs), strings.Join(errs[:min(len(errs), 3)], "\n"))
	}
	s.t.Logf("%v, %d kills: %d chunks acknowledged (%.1f MB) in %d items (%d whole, %d deleted since); %d events delivered to %d subscribers over %d stream connections; %d requests failed and were retried",
		loaded.Round(time.Millisecond), kills, s.chunks.Load(), float64(s.bytes.Load())/1e6, items, whole, deleted,
		delivered, len(s.recorders), s.transport.streams.Load(), len(s.transport.failures()))
}

// checkStore reads what the stopped server left and checks it against what the clients were
// told, one subtest per promise.
func (s *soak) checkStore() {
	db := s.p.client(s.t).openDB(s.t)
	defer db.Close()
	st := readStore(s.t, db, s.p.dataDir)
	s.t.Run("AcknowledgedChunksStored", func(t *testing.T) { s.each(t, st.requireAcked) })
	s.t.Run("WholeItemsComplete", func(t *testing.T) { s.each(t, st.requireComplete) })
	s.t.Run("EveryEventOnceInOrder", func(t *testing.T) {
		for _, rec := range s.recorders {
			requireLogPrefix(t, rec, sessionLog(t, db, rec.sid))
		}
	})
	s.t.Run("NoOrphanFilesOrRows", st.requireNoOrphans)
	s.t.Run("NoUploadFilesOfFinishedUploads", st.requireNoFinishedUploadFiles)
}

func (s *soak) each(t *testing.T, check func(*testing.T, *soakItem)) {
	for _, items := range s.items {
		for _, it := range items {
			check(t, it)
		}
	}
}

// requireAcked: an acknowledged chunk has its row, with the size and SHA-256 sent, and its
// file, with the bytes sent, unless its item was deleted: then nothing of it is left.
func (st *store) requireAcked(t *testing.T, it *soakItem) {
	if it.deleted {
		for _, dir := range []string{"sessions", "uploads"} {
			if _, err := os.Stat(filepath.Join(st.dataDir, dir, it.sid, it.id)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("deleted item %s/%s still has its directory under %s/ (%v)", it.sid, it.id, dir, err)
			}
		}
		return
	}
	blobs := it.blobs(t)
	for i, acked := range it.acked {
		k, sum := chunkKey{it.sid, it.id, i}, sha256Hex(blobs[i])
		if !acked {
			continue
		}
		if row, ok := st.chunks[k]; !ok || row.size != int64(len(blobs[i])) || row.sum != sum {
			t.Errorf("acknowledged chunk %v: row %+v (present: %v), sent %d bytes with SHA-256 %s", k, row, ok, len(blobs[i]), sum)
		}
		if got, err := os.ReadFile(st.files[k]); err != nil || !bytes.Equal(got, blobs[i]) {
			t.Errorf("acknowledged chunk %v: file %q holds %d bytes (%v), sent %d", k, st.files[k], len(got), err, len(blobs[i]))
		}
	}
}

// requireComplete: an item whose every chunk was acknowledged is complete; a deleted item
// has no row.
func (st *store) requireComplete(t *testing.T, it *soakItem) {
	done, ok := st.complete[it.sid+"/"+it.id]
	switch {
	case it.deleted && ok:
		t.Errorf("deleted item %s/%s still has its content_metadata row", it.sid, it.id)
	case !it.deleted && !ok:
		t.Errorf("announced item %s/%s has no content_metadata row", it.sid, it.id)
	case !it.deleted && it.whole() && !done:
		t.Errorf("item %s/%s: all %d chunks acknowledged, is_complete is 0", it.sid, it.id, len(it.acked))
	}
}

// requireNoOrphans: every item directory has its item's row, every chunk file has its row
// (same size and hash) or is the partial file of an unfinished upload, and every row has its
// file.
func (st *store) requireNoOrphans(t *testing.T) {
	for _, path := range st.strays {
		t.Errorf("stray file %s", path)
	}
	for _, dir := range st.itemDirs {
		if _, ok := st.complete[dir]; !ok {
			t.Errorf("orphan item directory %s: no content_metadata row", dir)
		}
	}
	for k, path := range st.files {
		row, recorded := st.chunks[k]
		_, uploading := st.uploads[k]
		raw, err := os.ReadFile(path)
		switch {
		case err != nil:
			t.Error(err)
		case recorded && (int64(len(raw)) != row.size || sha256Hex(raw) != row.sum):
			t.Errorf("chunk file %s: %d bytes with SHA-256 %s, its row says %+v", path, len(raw), sha256Hex(raw), row)
		case !recorded && !uploading:
			t.Errorf("orphan chunk file %s: no chunk_metadata row and no unfinished upload", path)
		}
	}
	for k := range st.chunks {
		if _, ok := st.files[k]; !ok {
			t.Errorf("chunk_metadata row %v has no file", k)
		}
	}
}

// requireNoFinishedUploadFiles: the upload store's bookkeeping is left only for unfinished
// uploads.
func (st *store) requireNoFinishedUploadFiles(t *testing.T) {
	unfinished := map[string]bool{}
	for _, id := range st.uploads {
		unfinished[id] = true
	}
	var left []string
	for _, id := range st.infos {
		// A finished upload keeps its .info while its chunk is stored, so that a client
		// that lost the final answer learns from HEAD that the upload is complete.
		if !unfinished[id] && !st.recorded(id) {
			left = append(left, id)
		}
	}
	if len(left) > 0 {
		t.Errorf("%d of %d .info files under uploads/ belong to neither an unfinished upload nor a stored chunk (%d rows in uploads), e.g. %s.info", len(left), len(st.infos), len(st.uploads), left[0])
	}
}

// recorded reports whether the chunk an upload id ({sid}/{cid}/{i}-{hex}) names has its row.
func (st *store) recorded(uploadID string) bool {
	parts := strings.SplitN(uploadID, "/", 3)
	if len(parts) != 3 {
		return false
	}
	index, _, _ := strings.Cut(parts[2], "-")
	i, err := strconv.Atoi(index)
	if err != nil {
		return false
	}
	_, ok := st.chunks[chunkKey{parts[0], parts[1], i}]
	return ok
}
