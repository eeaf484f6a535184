// Package pgtest gives Go tests a real, throwaway PostgreSQL server.
//
// It is test support only: it is imported by the tests of storage and cmd/sharethings, never by
// the program itself, and it imports nothing from this module. It needs no Go database driver:
// it drives the server with initdb, pg_ctl and psql from the installed PostgreSQL (Debian's
// package "postgresql", which .ci/run installs).
//
// A test binary normally shares one server:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		pgtest.StopShared()
//		os.Exit(code)
//	}
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.Shared(t).NewDatabase(t) // an empty database, dropped when t ends
//		...
//	}
//
// Setting SHARETHINGS_TEST_DATABASE_URL to the superuser URL of an existing server makes Shared
// use that server instead of starting one.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// EnvURL names the environment variable that points Shared at an existing server: the URL of a
// superuser connection, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvURL = "SHARETHINGS_TEST_DATABASE_URL"

// Server is a PostgreSQL server started for one test binary (or, from Shared, an existing server
// named by SHARETHINGS_TEST_DATABASE_URL).
type Server struct {
	adminURL string
	external bool // not started by this package: Stop leaves it alone

	binDir  string // initdb, pg_ctl, postgres (and usually psql); empty for an external server
	dir     string // the temp dir: data directory, unix socket, logs
	dataDir string
	logFile string
	port    int
	asUser  *osUser // the user initdb and pg_ctl run as; nil for the current one

	stopOnce sync.Once
}

type osUser struct {
	name     string
	uid, gid int
}

// dbSeq numbers the databases of this process, for unique names.
var dbSeq atomic.Int64

