package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	expslog "golang.org/x/exp/slog"
)

// Upload benchmarks compare ShareThings with bare tusd v2 (file store, no hooks, no auth) on the
// same machine in the same run, with the same client: 4 workers each sending whole chunks as
// tus creation-with-upload requests.
//
//	go test -run '^$' -bench . -benchtime 3x ./cmd/sharethings
const (
	benchWorkers        = 4
	benchBytesPerWorker = 32 << 20
)

func BenchmarkUploadThroughput(b *testing.B) {
	for _, chunk := range []int{1 << 20, 4 << 20} {
		b.Run(fmt.Sprintf("chunk=%dMiB", chunk>>20), func(b *testing.B) {
			st := newBenchServer(b)
			bare := newBareTusd(b)
			var stTime, bareTime time.Duration
			for b.Loop() {
				stTime += timeRound(b, func(w int) { st.uploadItem(b, chunk, benchBytesPerWorker/chunk) })
				st.clear(b)
				bareTime += timeRound(b, func(w int) { bare.uploadChunks(b, chunk+chunkOverhead, benchBytesPerWorker/chunk) })
			}
			mb := float64(benchWorkers*benchBytesPerWorker*b.N) / 1e6
			b.ReportMetric(mb/stTime.Seconds(), "sharethings_MB/s")
			b.ReportMetric(mb/bareTime.Seconds(), "tusd_MB/s")
			b.ReportMetric(bareTime.Seconds()/stTime.Seconds(), "ratio")
		})
	}
}

// BenchmarkSmallItems measures announce + one-chunk upload, the path of a shared line of text.
func BenchmarkSmallItems(b *testing.B) {
	st := newBenchServer(b)
	b.SetParallelism(benchWorkers / max(1, runtimeProcs()))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st.uploadItem(b, 65536, 0)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// timeRound runs fn on benchWorkers goroutines at once and returns the wall time.
func timeRound(b *testing.B, fn func(worker int)) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range benchWorkers {
		wg.Go(func() { fn(w) })
	}
	wg.Wait()
	return time.Since(start)
}

type benchServer struct {
	srv   *testServer
	token string
	blob  []byte
}

func newBenchServer(b *testing.B) *benchServer {
	cfg, clk := benchConfig(b)
	srv := startServer(b, cfg, clk)
	token := srv.session(b)
	blob := make([]byte, 16<<20+chunkOverhead)
	rand.Read(blob)
	return &benchServer{srv: srv, token: token, blob: blob}
}

// uploadItem announces an item of chunks full chunks (or one 100-byte chunk when chunks is 0)
// and uploads them.
func (s *benchServer) uploadItem(b *testing.B, chunkSize, chunks int) {
	it := &item{id: newUUID(), chunkSize: chunkSize}
	if chunks == 0 {
		it.blobs = [][]byte{s.blob[:128]}
	}
	for range chunks {
		it.blobs = append(it.blobs, s.blob[:chunkSize+chunkOverhead])
	}
	s.srv.upload(b, s.token, it)
}

func (s *benchServer) clear(b *testing.B) {
	if r := s.srv.do(http.MethodDelete, "/api/v1/sessions/team-alpha/contents", nil, s.token); r.status != http.StatusNoContent {
		b.Fatalf("clear: %d", r.status)
	}
}

type bareTusd struct {
	url  string
	blob []byte
	dir  string
}

func newBareTusd(b *testing.B) *bareTusd {
	dir := b.TempDir()
	store := filestore.New(dir)
	composer := tusd.NewStoreComposer()
	store.UseIn(composer)
	memorylocker.New().UseIn(composer)
	h, err := tusd.NewHandler(tusd.Config{StoreComposer: composer, BasePath: "/files/", Logger: quietTusLogger()})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(http.StripPrefix("/files", h))
	b.Cleanup(ts.Close)
	blob := make([]byte, 4<<20+chunkOverhead)
	rand.Read(blob)
	return &bareTusd{url: ts.URL + "/files/", blob: blob, dir: dir}
}

