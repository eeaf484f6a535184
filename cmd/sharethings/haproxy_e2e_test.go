package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The deployment example, proven: Debian's haproxy runs docs/deploy/haproxy.cfg (its ports,
// certificate and server address substituted) with a self-signed certificate in front of the
// server, and the browser end-to-end scenario and the CLI go through it over HTTPS.

// haproxyExample is the documented configuration.
var haproxyExample = filepath.Join(repoRoot, "docs", "deploy", "haproxy.cfg")

// startHAProxy runs haproxy in the foreground with the example configuration pointed at
// upstream and returns the https URL it serves and the certificate file clients must trust.
func startHAProxy(t *testing.T, upstream string) (url, certFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	bundle := filepath.Join(dir, "bundle.pem")
	cert, _ := os.ReadFile(certFile)
	key, _ := os.ReadFile(keyFile)
	os.WriteFile(bundle, append(cert, key...), 0o600)
	httpsAddr, httpAddr := freeAddr(t), freeAddr(t)
	runHAProxy(t, haproxyExample, httpsAddr, map[string]string{
		"bind :443 ":                         "bind " + httpsAddr + " ",
		"bind :80\n":                         "bind " + httpAddr + "\n",
		"/etc/haproxy/certs/sharethings.pem": bundle,
		"server sharethings 127.0.0.1:8080":  "server sharethings " + upstream,
	})
	return "https://" + httpsAddr, certFile
}

// runHAProxy runs haproxy in the foreground with the example configuration at example, each
// key of subs in it replaced once by its value (the addresses of this run), and returns once
// it listens on addr. Its logs are printed if the test fails; stop (or the test's end) kills
// it.
func runHAProxy(t testing.TB, example, addr string, subs map[string]string) (logs *syncBuffer, stop func()) {
	t.Helper()
	bin := requireHAProxy(t)
	raw, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	for old, repl := range subs {
		if !strings.Contains(cfg, old) {
			t.Fatalf("%s no longer contains %q: update the test with the example", example, old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	cfgFile := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", cfgFile).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-db", "-f", cfgFile)
	logs = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = sync.OnceFunc(func() { cmd.Process.Kill(); cmd.Wait() })
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("haproxy:\n%s", logs.String())
		}
	})
	waitFor(t, "haproxy to listen", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return logs, stop
}

// requireHAProxy returns the path of Debian's haproxy, failing the test without it.
func requireHAProxy(t testing.TB) string {
	t.Helper()
	if bin, err := exec.LookPath("haproxy"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy" // outside the PATH of some users
	}
	t.Fatal("haproxy is not installed: apt-get install haproxy (.ci/run installs it)")
	return ""
}

// TestThroughHAProxy: behind the documented HAProxy configuration, over HTTPS and HTTP/2, the
// browser scenario passes (streams, uploads with https upload URLs, downloads) and the CLI
// sends and watches.
func TestThroughHAProxy(t *testing.T) {
	requireBrowser(t)
	cfg, clk := testConfig(t, "--trusted-proxies", "127.0.0.1")
	srv := startServer(t, cfg, clk)
	url, certFile := startHAProxy(t, strings.TrimPrefix(srv.url, "http://"))

	t.Run("Browser", func(t *testing.T) {
		runScenario(t, "share.mjs", "--url", url, "--protocol", "h2")
	})
	t.Run("CLI", func(t *testing.T) {
		c := newCLI(t, buildBinary(t), url)
		c.env = append(c.env, "SSL_CERT_FILE="+certFile) // trust the proxy's self-signed certificate
		inbox, file := t.TempDir(), filepath.Join(t.TempDir(), "over-tls.bin")
		want := make([]byte, 6<<20+7)
		seededRand(443).Read(want)
		os.WriteFile(file, want, 0o600)
		watcher := c.start("watch", "-s", "tls", "--dir", inbox)
		waitFor(t, "the watcher to start", func() bool { return strings.Contains(watcher.stderr.String(), "watching") })
		c.mustRun(nil, "send", "-s", "tls", file)
		got := filepath.Join(inbox, "over-tls.bin")
		waitFor(t, "the file through the proxy", func() bool { _, err := os.Stat(got); return err == nil })
		if b, _ := os.ReadFile(got); !bytes.Equal(b, want) {
			t.Fatalf("received %d bytes through haproxy, sent %d: they differ", len(b), len(want))
		}
	})
}
