package main

// Running the Node tools of web/tools/ that the end-to-end tests drive.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// requireNodePackage fails the test, pointing at make node-deps, when node or one of web/'s
// packages is missing: CI installs them, so a missing one is a broken setup, not a skip.
func requireNodePackage(t *testing.T, pkg string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not in PATH (%v): install Node.js 18+ and run `make node-deps`", err)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "web", "node_modules", pkg, "package.json")); err != nil {
		t.Fatalf("%s is not installed (%v): run `make node-deps`", pkg, err)
	}
}

// nodeTool prepares one of web/tools/ to run from the repository root. A hung tool is killed
// shortly before the test binary's deadline, so the failure still shows its output instead of
// only a goroutine dump.
func nodeTool(t *testing.T, script string) *exec.Cmd {
	return nodeScript(t, "web/tools/"+script)
}

// nodeScript prepares a Node script of the repository (a path from its root) to run from the
// root with args.
func nodeScript(t *testing.T, path string, args ...string) *exec.Cmd {
	t.Helper()
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-10*time.Second))
		t.Cleanup(cancel)
	}
	cmd := exec.CommandContext(ctx, "node", append([]string{path}, args...)...)
	cmd.Dir = repoRoot
	return cmd
}

// readToolOutput copies each line a tool prints to printed and hands it to handle, in order,
// then reads stdout to its end. The scanner takes lines of up to 16 MiB: an error event carries
// the whole response body.
func readToolOutput(stdout io.Reader, printed io.Writer, handle func(line []byte)) {
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 16<<20)
	for lines.Scan() {
		fmt.Fprintln(printed, lines.Text())
		handle(lines.Bytes())
	}
	io.Copy(io.Discard, stdout)
}
