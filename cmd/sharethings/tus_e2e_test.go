package main

// End-to-end tests of tus uploads driven by tus-js-client, the library the browser app uses,
// through web/tools/tus-upload.mjs. They need Node and `make node-deps`; without them they fail
// rather than skip, so CI cannot pass without running them.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// e2eRepoRoot is the repository root as seen from this package's directory, where go test runs.
const e2eRepoRoot = "../.."

const (
	e2eUploadPath    = "/api/v1/uploads/"
	e2eChunkOverhead = 28 // 12-byte IV + 16-byte GCM tag around every chunk
	e2eKiB           = 1 << 10
	e2eMiB           = 1 << 20
)

// requireNodeTools fails the test when the uploader cannot run: CI must run these tests, so a
// missing Node or tus-js-client is an error to fix, not a reason to skip.
func requireNodeTools(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not in PATH (%v): install Node.js 18+ and run `make node-deps`", err)
	}
	lib := filepath.Join(e2eRepoRoot, "web", "node_modules", "tus-js-client", "package.json")
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("tus-js-client is not installed (%v): run `make node-deps`", err)
	}
}

// e2eJob is the JSON job tus-upload.mjs reads from stdin.
type e2eJob struct {
	Endpoint       string         `json:"endpoint"`
	Token          string         `json:"token"`
	SessionID      string         `json:"sessionId"`
	ContentID      string         `json:"contentId"`
	Chunks         []e2eJobChunk  `json:"chunks"`
	PatchSize      int            `json:"patchSize,omitempty"`
	RetryDelays    []int          `json:"retryDelays,omitempty"`
	StopAfterBytes int64          `json:"stopAfterBytes,omitempty"`
	Resume         map[int]string `json:"resume,omitempty"`
}

type e2eJobChunk struct {
	Index int    `json:"index"`
	Path  string `json:"path"`
}

// e2eEvent is one line of the uploader's output.
type e2eEvent struct {
	Event   string `json:"event"` // created, resumed, progress, done, aborted, error
	Index   int    `json:"index"`
	URL     string `json:"url"`
	Sent    int64  `json:"sent"`
	Total   int64  `json:"total"`
	Status  int    `json:"status"`
	Body    string `json:"body"`
	Message string `json:"message"`
}

// e2eUploader is one running tus-upload.mjs whose events arrive as they are printed, so a test
// can act at a given point of an upload without sleeping.
type e2eUploader struct {
	t      *testing.T
	events chan e2eEvent // closed when the process has exited
	seen   []e2eEvent
	stdout syncBuffer
	stderr syncBuffer
	err    error // the exit status; valid once events is closed
}

func startE2EUpload(t *testing.T, job e2eJob) *e2eUploader {
	t.Helper()
	requireNodeTools(t)
	raw, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	// A hung upload is killed shortly before the test binary's deadline, so the failure still
	// shows the uploader's output instead of only a goroutine dump.
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-10*time.Second))
		t.Cleanup(cancel)
	}
	cmd := exec.CommandContext(ctx, "node", "web/tools/tus-upload.mjs")
	cmd.Dir = e2eRepoRoot
	cmd.Stdin = bytes.NewReader(raw)
	u := &e2eUploader{t: t, events: make(chan e2eEvent, 1<<14)}
	cmd.Stderr = &u.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	go func() {
		// The buffer is far larger than any job's output, so node never blocks on its stdout.
		lines := bufio.NewScanner(stdout)
		lines.Buffer(nil, 16<<20) // an error event carries the whole response body
		for lines.Scan() {
			fmt.Fprintln(&u.stdout, lines.Text())
			var ev e2eEvent
			if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
				ev = e2eEvent{Event: "unparsable", Message: lines.Text()}
			}
			u.events <- ev
		}
		io.Copy(io.Discard, stdout)
		u.err = cmd.Wait()
		close(u.events)
	}()
	t.Cleanup(func() {
		for range u.events { // the context has killed the process; wait for it to be reaped
		}
	})
	return u
}

// next returns the next event, or false once the uploader has exited and all were read.
func (u *e2eUploader) next() (e2eEvent, bool) {
	ev, ok := <-u.events
	if ok {
		u.seen = append(u.seen, ev)
	}
	return ev, ok
}

