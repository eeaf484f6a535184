package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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
	requireBrowser(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	runScenario(t, "share.mjs", "--url", srv.url, "--shots", screenshotDir(t))
}
