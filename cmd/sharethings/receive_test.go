package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSafeName: whatever name a sender chose, a received item lands as a plain file in the
// directory the receiver picked.
func TestSafeName(t *testing.T) {
	const id = "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
	for name, want := range map[string]string{
		"report.pdf":             "report.pdf",
		"../../etc/passwd":       "passwd",
		`..\..\boot.ini`:         "boot.ini",
		"/abs/path/x.txt":        "x.txt",
		"..":                     "item-0f8e4c1a",
		"":                       "item-0f8e4c1a",
		"   ":                    "item-0f8e4c1a",
		".bashrc":                "_bashrc",
		"a\x00b\nc\x1b[31m.txt":  "a_b_c_[31m.txt",
		"photo 2026.jpg":         "photo 2026.jpg",
		"日本語.txt":                "日本語.txt",
		strings.Repeat("é", 150): strings.Repeat("é", 100),
	} {
		if got := safeName(name, id); got != want {
			t.Errorf("safeName(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestPlaceFileKeepsExistingFiles: an existing file is never overwritten without force; the
// new one takes the next free name.
func TestPlaceFileKeepsExistingFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "notes.txt")
	os.WriteFile(path, []byte("mine"), 0o600)
	place := func(content string, force bool) string {
		tmp := filepath.Join(dir, ".part")
		os.WriteFile(tmp, []byte(content), 0o600)
		got, err := placeFile(tmp, path, force)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(tmp)
		return got
	}
	if got := place("first", false); got != filepath.Join(dir, "notes (1).txt") {
		t.Fatalf("placed at %s", got)
	}
	if got := place("second", false); got != filepath.Join(dir, "notes (2).txt") {
		t.Fatalf("placed at %s", got)
	}
	if b, _ := os.ReadFile(path); string(b) != "mine" {
		t.Fatalf("existing file now holds %q", b)
	}
	if got := place("forced", true); got != path {
		t.Fatalf("forced to %s", got)
	}
	if b, _ := os.ReadFile(path); string(b) != "forced" {
		t.Fatalf("--force left %q", b)
	}
}

// TestCLIOnATerminal runs the CLI under a pseudo-terminal (script(1)): the passphrase is asked
// for when no other source gives it, and a progress bar is drawn; piped, none is.
func TestCLIOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed")
	}
	bin := buildBinary(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	file := filepath.Join(t.TempDir(), "data.bin")
	os.WriteFile(file, make([]byte, 3<<20), 0o600)
	cmd := exec.Command(script, "-qec", bin+" send -s team "+file, "/dev/null")
	cmd.Env = append(os.Environ(), "SHARETHINGS_SERVER="+srv.url)
	cmd.Stdin = strings.NewReader(cliPassphrase + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("send on a terminal: %v\n%s", err, out)
	}
	for _, want := range []string{"Passphrase for team:", "data.bin", "100%"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("terminal output lacks %q:\n%s", want, out)
		}
	}
	piped := newCLI(t, bin, srv.url).run(nil, "send", "-s", "team", file)
	if piped.code != 0 || piped.stderr != "" {
		t.Fatalf("piped send: exit %d, stderr %q: want a clean stderr", piped.code, piped.stderr)
	}
}
