package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// buildBinary compiles the real sharethings command once per test binary run.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sharethings")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var listeningURL = regexp.MustCompile(`url=(http://[^ ]+)`)

// process is the real server binary serving one data directory.
type process struct {
	bin     string
	dataDir string
	args    []string // extra serve arguments, kept for restart
	cmd     *exec.Cmd
	url     string
	logs    *listenWatch  // the stderr of every run
	exited  chan struct{} // closed once the current run has exited and its logs are read
	err     error         // the current run's exit status, valid after exited
}

// startProcess runs the binary on a free port with a new data directory and returns once it
// says it listens.
func startProcess(t testing.TB, bin string, args ...string) *process {
	t.Helper()
	p := &process{bin: bin, dataDir: filepath.Join(t.TempDir(), "data"), args: args, logs: &listenWatch{}}
	p.run(t, "127.0.0.1:0")
	t.Cleanup(p.kill)
	return p
}

// run starts the binary on addr and returns once it says it listens. Its logs are drained all
// along (a full pipe would stall the server) and kept for inspection.
func (p *process) run(t testing.TB, addr string) {
	t.Helper()
	found := p.logs.expect()
	cmd := exec.Command(p.bin, append([]string{"serve", "--addr", addr, "--data-dir", p.dataDir}, p.args...)...)
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	go func() { p.err = cmd.Wait(); close(exited) }()
	select {
	case p.url = <-found:
	case <-exited:
		t.Fatalf("server exited before listening: %v\n%s", p.err, p.logs.String())
	}
}

// restart kills the server and runs it again on the same address and data directory, so its
// clients keep their URLs and it has to recover from whatever the kill left on disk.
func (p *process) restart(t testing.TB) {
	t.Helper()
	p.kill()
	addr := strings.TrimPrefix(p.url, "http://")
	fmt.Fprintf(p.logs, "--- restart on %s\n", addr)
	p.run(t, addr)
}

// kill ends the server with SIGKILL: no shutdown, no flush, like a power cut to the process.
// Killing an exited server does nothing.
func (p *process) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// alive reports whether the current run has not exited.
func (p *process) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// client talks to the process over HTTP; it has no App, only the data directory to inspect.
func (p *process) client(t testing.TB) *testServer {
	return &testServer{t: t, url: p.url, cfg: &Config{DataDir: p.dataDir}}
}

// listenWatch keeps a process's log and reports the URL of its "listening" line once per
// expect.
type listenWatch struct {
	syncBuffer
	found chan string
	seen  int
}

// expect arms the watch for the next "listening" line logged from now on and returns the
// channel that gets its URL (a channel of its own: Write clears the field once it has sent).
// Only call it while no process writes to the watch.
func (w *listenWatch) expect() <-chan string {
	found := make(chan string, 1)
	w.found, w.seen = found, len(w.syncBuffer.String())
	return found
}

func (w *listenWatch) Write(b []byte) (int, error) {
	n, err := w.syncBuffer.Write(b)
	if w.found == nil {
		return n, err
	}
	all := w.syncBuffer.String()
	if m := listeningURL.FindStringSubmatch(all[w.seen:]); m != nil {
		w.found <- m[1]
		w.found = nil
	} else if i := strings.LastIndexByte(all, '\n'); i >= 0 {
		w.seen = i + 1
	}
	return n, err
}

func TestProcessStopsGracefullyOnSignals(t *testing.T) {
	bin := buildBinary(t)
	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT} {
		t.Run(name, func(t *testing.T) {
			p := startProcess(t, bin)
			url := p.url
			res, err := http.Get(url + "/readyz")
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("readyz: %v %v", res, err)
			}
			res.Body.Close()
			if out, err := exec.Command(bin, "healthcheck", "--url", url+"/healthz").CombinedOutput(); err != nil {
				t.Fatalf("healthcheck against a live server: %v %s", err, out)
			}

			p.cmd.Process.Signal(sig)
			<-p.exited
			if p.err != nil {
				t.Fatalf("exit after %s: %v\nlogs:\n%s", name, p.err, p.logs.String())
			}
			if !strings.Contains(p.logs.String(), "sharethings stopped") {
				t.Fatalf("no clean stop logged:\n%s", p.logs.String())
			}
			if out, err := exec.Command(bin, "healthcheck", "--url", url+"/healthz").CombinedOutput(); err == nil {
				t.Fatalf("healthcheck passed against a stopped server: %s", out)
			}
		})
	}
}
