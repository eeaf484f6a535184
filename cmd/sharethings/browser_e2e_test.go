package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The web app's end-to-end tests: scenarios in web/e2e/ drive Debian's Chromium through
// playwright-core against the real server, which serves the embedded build of web/dist.

// screenshotDir is where the scenarios leave their screenshots for people to look at
// (absolute: the scenarios run from the repository root).
func screenshotDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join(repoRoot, "web", "e2e", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// requireBrowser fails, pointing at what to install, when Chromium or playwright-core is
// missing: CI installs both, so a missing one is a broken setup, not a reason to skip.
func requireBrowser(t *testing.T) {
	t.Helper()
	requireNodePackage(t, "playwright-core")
	if os.Getenv("CHROMIUM") == "" {
		if _, err := exec.LookPath("chromium"); err != nil {
			t.Fatalf("chromium is not installed (%v): apt-get install chromium, or set CHROMIUM to a Chromium binary", err)
		}
	}
}

// browserServer checks the browser is there and starts a server for a scenario.
func browserServer(t *testing.T) *testServer {
	t.Helper()
	requireBrowser(t)
	cfg, clk := testConfig(t)
	return startServer(t, cfg, clk)
}

// runScenario runs one web/e2e scenario and fails the test with its output if it fails.
func runScenario(t *testing.T, script string, args ...string) string {
	t.Helper()
	cmd := nodeScript(t, "web/e2e/"+script, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out.String())
	}
	t.Logf("%s:\n%s", script, out.String())
	return out.String()
}

// TestBrowserShare: two people in one session share text, pasted and dropped images and a
// 20 MiB file; everything arrives live and byte-identical; presence, pin, rename, delete and
// clear reach the other side; a reload restores the list; a wrong passphrase is explained.
func TestBrowserShare(t *testing.T) {
	srv := browserServer(t)
	runScenario(t, "share.mjs", "--url", srv.url, "--shots", screenshotDir(t))
}

// TestBrowserUploadResumesAfterNetworkCut: upload requests are refused for a while in the
// middle of an upload (Playwright blocks the route, then restores it); the upload continues
// from the offset it had reached rather than starting over, and arrives intact.
func TestBrowserUploadResumesAfterNetworkCut(t *testing.T) {
	srv := browserServer(t)
	runScenario(t, "resume.mjs", "--url", srv.url)
}

// TestBrowserCLIInterop: what the CLI sends, the browser shows and downloads byte-identical;
// what the browser sends, the CLI receives byte-identical.
func TestBrowserCLIInterop(t *testing.T) {
	requireBrowser(t)
	bin := buildBinary(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	c := newCLI(t, bin, srv.url)
	dir, inbox := t.TempDir(), t.TempDir()
	sent := make([]byte, 3<<20+1)
	seededRand(6).Read(sent)
	os.WriteFile(filepath.Join(dir, "from-cli.bin"), sent, 0o600)
	c.mustRun(strings.NewReader("hello from the CLI\n"), "send", "-s", "interop")
	c.mustRun(nil, "send", "-s", "interop", filepath.Join(dir, "from-cli.bin"))
	watcher := c.start("watch", "-s", "interop", "--dir", inbox)
	waitFor(t, "the watcher to start", func() bool { return strings.Contains(watcher.stderr.String(), "watching") })

	out := filepath.Join(dir, "from-browser.bin")
	runScenario(t, "interop.mjs", "--url", srv.url, "--session", "interop", "--passphrase", cliPassphrase,
		"--file", "from-cli.bin", "--sha256", sha256Hex(sent), "--out", out)
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	received := filepath.Join(inbox, "from-browser.bin")
	waitFor(t, "the CLI to receive the browser's file", func() bool { _, err := os.Stat(received); return err == nil })
	if got, _ := os.ReadFile(received); !bytes.Equal(got, want) {
		t.Fatalf("the CLI received %d bytes, the browser sent %d: they differ", len(got), len(want))
	}
}

// TestBrowserFallbackAndUploadControls: with event streams refused, the app switches to long
// polling by itself and still receives; uploads can be paused, resumed and cancelled.
func TestBrowserFallbackAndUploadControls(t *testing.T) {
	srv := browserServer(t)
	runScenario(t, "controls.mjs", "--url", srv.url)
}

// TestBrowserStreamsLargeDownloadsToDisk: a 210 MiB item (over the size the app holds in
// memory) is decrypted chunk by chunk into the file the user picked.
func TestBrowserStreamsLargeDownloadsToDisk(t *testing.T) {
	srv := browserServer(t)
	file := filepath.Join(t.TempDir(), "large.bin")
	data := make([]byte, 210<<20)
	seededRand(210).Read(data)
	os.WriteFile(file, data, 0o600)
	runScenario(t, "large.mjs", "--url", srv.url, "--file", file, "--sha256", sha256Hex(data))
}
