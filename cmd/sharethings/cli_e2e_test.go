package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// cliPassphrase is the passphrase the CLI tests share through the environment.
const cliPassphrase = "correct horse battery staple"

// cli runs the real sharethings binary as a client of one server.
type cli struct {
	t   testing.TB
	bin string
	env []string
}

func newCLI(t testing.TB, bin, serverURL string) *cli {
	return &cli{t: t, bin: bin, env: append(os.Environ(),
		"SHARETHINGS_SERVER="+serverURL, "SHARETHINGS_PASSPHRASE="+cliPassphrase, "SHARETHINGS_NAME=cli-test")}
}

// cliResult is how a finished CLI run ended.
type cliResult struct {
	stdout, stderr string
	code           int
}

// run runs one command to its end with stdin as its input.
func (c *cli) run(stdin io.Reader, args ...string) cliResult {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env, cmd.Stdin = c.env, stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		c.t.Fatalf("%v: %v", args, err)
	}
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// mustRun runs a command that must succeed and returns its stdout.
func (c *cli) mustRun(stdin io.Reader, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
	}
	return r.stdout
}

// cliProcess is a long-running CLI command, such as watch.
type cliProcess struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	exited         chan struct{}
}

func (c *cli) start(args ...string) *cliProcess {
	c.t.Helper()
	p := &cliProcess{cmd: exec.Command(c.bin, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = c.env, p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	c.t.Cleanup(func() { p.cmd.Process.Kill(); <-p.exited })
	return p
}

// interrupt stops the process as Ctrl-C does and returns its exit code.
func (p *cliProcess) interrupt() int {
	p.cmd.Process.Signal(syscall.SIGINT)
	<-p.exited
	return p.cmd.ProcessState.ExitCode()
}

// countingProxy forwards TCP connections to a server and counts what clients send upstream,
// so a test can tell a resumed transfer from one that started over; it also counts the
// connections it could not forward while the server was down.
type countingProxy struct {
	addr     string
	upstream string
	sent     atomic.Int64
	refused  atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
}

func startCountingProxy(t testing.TB, upstream string) *countingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{addr: ln.Addr().String(), upstream: upstream, conns: map[net.Conn]struct{}{}}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(conn)
		}
	}()
	t.Cleanup(func() { ln.Close(); p.cutAll() })
	return p
}

func (p *countingProxy) url() string { return "http://" + p.addr }

func (p *countingProxy) forward(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		p.refused.Add(1)
		return
	}
	defer server.Close()
	p.track(client, true)
	defer p.track(client, false)
	go func() {
		io.Copy(client, server)
		client.Close()
	}()
	io.Copy(countingWriter{server, &p.sent}, client)
}

func (p *countingProxy) track(c net.Conn, open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if open {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

// cutAll closes every forwarded connection.
func (p *countingProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// TestCLISendAndWatchAcrossServerRestart: CLI A sends a 50 MiB file and a line of text while
// CLI B watches; the server is stopped mid-transfer and started again a moment later. B
// writes byte-identical output, and A's upload resumed rather than starting over.
func TestCLISendAndWatchAcrossServerRestart(t *testing.T) {
	bin := buildBinary(t)
	server := startProcess(t, bin, "--min-kdf-iterations", "1000")
	proxy := startCountingProxy(t, strings.TrimPrefix(server.url, "http://"))
	c := newCLI(t, bin, proxy.url())
	dir, inbox := t.TempDir(), t.TempDir()
	big := filepath.Join(dir, "big.bin")
	want := make([]byte, 50<<20)
	seededRand(50).Read(want)
	os.WriteFile(big, want, 0o600)

	c.mustRun(strings.NewReader("opening line\n"), "send", "-s", "team") // creates the session
	watcher := c.start("watch", "-s", "team", "--dir", inbox)
	waitFor(t, "the watcher to start", func() bool { return strings.Contains(watcher.stderr.String(), "watching") })

	sender := c.start("send", "-s", "team", big)
	waitFor(t, "20 MiB on their way", func() bool { return proxy.sent.Load() > 20<<20 })
	server.kill()
	proxy.cutAll()
	// Down until both clients have tried to reconnect, then up again on the same address.
	waitFor(t, "the clients to retry", func() bool { return proxy.refused.Load() >= 2 })
	server.restart(t)
	<-sender.exited
	if code := sender.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("send exited %d:\n%s\nserver:\n%s", code, sender.stderr.String(), server.logs.String())
	}
	c.mustRun(strings.NewReader("a line of text\n"), "send", "-s", "team")

	waitFor(t, "the text on the watcher's stdout", func() bool { return strings.Contains(watcher.stdout.String(), "a line of text\n") })
	got, err := os.ReadFile(filepath.Join(inbox, "big.bin"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("received file: %d bytes, %v; want the 50 MiB sent", len(got), err)
	}
	if out := watcher.stdout.String(); out != "a line of text\n" {
		t.Fatalf("watcher stdout %q: want only the text shared after it started", out)
	}
	if sent := proxy.sent.Load(); sent > 75<<20 {
		t.Fatalf("%d MiB went upstream for a 50 MiB file: the upload started over", sent>>20)
	}
	if code := watcher.interrupt(); code != exitInterrupted {
		t.Fatalf("watch ended with %d on SIGINT, want %d", code, exitInterrupted)
	}
}

// TestCLIWrongPassphrase: a wrong passphrase exits 3 with a one-line reason.
func TestCLIWrongPassphrase(t *testing.T) {
	bin := buildBinary(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	c := newCLI(t, bin, srv.url)
	c.mustRun(strings.NewReader("hello\n"), "send", "-s", "team")
	c.env = append(c.env, "SHARETHINGS_PASSPHRASE=not the passphrase")
	r := c.run(nil, "ls", "-s", "team")
	if r.code != exitAuth || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "wrong passphrase") {
		t.Fatalf("exit %d, stderr %q: want %d and one line naming the wrong passphrase", r.code, r.stderr, exitAuth)
	}
}

// TestCLIRefusesTamperedChunk: a chunk altered on the server's disk is refused by the
// receiver, which names the item and writes nothing.
func TestCLIRefusesTamperedChunk(t *testing.T) {
	bin := buildBinary(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	c := newCLI(t, bin, srv.url)
	file := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(file, bytes.Repeat([]byte("secret notes\n"), 20000), 0o600) // 260 kB: 4 chunks
	id := strings.TrimSpace(c.mustRun(nil, "send", "-s", "team", "--chunk-size", "65536", file))

	blob := filepath.Join(cfg.DataDir, "sessions", "team", id, "2.bin")
	raw, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	raw[100] ^= 1
	os.WriteFile(blob, raw, 0o600)

	out := t.TempDir()
	r := c.run(nil, "get", "-s", "team", "-o", filepath.Join(out, "notes.txt"), id)
	if r.code != exitIntegrity || !strings.Contains(r.stderr, id) || !strings.Contains(r.stderr, "notes.txt") {
		t.Fatalf("exit %d, stderr %q: want %d naming the item", r.code, r.stderr, exitIntegrity)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatalf("a refused item left %v behind", entries)
	}
}