// Start initdb's a cluster in a fresh temp directory and starts postgres on a free 127.0.0.1 TCP
// port (and its unix socket in that temp directory), with trust authentication, fsync=off and
// max_connections=300. When running as root it runs initdb and pg_ctl as the postgres user
// (runuser -u postgres -- ...), with the temp directory owned by that user. It finds the binaries
// under /usr/lib/postgresql/*/bin (the newest version) or on PATH, and returns an error when no
// PostgreSQL is installed. pg_ctl start -w returns once the server accepts connections.
func Start() (*Server, error) {
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{binDir: binDir}

	base := os.TempDir()
	if os.Getuid() == 0 {
		u, err := lookupUser("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root, and initdb/postgres refuse to: %w", err)
		}
		s.asUser = u
		// The postgres user must reach the directory: /tmp is world-searchable, while root's
		// TMPDIR may not be. A short path also keeps the unix socket path under its length limit.
		base = "/tmp"
	}
	s.dir, err = os.MkdirTemp(base, "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if s.asUser != nil {
		if err := os.Chown(s.dir, s.asUser.uid, s.asUser.gid); err != nil {
			os.RemoveAll(s.dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	s.dataDir = filepath.Join(s.dir, "data")
	s.logFile = filepath.Join(s.dir, "postgres.log")

	if err := s.start(); err != nil {
		// Take down whatever may have come up, and drop the cluster's files, but keep the temp
		// dir with the logs the error mentions.
		s.kill()
		os.RemoveAll(s.dataDir)
		return nil, err
	}
	s.adminURL = s.urlFor("postgres")
	return s, nil
}

func (s *Server) start() error {
	out, err := s.run(2*time.Minute, filepath.Join(s.binDir, "initdb"),
		"-D", s.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if err != nil {
		os.WriteFile(filepath.Join(s.dir, "initdb.log"), out, 0o644)
		return fmt.Errorf("pgtest: initdb (%s): %v\n%s", filepath.Join(s.binDir, "initdb"), err, out)
	}

	// Options go into postgresql.conf (a later line wins over an earlier one) rather than
	// through pg_ctl -o, which would need shell quoting.
	conf := fmt.Sprintf(`
# pgtest
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
`, strings.ReplaceAll(s.dir, "'", "''"))
	if err := appendFile(filepath.Join(s.dataDir, "postgresql.conf"), conf); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}

	// The free port is found by listening on it and letting go, so another process may take it
	// before postgres binds it: try again on a new port then.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		if err := appendFile(filepath.Join(s.dataDir, "postgresql.conf"), fmt.Sprintf("port = %d\n", port)); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		s.port = port
		logBefore := fileSize(s.logFile)
		out, err := s.run(2*time.Minute, filepath.Join(s.binDir, "pg_ctl"),
			"start", "-w", "-t", "90", "-D", s.dataDir, "-l", s.logFile)
		if err == nil {
			return nil
		}
		log := readFrom(s.logFile, logBefore)
		lastErr = fmt.Errorf("pgtest: pg_ctl start on port %d: %v\n%s\nserver log %s:\n%s",
			port, err, out, s.logFile, tail(log, 4000))
		if !bytes.Contains(log, []byte("could not bind")) && !bytes.Contains(log, []byte("already in use")) {
			break
		}
		s.kill() // nothing should be running, but make sure before the next try
	}
	return lastErr
}

// Stop stops the server (pg_ctl stop -m immediate) and removes its directory. It does nothing for
// an external server, and nothing the second time.
func (s *Server) Stop() {
	if s == nil || s.external {
		return
	}
	s.stopOnce.Do(func() {
		s.kill()
		os.RemoveAll(s.dir)
	})
}

// kill stops the server with pg_ctl stop -m immediate and, should that fail or leave the
// postmaster behind, SIGKILLs the postmaster named by postmaster.pid.
func (s *Server) kill() {
	pid := s.postmasterPID()
	if pid == 0 {
		return // never started, or already stopped
	}
	s.run(time.Minute, filepath.Join(s.binDir, "pg_ctl"), "stop", "-m", "immediate", "-w", "-t", "30", "-D", s.dataDir)
	if pid := s.postmasterPID(); pid != 0 && alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		// Its backends exit on their own once the postmaster is gone; give it a moment.
		for i := 0; i < 100 && alive(pid); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// alive reports whether process pid exists and is not a zombie. The postmaster is a child of
// pg_ctl, which exits at once, so it is reaped by init; where init does not reap (some
// containers), a stopped postmaster lingers as a zombie, which is no server.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill
	}
	// pid (comm) state ...: comm may contain spaces and parentheses, so look after the last ')'.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 {
		if f := strings.Fields(string(b[i+1:])); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
			return false
		}
	}
	return true
}

