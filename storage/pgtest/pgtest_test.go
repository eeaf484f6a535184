package pgtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// selectOne runs `psql URL -c 'select 1'` and returns its trimmed output.
func selectOne(t *testing.T, s *Server, url string) string {
	t.Helper()
	psql, err := s.PSQL()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", "select 1").CombinedOutput()
	if err != nil {
		t.Fatalf("psql %s -c 'select 1': %v\n%s", url, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestSharedNewDatabase(t *testing.T) {
	s := Shared(t)
	a := s.NewDatabase(t)
	b := s.NewDatabase(t)
	t.Logf("admin %s\ndatabases %s and %s", s.AdminURL(), a, b)
	if a == b {
		t.Fatalf("NewDatabase returned %s twice", a)
	}
	for _, u := range []string{s.AdminURL(), a, b} {
		if got := selectOne(t, s, u); got != "1" {
			t.Errorf("select 1 on %s: %q", u, got)
		}
	}
}

func TestNewDatabaseDroppedOnCleanup(t *testing.T) {
	s := Shared(t)
	var u string
	t.Run("sub", func(t *testing.T) {
		u = s.NewDatabase(t)
		selectOne(t, s, u)
	})
	psql, err := s.PSQL()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(psql, "-X", "-A", "-t", u, "-c", "select 1").CombinedOutput(); err == nil {
		t.Fatalf("database %s still there after its test ended: %s", u, out)
	}
}

// TestStartStop checks that a server of its own comes up and that Stop leaves no process and no
// directory behind.
func TestStartStop(t *testing.T) {
	if os.Getenv(EnvURL) != "" {
		t.Skipf("%s is set: this run uses an existing server", EnvURL)
	}
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	if got := selectOne(t, s, s.AdminURL()); got != "1" {
		t.Errorf("select 1: %q", got)
	}
	pid := s.postmasterPID()
	if pid == 0 {
		t.Fatal("no postmaster.pid while running")
	}
	s.Stop()
	if alive(pid) {
		t.Errorf("postmaster %d still running after Stop", pid)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after Stop (%v)", s.dir, err)
	}
	s.Stop() // a second Stop is harmless
}
