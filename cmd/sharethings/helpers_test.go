package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/sharethings/sharethings/storage/pgtest"
)

// repoRoot is the repository root as seen from this package's directory, where go test runs.
const repoRoot = "../.."

// vectors are the shared protocol test vectors (testdata is a copy of ../shared).
type vectorSession struct {
	SessionID   string          `json:"sessionId"`
	KDF         json.RawMessage `json:"kdf"`
	Fingerprint json.RawMessage `json:"fingerprint"`
}

func loadVectors(t testing.TB) []vectorSession {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "protocol-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Sessions []vectorSession `json:"sessions"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v.Sessions
}

// clock is a settable time source shared by the server under test and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testServer is a real server (the App production runs) on a loopback port.
type testServer struct {
	t     testing.TB
	app   *App
	cfg   *Config
	clock *clock
	url   string
	stop  context.CancelFunc
	done  chan error
	logs  *syncBuffer
	// client sends the helpers' requests; nil means http.DefaultClient.
	client *http.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// testEngine is the database the in-process servers of these tests use:
// SHARETHINGS_TEST_ENGINE=postgres runs them all on PostgreSQL (make test-postgres).
var testEngine = os.Getenv("SHARETHINGS_TEST_ENGINE")

// testConfig is the default configuration with a temp data dir, a free port, vector-friendly
// kdf minimum and a settable clock; on the test engine.
func testConfig(t testing.TB, extra ...string) (*Config, *clock) {
	t.Helper()
	args := []string{"--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data"), "--min-kdf-iterations", "1000", "--join-rate", "1000"}
	if testEngine == "postgres" {
		args = append(args, "--database-url", pgtest.Shared(t).NewDatabase(t))
	}
	args = append(args, extra...)
	cfg, err := ParseConfig(args, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC()}
	cfg.Now = clk.Now
	// Tests run the sweeps themselves at the moments they choose; background runs at other
	// moments would make them depend on timing.
	cfg.SweepInterval, cfg.PresenceCheck = time.Hour, time.Hour
	return cfg, clk
}

func startServer(t testing.TB, cfg *Config, clk *clock) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	setTestLogger(logs)
	app, err := OpenApp(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{t: t, app: app, cfg: cfg, clock: clk, url: app.URL(), stop: cancel, done: make(chan error, 1), logs: logs}
	go func() { s.done <- app.Serve(ctx) }()
	t.Cleanup(s.shutdown)
	return s
}

// shutdown stops the server and waits until it has closed its database; safe to call twice.
func (s *testServer) shutdown() {
	if s.stop == nil {
		return
	}
	s.stop()
	s.stop = nil
	if err := <-s.done; err != nil {
		s.t.Errorf("server stopped with %v", err)
	}
}

// restart stops the server and starts a new one on the same data directory.
func (s *testServer) restart() *testServer {
	s.shutdown()
	cfg := *s.cfg
	cfg.Addr = "127.0.0.1:0"
	return startServer(s.t, &cfg, s.clock)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// requireProblem asserts an RFC 9457 problem with the given status and code.
func (r response) requireProblem(t testing.TB, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	p := r.json(t)
	if p["code"] != code || p["status"] != float64(status) || p["title"] == "" || p["type"] == nil || p["detail"] == nil {
		t.Fatalf("problem %v, want code %s", p, code)
	}
}

// do sends a request with an optional JSON (or raw string) body and bearer token.
func (s *testServer) do(method, path string, body any, token string) response {
	s.t.Helper()
	var raw []byte
	var headers []string
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	if body != nil {
		headers = []string{"Content-Type", "application/json"}
	}
	return s.request(s.t, method, path, token, raw, headers...)
}

// request sends method to target, a path on s or an absolute URL, with the bearer token when
// not empty and then the given header name/value pairs.
func (s *testServer) request(t testing.TB, method, target, token string, body []byte, headers ...string) response {
	t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = s.url + target
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.send(t, req)
}

func (s *testServer) send(t testing.TB, req *http.Request) response {
	t.Helper()
	client := s.client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

// join sends a join for sid with the given fingerprint and optional kdf.
func (s *testServer) join(sid string, fingerprint, kdf json.RawMessage) response {
	s.t.Helper()
	body := map[string]any{"clientName": "tester", "fingerprint": fingerprint}
	if kdf != nil {
		body["kdf"] = kdf
	}
	return s.do(http.MethodPost, "/api/v1/sessions/"+sid+"/join", body, "")
}

// joinToken joins v's session (creating it when v has a kdf) and returns the token; a refused
// join fails the test.
func (s *testServer) joinToken(t testing.TB, v vectorSession) string {
	t.Helper()
	r := s.join(v.SessionID, v.Fingerprint, v.KDF)
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("join %s: %d %s", v.SessionID, r.status, r.body)
	}
	return r.json(t)["token"].(string)
}

// snapshot describes everything persistent: every file under the data dir but the SQLite
// files (path, mode, content hash) and every row of every table.
func (s *testServer) snapshot() string {
	s.t.Helper()
	var lines []string
	root := s.cfg.DataDir
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || strings.HasPrefix(d.Name(), "sharethings.db") {
			return err
		}
		info, _ := d.Info()
		sum := ""
		if !d.IsDir() {
			b, _ := os.ReadFile(path)
			sum = sha256Hex(b)
		}
		rel, _ := filepath.Rel(root, path)
		lines = append(lines, fmt.Sprintf("%s %v %s", rel, info.Mode(), sum))
		return nil
	})
	return strings.Join(append(lines, s.dumpDatabase()...), "\n")
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// openDB opens the server's database (read-only on SQLite), to look past the API at what it
// stored. Queries for both engines number their parameters: $1.
func (s *testServer) openDB(t testing.TB) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite3", "file:"+filepath.Join(s.cfg.DataDir, "sharethings.db")+"?mode=ro"
	if s.cfg.DatabaseURL != "" {
		driver, dsn = "pgx", s.cfg.DatabaseURL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func (s *testServer) dumpDatabase() []string {
	db := s.openDB(s.t)
	defer db.Close()
	var lines []string
	for _, table := range []string{"sessions", "clients", "content_metadata", "chunk_metadata", "uploads", "events", "schema_migrations"} {
		rows, err := db.Query(`SELECT * FROM ` + table)
		if err != nil {
			s.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			lines = append(lines, fmt.Sprintf("%s %v", table, vals))
		}
		rows.Close()
	}
	sort.Strings(lines)
	return lines
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
