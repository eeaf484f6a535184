package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestLargeItemMemoryStaysFlat uploads and downloads a 1 GiB item (256 chunks of 4 MiB) through
// the real server process and reports how much its peak RSS grew. Nothing in the server may
// hold a whole item, or even many chunks, in memory; the bound below is far under 1 GiB and
// catches any such buffering.
func TestLargeItemMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 2 GiB over loopback")
	}
	const chunkSize, chunks = 4 << 20, 256
	bin := buildBinary(t)
	p := startProcess(t, bin, "--min-kdf-iterations", "1000")
	url, pid := p.url, p.cmd.Process.Pid
	srv := p.client(t)
	token := srv.session(t)
	baseline := rssKiB(t, pid, "VmRSS")

	blob := bytes.Repeat([]byte{0x5a}, chunkSize+chunkOverhead)
	it := &item{id: newUUID(), chunkSize: chunkSize}
	for range chunks {
		it.blobs = append(it.blobs, blob)
	}
	srv.upload(t, token, it)
	want := sha256.Sum256(blob)
	for i := range chunks {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/sessions/team-alpha/contents/%s/chunks/%d", url, it.id, i), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, res.Body)
		res.Body.Close()
		if !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("chunk %d differs", i)
		}
	}
	peak := rssKiB(t, pid, "VmHWM")
	growth := float64(peak-baseline) / 1024
	t.Logf("1 GiB up and down: server RSS %d KiB at start, peak %d KiB: growth %.1f MiB", baseline, peak, growth)
	if growth > 128 {
		t.Fatalf("server RSS grew by %.1f MiB moving a 1 GiB item: something buffers whole chunks or items", growth)
	}
}

// rssKiB reads a memory figure (VmRSS, VmHWM) of a process from /proc.
func rssKiB(t testing.TB, pid int, field string) int {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