// finish reads the remaining events and returns every event of the run.
func (u *e2eUploader) finish() []e2eEvent {
	for _, ok := u.next(); ok; _, ok = u.next() {
	}
	return u.seen
}

// fatalf fails the test with everything the uploader printed.
func (u *e2eUploader) fatalf(format string, args ...any) {
	u.t.Helper()
	u.t.Fatalf(format+"\nuploader exit: %v\nstdout:\n%s\nstderr:\n%s", append(args, u.err, u.stdout.String(), u.stderr.String())...)
}

// requireDone waits for the uploader and requires a clean exit with every chunk of the job done.
func (u *e2eUploader) requireDone(job e2eJob) []e2eEvent {
	u.t.Helper()
	events := u.finish()
	if u.err != nil {
		u.fatalf("uploader failed")
	}
	done := map[int]bool{}
	for _, ev := range events {
		switch ev.Event {
		case "done":
			done[ev.Index] = true
		case "error", "aborted", "unparsable":
			u.fatalf("unexpected %s event", ev.Event)
		}
	}
	for _, c := range job.Chunks {
		if !done[c.Index] {
			u.fatalf("chunk %d has no done event", c.Index)
		}
	}
	return events
}

func runE2EUpload(t *testing.T, job e2eJob) []e2eEvent {
	t.Helper()
	return startE2EUpload(t, job).requireDone(job)
}

// e2eItem is an item whose chunk blobs are random bytes of the right lengths: the server never
// decrypts, so random bytes stand in for IV, ciphertext and tag.
type e2eItem struct {
	id        string
	chunkSize int
	blobs     [][]byte
	paths     []string
}

// newE2EItem cuts plainSize bytes into chunkSize pieces and writes each blob to a file.
func newE2EItem(t *testing.T, rng *mrand.ChaCha8, plainSize, chunkSize int) *e2eItem {
	t.Helper()
	n := max(1, (plainSize+chunkSize-1)/chunkSize)
	it := &e2eItem{id: e2eContentID(), chunkSize: chunkSize}
	for i := range n {
		blob := make([]byte, min(chunkSize, plainSize-i*chunkSize)+e2eChunkOverhead)
		rng.Read(blob)
		it.blobs = append(it.blobs, blob)
	}
	it.writeFiles(t)
	return it
}

func (it *e2eItem) writeFiles(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	it.paths = nil
	for i, blob := range it.blobs {
		p := filepath.Join(dir, strconv.Itoa(i)+".blob")
		if err := os.WriteFile(p, blob, 0o600); err != nil {
			t.Fatal(err)
		}
		it.paths = append(it.paths, p)
	}
}

func e2eContentID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// e2eSeed makes the random bytes of a case or trial reproducible from its number.
func e2eSeed(n uint64) *mrand.ChaCha8 {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], n)
	return mrand.NewChaCha8(seed)
}

func (it *e2eItem) totalSize() int64 {
	var total int64
	for _, b := range it.blobs {
		total += int64(len(b))
	}
	return total
}

func (it *e2eItem) announce(t *testing.T, s *testServer, token string) {
	t.Helper()
	body := map[string]any{
		"contentId": it.id, "totalChunks": len(it.blobs), "totalSize": it.totalSize(), "chunkSize": it.chunkSize,
		"metadata": map[string]any{"iv": "TWyLqsnoByZFZIOi", "data": "Jp0rWpnnZhXcExxLJh9Wx2LW"},
	}
	if r := s.do(http.MethodPost, "/api/v1/sessions/team-alpha/contents", body, token); r.status != http.StatusCreated {
		t.Fatalf("announce %s: %d %s", it.id, r.status, r.body)
	}
}

// job uploads the given chunks of the item to s as team-alpha.
func (it *e2eItem) job(s *testServer, token string, indexes ...int) e2eJob {
	job := e2eJob{Endpoint: s.url + e2eUploadPath, Token: token, SessionID: "team-alpha", ContentID: it.id}
	for _, i := range indexes {
		job.Chunks = append(job.Chunks, e2eJobChunk{Index: i, Path: it.paths[i]})
	}
	return job
}

