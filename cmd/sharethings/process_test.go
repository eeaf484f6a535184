package main

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// buildBinary compiles the real sharethings command once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sharethings")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var listeningURL = regexp.MustCompile(`url=(http://[^ ]+)`)

// startProcess runs the binary on a free port and returns its URL once it says it listens.
func startProcess(t *testing.T, bin string, args ...string) (*exec.Cmd, string, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data")}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	logs := bufio.NewReader(stderr)
	for {
		line, err := logs.ReadString('\n')
		if err != nil {
			t.Fatalf("server exited before listening: %v", err)
		}
		if m := listeningURL.FindStringSubmatch(line); m != nil {
			return cmd, m[1], logs
		}
	}
}

func TestProcessStopsGracefullyOnSignals(t *testing.T) {
	bin := buildBinary(t)
	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT} {
		t.Run(name, func(t *testing.T) {
			cmd, url, logs := startProcess(t, bin)
			res, err := http.Get(url + "/readyz")
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("readyz: %v %v", res, err)
			}
			res.Body.Close()
			if out, err := exec.Command(bin, "healthcheck", "--url", url+"/healthz").CombinedOutput(); err != nil {
				t.Fatalf("healthcheck against a live server: %v %s", err, out)
			}

			cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(logs)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit after %s: %v\nlogs:\n%s", name, err, rest)
			}
			if !strings.Contains(string(rest), "sharethings stopped") {
				t.Fatalf("no clean stop logged:\n%s", rest)
			}
			if out, err := exec.Command(bin, "healthcheck", "--url", url+"/healthz").CombinedOutput(); err == nil {
				t.Fatalf("healthcheck passed against a stopped server: %s", out)
			}
		})
	}
}