func (t *bareTusd) uploadChunks(b *testing.B, size, n int) {
	meta := "filename " + base64.StdEncoding.EncodeToString([]byte("chunk"))
	for range n {
		req, _ := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(t.blob[:size]))
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Upload-Length", strconv.Itoa(size))
		req.Header.Set("Upload-Metadata", meta)
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusCreated {
			b.Fatalf("bare tusd: %v %v", res, err)
		}
		res.Body.Close()
	}
}

func benchConfig(b *testing.B) (*Config, *clock) {
	return testConfig(b, "--session-quota", "1TiB", "--session-max-items", "1000000", "--max-item-size", "1TiB", "--log-level", "warn")
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

func quietTusLogger() *expslog.Logger {
	return expslog.New(expslog.NewTextHandler(io.Discard, nil))
}

// BenchmarkCLISend compares `sharethings send` of a 1 GiB file (read, encrypt, announce, upload
// chunk by chunk; the CLI is its own process) with a plain tus upload of the same bytes in the
// same 4 MiB chunks to the same server, one after the other in each round. ratio is plain
// time over CLI time: 1 means encryption costs nothing.
//
//	go test -run '^$' -bench CLISend -benchtime 2x ./cmd/sharethings
func BenchmarkCLISend(b *testing.B) {
	const chunk, chunks = 4 << 20, 256
	bin := buildBinary(b)
	st := newBenchServer(b)
	file := filepath.Join(b.TempDir(), "one-gib.bin")
	writeRandomFile(b, file, chunk*chunks)
	c := newCLI(b, bin, st.srv.url)
	var plain, cli time.Duration
	for b.Loop() {
		start := time.Now()
		st.uploadItem(b, chunk, chunks)
		plain += time.Since(start)
		st.clear(b)
		start = time.Now()
		c.mustRun(nil, "send", "-q", "-s", "cli-bench", file)
		cli += time.Since(start)
		c.mustRun(nil, "rm", "-q", "-s", "cli-bench", "--all")
	}
	mb := float64(chunk*chunks*b.N) / 1e6
	b.ReportMetric(mb/cli.Seconds(), "cli_MB/s")
	b.ReportMetric(mb/plain.Seconds(), "plain_tus_MB/s")
	b.ReportMetric(plain.Seconds()/cli.Seconds(), "ratio")
}

// writeRandomFile writes size random bytes to path, a megabyte at a time.
func writeRandomFile(b *testing.B, path string, size int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for written := 0; written < size; written += len(buf) {
		rand.Read(buf)
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBrowserShare100MiB times sharing a 100 MiB file from one browser to another through
// the real server: A's browser reads, encrypts and uploads it; B is notified, downloads and
// decrypts it, and the saved file is checked by SHA-256 (web/e2e/timing.mjs, Debian's
// Chromium).
//
//	go test -run '^$' -bench BrowserShare -benchtime 1x ./cmd/sharethings
func BenchmarkBrowserShare100MiB(b *testing.B) {
	cfg, clk := benchConfig(b)
	srv := startServer(b, cfg, clk)
	file := filepath.Join(b.TempDir(), "hundred.bin")
	writeRandomFile(b, file, 100<<20)
	raw, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	var upload, download, total float64 // milliseconds, as the scenario measures them in the browsers
	for b.Loop() {
		cmd := exec.Command("node", "web/e2e/timing.mjs", "--url", srv.url, "--file", file, "--sha256", sha256Hex(raw))
		cmd.Dir = repoRoot
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("timing.mjs: %v\n%s", err, out)
		}
		var t struct{ UploadAndNotifyMs, DownloadMs, TotalMs float64 }
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, `"step":"timing"`) {
				json.Unmarshal([]byte(line), &t)
			}
		}
		upload, download, total = upload+t.UploadAndNotifyMs, download+t.DownloadMs, total+t.TotalMs
	}
	n := float64(b.N) * 1000
	b.ReportMetric(upload/n, "upload+notify_s")
	b.ReportMetric(download/n, "download+decrypt_s")
	b.ReportMetric(total/n, "share_s")
}