// e2eItemState is the item as GET /sessions/{sid}/contents/{cid} shows it.
type e2eItemState struct {
	Complete       bool `json:"complete"`
	ReceivedChunks int  `json:"receivedChunks"`
	Chunks         []struct {
		Index  int    `json:"index"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"chunks"`
}

func (it *e2eItem) state(t *testing.T, s *testServer, token string) e2eItemState {
	t.Helper()
	r := s.do(http.MethodGet, "/api/v1/sessions/team-alpha/contents/"+it.id, nil, token)
	var st e2eItemState
	if r.status != http.StatusOK || json.Unmarshal(r.body, &st) != nil {
		t.Fatalf("item %s: %d %s", it.id, r.status, r.body)
	}
	return st
}

// requireDownloads checks that every chunk downloads byte-identical and is listed with its
// size and SHA-256, and that the item is complete.
func (it *e2eItem) requireDownloads(t *testing.T, s *testServer, token string) {
	t.Helper()
	st := it.state(t, s, token)
	if !st.Complete || st.ReceivedChunks != len(it.blobs) || len(st.Chunks) != len(it.blobs) {
		t.Fatalf("item %s after its last chunk: %+v, want complete with %d chunks", it.id, st, len(it.blobs))
	}
	for i, blob := range it.blobs {
		want := e2eSum(blob)
		if c := st.Chunks[i]; c.Index != i || c.Size != int64(len(blob)) || c.SHA256 != want {
			t.Errorf("chunk %d listed as %+v, want size %d sha256 %s", i, c, len(blob), want)
		}
		r := s.do(http.MethodGet, fmt.Sprintf("/api/v1/sessions/team-alpha/contents/%s/chunks/%d", it.id, i), nil, token)
		if r.status != http.StatusOK {
			t.Fatalf("download chunk %d: %d %s", i, r.status, r.body)
		}
		if got := e2eSum(r.body); got != want || len(r.body) != len(blob) {
			t.Errorf("chunk %d downloads as %d bytes sha256 %s, uploaded %d bytes sha256 %s", i, len(r.body), got, len(blob), want)
		}
		if etag := r.header.Get("ETag"); etag != `"`+want+`"` {
			t.Errorf("chunk %d ETag %s, want %q", i, etag, want)
		}
	}
}

func e2eSum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// isComplete reads content_metadata.is_complete straight from the database.
func (it *e2eItem) isComplete(t *testing.T, s *testServer) bool {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(s.cfg.DataDir, "sharethings.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var done int
	if err := db.QueryRow(`SELECT is_complete FROM content_metadata WHERE session_id = 'team-alpha' AND content_id = ?`, it.id).Scan(&done); err != nil {
		t.Fatalf("is_complete of %s: %v", it.id, err)
	}
	return done == 1
}

// e2eSession starts an in-process server with team-alpha joined and returns it and the token.
func e2eSession(t *testing.T) (*testServer, string) {
	t.Helper()
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	return srv, e2eJoin(t, srv, v[0])
}

func e2eJoin(t *testing.T, s *testServer, v vectorSession) string {
	t.Helper()
	r := s.join(v.SessionID, v.Fingerprint, v.KDF)
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("join %s: %d %s", v.SessionID, r.status, r.body)
	}
	return r.json(t)["token"].(string)
}

func TestTusRoundTripSizes(t *testing.T) {
	requireNodeTools(t)
	srv, token := e2eSession(t)
	everyByte := func(t *testing.T, it *e2eItem) {
		// The plaintext part of the one blob holds every byte value, in order.
		for i := range 256 {
			it.blobs[0][12+i] = byte(i)
		}
		it.writeFiles(t)
	}
	for i, tc := range []struct {
		name            string
		size, chunkSize int
		edit            func(*testing.T, *e2eItem)
	}{
		{"Empty", 0, 4 * e2eMiB, nil},
		{"OneByte", 1, 4 * e2eMiB, nil},
		{"ChunkSizeMinusOne", 4*e2eMiB - 1, 4 * e2eMiB, nil},
		{"ChunkSize", 4 * e2eMiB, 4 * e2eMiB, nil},
		{"ChunkSizePlusOne", 4*e2eMiB + 1, 4 * e2eMiB, nil},
		{"ThirteenMiB", 13 * e2eMiB, 4 * e2eMiB, nil},
		{"EveryByteValue", 256, 64 * e2eKiB, everyByte},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := newE2EItem(t, e2eSeed(uint64(i)), tc.size, tc.chunkSize)
			if tc.edit != nil {
				tc.edit(t, it)
			}
			it.announce(t, srv, token)
			n := len(it.blobs)
			if n > 1 {
				first := make([]int, n-1)
				for j := range first {
					first[j] = j
				}
				runE2EUpload(t, it.job(srv, token, first...))
			}
			// Every chunk but the last is in: the item must not be complete yet.
			if st := it.state(t, srv, token); st.Complete || st.ReceivedChunks != n-1 || it.isComplete(t, srv) {
				t.Fatalf("before the last chunk: %+v, is_complete %v", st, it.isComplete(t, srv))
			}
			runE2EUpload(t, it.job(srv, token, n-1))
			if !it.isComplete(t, srv) {
				t.Fatal("is_complete is still 0 after the last chunk")
			}
			it.requireDownloads(t, srv, token)
			requireE2EChunkFiles(t, srv.cfg.DataDir, it)
		})
	}
}

