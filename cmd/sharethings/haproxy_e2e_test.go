package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		bin = "/usr/sbin/haproxy" // outside root's PATH on some machines
		if _, serr := os.Stat(bin); serr != nil {
			t.Fatalf("haproxy is not installed (%v): apt-get install haproxy", err)
		}
	}
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	bundle := filepath.Join(dir, "bundle.pem")
	cert, _ := os.ReadFile(certFile)
	key, _ := os.ReadFile(keyFile)
	os.WriteFile(bundle, append(cert, key...), 0o600)
	httpsAddr, httpAddr := freeAddr(t), freeAddr(t)

	raw, err := os.ReadFile(haproxyExample)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	for old, repl := range map[string]string{
		"bind :443 ":                         "bind " + httpsAddr + " ",
		"bind :80\n":                         "bind " + httpAddr + "\n",
		"/etc/haproxy/certs/sharethings.pem": bundle,
		"server sharethings 127.0.0.1:8080":  "server sharethings " + upstream,
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("%s no longer contains %q: update the test with the example", haproxyExample, old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	cfgFile := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	if out, err := exec.Command(bin, "-c", "-f", cfgFile).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-db", "-f", cfgFile)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy:\n%s", logs.String())
		}
	})
	waitFor(t, "haproxy to listen", func() bool {
		c, err := net.Dial("tcp", httpsAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "https://" + httpsAddr, certFile
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
