package main

import (
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

// process is the real server binary running on a free port.
type process struct {
	cmd    *exec.Cmd
	url    string
	logs   *listenWatch
	exited chan struct{} // closed once the process has exited and its logs are read
	err    error         // its exit status, valid after exited
}

// startProcess runs the binary on a free port and returns once it says it listens. Its logs
// are drained all along (a full pipe would stall the server) and kept for inspection.
func startProcess(t testing.TB, bin string, args ...string) *process {
	t.Helper()
	found := make(chan string, 1) // read through this variable: Write clears the field
	p := &process{logs: &listenWatch{found: found}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data")}, args...)...)
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.exited })
	select {
	case p.url = <-found:
		return p
	case <-p.exited:
		t.Fatalf("server exited before listening: %v\n%s", p.err, p.logs.String())
		return nil
	}
}

// listenWatch keeps a process's log and reports the URL of its "listening" line once.
type listenWatch struct {
	syncBuffer
	found chan string
	seen  int
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