// requireE2EChunkFiles checks that each chunk sits at sessions/team-alpha/{cid}/{i}.bin, readable
// only by the server's user, with the uploaded bytes.
func requireE2EChunkFiles(t *testing.T, dataDir string, it *e2eItem) {
	t.Helper()
	sessions := filepath.Join(dataDir, "sessions")
	for _, dir := range []string{sessions, filepath.Join(sessions, "team-alpha"), filepath.Join(sessions, "team-alpha", it.id)} {
		st, err := os.Stat(dir)
		if err != nil {
			t.Errorf("directory %s: %v", dir, err)
		} else if !st.IsDir() || st.Mode().Perm() != 0o700 {
			t.Errorf("directory %s has mode %v, want a directory with mode 0700", dir, st.Mode())
		}
	}
	for i, blob := range it.blobs {
		p := filepath.Join(sessions, "team-alpha", it.id, strconv.Itoa(i)+".bin")
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("chunk %d: %v", i, err)
			continue
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("chunk file %s has mode %v, want 0600", p, st.Mode())
		}
		if got, _ := os.ReadFile(p); !bytes.Equal(got, blob) {
			t.Errorf("chunk file %s holds %d bytes sha256 %s, uploaded %d bytes sha256 %s", p, len(got), e2eSum(got), len(blob), e2eSum(blob))
		}
	}
}

// A resumable chunk: 4 MiB of plaintext, one blob of 4 MiB + 28 bytes, sent in 256 KiB PATCHes.
const (
	e2eResumePlain = 4 * e2eMiB
	e2ePatchSize   = 256 * e2eKiB
	e2eTrials      = 20
)

func TestTusResumeAfterClientCut(t *testing.T) {
	requireNodeTools(t)
	srv, token := e2eSession(t)
	for trial := range e2eTrials {
		t.Run(fmt.Sprintf("Trial%02d", trial), func(t *testing.T) {
			rng := e2eSeed(uint64(trial))
			it := newE2EItem(t, rng, e2eResumePlain, e2eResumePlain)
			it.announce(t, srv, token)
			size := it.totalSize()
			cut := it.job(srv, token, 0)
			cut.PatchSize = e2ePatchSize
			cut.StopAfterBytes = 1 + int64(mrand.New(rng).Uint64N(uint64(size-1)))

			first := startE2EUpload(t, cut)
			events := first.finish()
			created, aborted := findE2EEvent(events, "created"), findE2EEvent(events, "aborted")
			if first.err != nil || created == nil || aborted == nil || aborted.URL != created.URL {
				first.fatalf("cut after %d of %d bytes: want a created and an aborted event with one URL", cut.StopAfterBytes, size)
			}

			resume := it.job(srv, token, 0)
			resume.PatchSize = e2ePatchSize
			resume.Resume = map[int]string{0: aborted.URL}
			second := startE2EUpload(t, resume)
			events = second.requireDone(resume)
			// onUploadUrlAvailable after a HEAD prints "resumed"; a new creation would print "created".
			if findE2EEvent(events, "created") != nil || findE2EEvent(events, "resumed") == nil || findE2EEvent(events, "done").URL != aborted.URL {
				second.fatalf("resume of %s: want HEAD then PATCH on that URL, no new upload", aborted.URL)
			}
			it.requireDownloads(t, srv, token)
		})
	}
}