// postmasterPID is the pid on the first line of postmaster.pid, or 0.
func (s *Server) postmasterPID() int {
	b, err := os.ReadFile(filepath.Join(s.dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// AdminURL is a postgres:// URL for the superuser to the postgres database, e.g.
// postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable.
func (s *Server) AdminURL() string { return s.adminURL }

// urlFor is the URL of database name, with the credentials and parameters of the admin URL.
func (s *Server) urlFor(name string) string {
	if s.adminURL == "" {
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
	}
	u, err := url.Parse(s.adminURL)
	if err != nil {
		// Shared checked it parses.
		panic(fmt.Sprintf("pgtest: admin URL: %v", err))
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// NewDatabase creates a new empty database with a unique name and returns its URL. When t ends,
// the database is dropped (DROP DATABASE ... WITH (FORCE), so open connections do not keep it).
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	var rnd [4]byte
	rand.Read(rnd[:])
	name := fmt.Sprintf("t_%d_%d_%s", os.Getpid(), dbSeq.Add(1), hex.EncodeToString(rnd[:]))
	if err := s.Exec(`CREATE DATABASE "` + name + `"`); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s.urlFor(name)
}

// Exec runs one SQL command as the superuser in the postgres database, with psql.
func (s *Server) Exec(sql string) error {
	psql, err := s.PSQL()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", s.adminURL, "-c", sql)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql -c %q: %v\n%s", sql, err, out)
	}
	return nil
}

// PSQL is the path of the psql to use with this server: the one next to its initdb, else
// /usr/bin/psql, else the one on PATH.
func (s *Server) PSQL() (string, error) {
	dir := s.binDir
	if dir == "" {
		dir, _ = findBinDir()
	}
	candidates := []string{"/usr/bin/psql"}
	if dir != "" {
		candidates = append([]string{filepath.Join(dir, "psql")}, candidates...)
	}
	for _, p := range candidates {
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("psql"); err == nil {
		return p, nil
	}
	return "", errors.New("psql not found (install the Debian package postgresql or postgresql-client)")
}

// run runs a PostgreSQL program, as s.asUser when set, and returns its combined output.
func (s *Server) run(timeout time.Duration, prog string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var cmd *exec.Cmd
	if s.asUser != nil {
		runuser, err := findRunuser()
		if err != nil {
			return nil, err
		}
		cmd = exec.CommandContext(ctx, runuser, append([]string{"-u", s.asUser.name, "--", prog}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, prog, args...)
	}
	cmd.Dir = s.dir // initdb wants a working directory its user can read
	cmd.Env = childEnv()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// pg_ctl start -l sends the postmaster's output to the log file; should anything still hold
	// the output pipe, do not wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// childEnv is this process's environment without the PG* variables (PGDATA, PGPORT, PGHOST, ...)
// that would steer initdb and pg_ctl elsewhere, and with English messages.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// findBinDir is the directory of initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, else
// the directory of the initdb on PATH.
func findBinDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	type cand struct {
		dir     string
		version []int
	}
	var cands []cand
	for _, m := range matches {
		dir := filepath.Dir(m)
		if !isExecutable(m) || !isExecutable(filepath.Join(dir, "pg_ctl")) {
			continue
		}
		cands = append(cands, cand{dir, parseVersion(filepath.Base(filepath.Dir(dir)))})
	}
	if len(cands) > 0 {
		sort.Slice(cands, func(i, j int) bool { return versionLess(cands[j].version, cands[i].version) })
		return cands[0].dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", errors.New("pgtest: PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb and no initdb with pg_ctl on PATH (Debian: apt-get install postgresql; .ci/run installs it)")
}

func parseVersion(s string) []int {
	var v []int
	for _, f := range strings.Split(s, ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			n = -1
		}
		v = append(v, n)
	}
	return v
}

func versionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func findRunuser() (string, error) {
	if p, err := exec.LookPath("runuser"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"} {
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("pgtest: running as root and runuser (util-linux) not found: initdb and postgres refuse to run as root")
}

func lookupUser(name string) (*osUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("no %s user to run them as (Debian's postgresql package creates it): %w", name, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s: uid %q gid %q", name, u.Uid, u.Gid)
	}
	return &osUser{name: name, uid: uid, gid: gid}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port, nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom is the content of path from offset on (nil if unreadable).
func readFrom(path string, offset int64) []byte {
	b, err := os.ReadFile(path)
	if err != nil || offset > int64(len(b)) {
		return b
	}
	return b[offset:]
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return append([]byte("..."), b[len(b)-n:]...)
	}
	return b
}

var shared struct {
	once   sync.Once
	server *Server
	err    error
}

// Shared returns the server of this test binary, starting it on first use. If
// SHARETHINGS_TEST_DATABASE_URL is set to the superuser URL of an existing server, that server is
// used instead and nothing is started. When no server can be had it fails the test with the
// reason: tests that need PostgreSQL fail rather than skip when it is missing, because CI
// installs it.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			if _, err := url.Parse(u); err != nil {
				shared.err = fmt.Errorf("pgtest: %s: %v", EnvURL, err)
				return
			}
			shared.server = &Server{adminURL: u, external: true}
			return
		}
		shared.server, shared.err = Start()
	})
	if shared.err != nil {
		t.Fatalf("%v", shared.err)
	}
	return shared.server
}

// StopShared stops the shared server if this binary started one. Call it from TestMain after
// m.Run().
func StopShared() {
	shared.server.Stop() // nil-safe; a no-op for an external server
}