func findE2EEvent(events []e2eEvent, name string) *e2eEvent {
	for i := range events {
		if events[i].Event == name {
			return &events[i]
		}
	}
	return nil
}

// e2eProcess is the real binary serving one data directory on one fixed address, so that it
// can be killed and started again under the URLs its clients already hold.
type e2eProcess struct {
	bin, addr string
	dataDir   string
	logs      syncBuffer // every run's stderr, for failure messages
	cmd       *exec.Cmd
	exited    chan struct{}
	url       string
	starts    int
}

func startE2EProcess(t *testing.T) *e2eProcess {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := &e2eProcess{bin: buildBinary(t), addr: addr, dataDir: filepath.Join(t.TempDir(), "data")}
	t.Cleanup(func() {
		if p.cmd != nil {
			p.kill()
		}
	})
	p.start(t)
	return p
}

// start runs the binary and returns once it logs that it listens.
func (p *e2eProcess) start(t *testing.T) {
	t.Helper()
	p.starts++
	fmt.Fprintf(&p.logs, "--- start %d\n", p.starts)
	found := make(chan string, 1)
	w := &e2eListenWatch{out: &p.logs, found: found}
	p.cmd = exec.Command(p.bin, "serve", "--addr", p.addr, "--data-dir", p.dataDir, "--min-kdf-iterations", "1000", "--join-rate", "1000")
	p.cmd.Stderr = w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { cmd.Wait(); close(exited) }(p.cmd, p.exited)
	select {
	case p.url = <-found:
	case <-p.exited:
		p.cmd = nil
		t.Fatalf("server exited before listening:\n%s", p.logs.String())
	}
}

// kill ends the server with SIGKILL: no shutdown, no flush, like a power cut to the process.
func (p *e2eProcess) kill() {
	p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

func (p *e2eProcess) client(t *testing.T) *testServer {
	return &testServer{t: t, url: p.url, cfg: &Config{DataDir: p.dataDir}}
}

// e2eListenWatch copies the server's log and reports the URL from its "listening" line.
type e2eListenWatch struct {
	mu      sync.Mutex
	out     io.Writer
	pending []byte
	found   chan string
}

func (w *e2eListenWatch) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Write(b)
	if w.found == nil {
		return len(b), nil
	}
	w.pending = append(w.pending, b...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := w.pending[:i]
		w.pending = w.pending[i+1:]
		if m := listeningURL.FindSubmatch(line); m != nil {
			w.found <- string(m[1])
			w.found, w.pending = nil, nil
			return len(b), nil
		}
	}
}

func TestTusResumeAfterServerKill(t *testing.T) {
	requireNodeTools(t)
	p := startE2EProcess(t)
	v := loadVectors(t)
	token := e2eJoin(t, p.client(t), v[0])
	resumed := 0
	for trial := range e2eTrials {
		t.Run(fmt.Sprintf("Trial%02d", trial), func(t *testing.T) {
			if p.cmd == nil {
				p.start(t) // an earlier trial failed between kill and start
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("server logs:\n%s", p.logs.String())
				}
			})
			srv := p.client(t)
			rng := e2eSeed(uint64(1000 + trial))
			it := newE2EItem(t, rng, e2eResumePlain, e2eResumePlain)
			it.announce(t, srv, token)
			killAt := 1 + int64(mrand.New(rng).Uint64N(uint64(it.totalSize()-1)))

			job := it.job(srv, token, 0)
			job.PatchSize = e2ePatchSize
			// tus-js-client's default delays give up 6.3 s after the kill; a loaded CI machine
			// may take longer to start the server again, so the tail is longer here.
			job.RetryDelays = []int{0, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600}
			up := startE2EUpload(t, job)
			killed := false
			for ev, ok := up.next(); ok; ev, ok = up.next() {
				if !killed && ev.Event == "progress" && ev.Sent >= killAt {
					killed = true
					p.kill()
					p.start(t)
					if p.client(t).url != srv.url {
						t.Fatalf("restarted on %s, want %s", p.url, srv.url)
					}
				}
			}
			events := up.requireDone(job)
			if !killed {
				up.fatalf("progress never reached %d bytes, so the server was never killed", killAt)
			}
			if findE2EEvent(events, "resumed") != nil {
				resumed++
			}
			it.requireDownloads(t, srv, token)
		})
	}
	// Not asserted: a kill may land after the last byte, and then there is nothing to resume.
	t.Logf("%d of %d trials resumed with HEAD + PATCH after the kill", resumed, e2eTrials)
}

// e2eTus sends one raw tus request; target is a path on s or an absolute upload URL.
func e2eTus(t *testing.T, s *testServer, method, target, token string, body []byte, headers ...string) response {
	t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = s.url + target
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if body != nil {
		req.Header.Set("Content-Type", "application/offset+octet-stream")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

// e2eCreate is a tus creation request without data.
func e2eCreate(t *testing.T, s *testServer, token, sid, cid string, index int, length int64, headers ...string) response {
	t.Helper()
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	meta := "sessionId " + b64(sid) + ",contentId " + b64(cid) + ",chunkIndex " + b64(strconv.Itoa(index))
	return e2eTus(t, s, http.MethodPost, e2eUploadPath, token, nil,
		append([]string{"Upload-Length", strconv.FormatInt(length, 10), "Upload-Metadata", meta}, headers...)...)
}

// e2eState is everything persistent, including the unfinished uploads that snapshot leaves out.
func e2eState(t *testing.T, s *testServer) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(s.cfg.DataDir, "sharethings.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT upload_id, session_id, content_id, chunk_index, size, created_at FROM uploads ORDER BY upload_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, sid, cid string
		var index, size, created int64
		rows.Scan(&id, &sid, &cid, &index, &size, &created)
		lines = append(lines, fmt.Sprintf("uploads %s %s %s %d %d %d", id, sid, cid, index, size, created))
	}
	return s.snapshot() + "\n" + strings.Join(lines, "\n")
}

func TestTusRefusesWithProblems(t *testing.T) {
	v := loadVectors(t)
	srv, alpha := e2eSession(t)
	zurich := e2eJoin(t, srv, v[1])

	// Fixtures: a two-chunk item whose chunk 1 is stored and whose chunk 0 has an unfinished
	// upload holding its first 1000 bytes.
	it := newE2EItem(t, e2eSeed(7), 64*e2eKiB+10, 64*e2eKiB)
	it.announce(t, srv, alpha)
	long, short := int64(len(it.blobs[0])), int64(len(it.blobs[1]))
	stored := e2eCreate(t, srv, alpha, "team-alpha", it.id, 1, short)
	if stored.status != http.StatusCreated {
		t.Fatalf("create chunk 1: %d %s", stored.status, stored.body)
	}
	if r := e2eTus(t, srv, http.MethodPatch, stored.header.Get("Location"), alpha, it.blobs[1], "Upload-Offset", "0"); r.status != http.StatusNoContent {
		t.Fatalf("upload chunk 1: %d %s", r.status, r.body)
	}
	running := e2eCreate(t, srv, alpha, "team-alpha", it.id, 0, long)
	pending := running.header.Get("Location")
	if running.status != http.StatusCreated || pending == "" {
		t.Fatalf("create chunk 0: %d %s", running.status, running.body)
	}
	if r := e2eTus(t, srv, http.MethodPatch, pending, alpha, it.blobs[0][:1000], "Upload-Offset", "0"); r.status != http.StatusNoContent {
		t.Fatalf("first bytes of chunk 0: %d %s", r.status, r.body)
	}
	pendingURL, _ := url.Parse(pending)
	maxBlob := int64(srv.cfg.MaxChunkSize + e2eChunkOverhead)

	for _, tc := range []struct {
		name   string
		status int
		code   string // empty for HEAD: its answer has no body
		send   func(t *testing.T) response
	}{
		{"ErrChunkOutOfRange", 400, "chunk_out_of_range", func(t *testing.T) response {
			return e2eCreate(t, srv, alpha, "team-alpha", it.id, 2, short)
		}},
		{"ErrForbiddenOtherSession", 403, "forbidden", func(t *testing.T) response {
			return e2eCreate(t, srv, alpha, "Zurich", it.id, 0, long)
		}},
		{"ErrContentNotFound", 404, "content_not_found", func(t *testing.T) response {
			return e2eCreate(t, srv, alpha, "team-alpha", e2eContentID(), 0, short)
		}},
		{"ErrTooLarge", 413, "too_large", func(t *testing.T) response {
			return e2eCreate(t, srv, alpha, "team-alpha", it.id, 0, maxBlob+1)
		}},
		{"ErrWrongLength", 400, "invalid_request", func(t *testing.T) response {
			return e2eCreate(t, srv, alpha, "team-alpha", it.id, 0, short)
		}},
		{"ErrChunkExists", 409, "chunk_exists", func(t *testing.T) response {
			return e2eCreate(t, srv, alpha, "team-alpha", it.id, 1, short)
		}},
		{"ErrChunkInProgress", 409, "chunk_in_progress", func(t *testing.T) response {
			r := e2eCreate(t, srv, alpha, "team-alpha", it.id, 0, long)
			if got, _ := r.json(t)["uploadUrl"].(string); got != pendingURL.Path && got != pending {
				t.Errorf("uploadUrl %q, want the unfinished upload %s", got, pending)
			}
			return r
		}},
		{"ErrTraversalContentID", 400, "invalid_content_id", func(t *testing.T) response {
			return e2eCreate(t, srv, alpha, "team-alpha", "../../x", 0, short)
		}},
		{"ErrTraversalSessionID", 400, "invalid_session_id", func(t *testing.T) response {
			return e2eCreate(t, srv, alpha, "../x", it.id, 0, short)
		}},
		{"ErrTermination", 405, "method_not_allowed", func(t *testing.T) response {
			return e2eTus(t, srv, http.MethodDelete, pending, alpha, nil)
		}},
		{"ErrTerminationByOverride", 405, "method_not_allowed", func(t *testing.T) response {
			return e2eTus(t, srv, http.MethodPost, pending, alpha, nil, "X-HTTP-Method-Override", "DELETE")
		}},
		{"ErrHeadOtherSession", 404, "", func(t *testing.T) response {
			return e2eTus(t, srv, http.MethodHead, pending, zurich, nil)
		}},
		{"ErrPatchOtherSession", 404, "not_found", func(t *testing.T) response {
			return e2eTus(t, srv, http.MethodPatch, pending, zurich, it.blobs[0][1000:], "Upload-Offset", "1000")
		}},
		{"ErrNoTokenCreate", 401, "unauthorized", func(t *testing.T) response {
			return e2eCreate(t, srv, "", "team-alpha", it.id, 0, long)
		}},
		{"ErrNoTokenHead", 401, "", func(t *testing.T) response {
			return e2eTus(t, srv, http.MethodHead, pending, "", nil)
		}},
		{"ErrNoTokenPatch", 401, "unauthorized", func(t *testing.T) response {
			return e2eTus(t, srv, http.MethodPatch, pending, "", it.blobs[0][1000:], "Upload-Offset", "1000")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e2eState(t, srv)
			r := tc.send(t)
			if tc.code != "" {
				r.requireProblem(t, tc.status, tc.code)
			} else if ct := r.header.Get("Content-Type"); r.status != tc.status || ct != "application/problem+json" {
				t.Fatalf("status %d Content-Type %q, want %d application/problem+json", r.status, ct, tc.status)
			}
			if after := e2eState(t, srv); after != before {
				t.Fatalf("refused request changed state:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}

	t.Run("RefusedTerminationLeavesUploadResumable", func(t *testing.T) {
		head := e2eTus(t, srv, http.MethodHead, pending, alpha, nil)
		if head.status != http.StatusOK || head.header.Get("Upload-Offset") != "1000" {
			t.Fatalf("HEAD %s: %d offset %q", pending, head.status, head.header.Get("Upload-Offset"))
		}
		if r := e2eTus(t, srv, http.MethodPatch, pending, alpha, it.blobs[0][1000:], "Upload-Offset", "1000"); r.status != http.StatusNoContent {
			t.Fatalf("resume chunk 0: %d %s", r.status, r.body)
		}
		it.requireDownloads(t, srv, alpha)
	})
}
