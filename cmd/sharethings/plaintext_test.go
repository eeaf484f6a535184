package main

// TestNoPlaintextOnServer is the proof PROTOCOL §3 promises: known plaintext shared through
// the real CLI appears nowhere on the server, in no encoding: not in any file of the data
// directory (the SQLite database with its WAL and shared memory, chunk files, the upload
// store's bookkeeping), not in any row of any table, not in the logs. Display names and the
// session id are visible by design and serve as positive controls instead. The helpers that
// read the server's database at the end are shared with the load and soak tests.

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"
)

const (
	plainSession    = "probe-3e5f"
	plainText       = "Meet me at the old lighthouse at 23:40, marker 5d0b7e21"
	plainFileName   = "quarterly-salaries-7f3a.xlsx"
	plainFileStem   = "quarterly-salaries-7f3a"
	plainContent    = "PAYROLL-CONTENT-MARKER-b4e9d1c6"
	plainPassphrase = "tangerine submarine 2c8f91 lantern"
	plainTextMime   = "text/plain;charset=utf-8"
)

func TestNoPlaintextOnServer(t *testing.T) {
	bin := buildBinary(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	c := newCLI(t, bin, srv.url)
	c.env = append(c.env, "SHARETHINGS_PASSPHRASE="+plainPassphrase)
	shareMarkers(t, c)

	markers := []string{plainText, plainFileName, plainFileStem, plainContent, plainPassphrase, plainTextMime}
	if m := mimeOf(plainFileName); m != "application/octet-stream" {
		markers = append(markers, m) // this system knows the type: it is plaintext too
	}
	requireSearchWorks(t, srv)
	requireAbsent(t, "with the server running", serverHaystacks(t, srv), markers)
	srv.shutdown() // checkpoints the WAL into the database file: search that too
	requireAbsent(t, "after a clean stop", serverHaystacks(t, srv), markers)
}

// shareMarkers shares the markers through the CLI while another CLI watches, and waits until
// the watcher has decrypted them: the server had everything it would ever get.
func shareMarkers(t *testing.T, c *cli) {
	t.Helper()
	c.mustRun(strings.NewReader("hello\n"), "send", "-s", plainSession) // creates the session
	inbox := t.TempDir()
	watcher := c.start("watch", "-s", plainSession, "--dir", inbox)
	waitFor(t, "the watcher to start", func() bool { return strings.Contains(watcher.stderr.String(), "watching") })

	file := filepath.Join(t.TempDir(), plainFileName)
	content := bytes.Repeat([]byte(plainContent+" in a 200 kB spreadsheet\n"), 4000) // four chunks
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustRun(strings.NewReader(plainText+"\n"), "send", "-s", plainSession)
	c.mustRun(nil, "send", "-s", plainSession, "--chunk-size", "65536", file)

	waitFor(t, "the watcher to print the text", func() bool { return strings.Contains(watcher.stdout.String(), plainText) })
	waitFor(t, "the watcher to write the file", func() bool {
		got, err := os.ReadFile(filepath.Join(inbox, plainFileName))
		return err == nil && bytes.Equal(got, content)
	})
	if code := watcher.interrupt(); code != exitInterrupted {
		t.Fatalf("watch ended with %d:\n%s", code, watcher.stderr.String())
	}
}

// haystack is one place searched: a file, a table or the logs.
type haystack struct {
	where string
	data  []byte
}

// serverHaystacks is everything the server holds: its files, its tables and its logs.
func serverHaystacks(t *testing.T, srv *testServer) []haystack {
	t.Helper()
	out := dataDirFiles(t, srv.cfg.DataDir)
	db := srv.openDB(t)
	defer db.Close()
	out = append(out, tableDumps(t, db)...)
	return append(out, haystack{"the server logs", []byte(srv.logs.String())})
}

// dataDirFiles reads every file under dir as raw bytes.
func dataDirFiles(t testing.TB, dir string) []haystack {
	t.Helper()
	var out []haystack
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		out = append(out, haystack{path, raw})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tableDumps renders every row of every table, blobs as raw bytes, one haystack per table.
func tableDumps(t testing.TB, db *sql.DB) []haystack {
	t.Helper()
	var tables []string
	query := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if _, ok := db.Driver().(*sqlite3.SQLiteDriver); !ok {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`
	}
	queryRows(t, db, func(r *sql.Rows) error {
		var name string
		err := r.Scan(&name)
		tables = append(tables, name)
		return err
	}, query)
	var out []haystack
	for _, table := range tables {
		var dump []byte
		queryRows(t, db, func(r *sql.Rows) error {
			row, err := scanAny(r)
			for _, v := range row {
				dump = append(append(dump, 0x1f), anyBytes(v)...)
			}
			dump = append(dump, '\n')
			return err
		}, `SELECT * FROM "`+table+`"`)
		out = append(out, haystack{"table " + table, dump})
	}
	return out
}

func scanAny(r *sql.Rows) ([]any, error) {
	cols, err := r.Columns()
	if err != nil {
		return nil, err
	}
	vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, r.Scan(ptrs...)
}

func anyBytes(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	case nil:
		return nil
	}
	return fmt.Append(nil, v)
}

// forms are the ways a marker could be written down: as is, URL-escaped, in hex of either
// case, and in standard or URL-safe base64 at each of the three positions a substring can
// take in a longer encoded string (only the characters the marker alone decides).
func forms(marker string) map[string]string {
	raw := []byte(marker)
	out := map[string]string{
		"raw": marker, "query-escaped": url.QueryEscape(marker), "path-escaped": url.PathEscape(marker),
		"hex": hex.EncodeToString(raw), "HEX": strings.ToUpper(hex.EncodeToString(raw)),
	}
	for shift := range 3 {
		shifted := append(make([]byte, shift), raw...)
		from, to := (8*shift+5)/6, 8*len(shifted)/6
		out[fmt.Sprintf("base64@%d", shift)] = base64.RawStdEncoding.EncodeToString(shifted)[from:to]
		out[fmt.Sprintf("base64url@%d", shift)] = base64.RawURLEncoding.EncodeToString(shifted)[from:to]
	}
	return out
}

// findings lists every place where any form of any marker occurs.
func findings(haystacks []haystack, markers []string) []string {
	var out []string
	for _, m := range markers {
		for form, needle := range forms(m) {
			for _, h := range haystacks {
				if i := bytes.Index(h.data, []byte(needle)); i >= 0 {
					out = append(out, fmt.Sprintf("%q (%s %q) in %s at byte %d", m, form, needle, h.where, i))
				}
			}
		}
	}
	return out
}

func requireAbsent(t *testing.T, when string, haystacks []haystack, markers []string) {
	t.Helper()
	for _, f := range findings(haystacks, markers) {
		t.Errorf("%s: plaintext on the server: %s", when, f)
	}
	t.Logf("%s: searched %d places for %d markers in %d forms each", when, len(haystacks), len(markers), len(forms("x")))
}

// requireSearchWorks makes the search fail-able: a marker planted in the data directory is
// found as is and in a shifted base64 form, and what the server stores by design (the
// session id, the CLI's display name) is found in its tables and its database files.
func requireSearchWorks(t *testing.T, srv *testServer) {
	t.Helper()
	const planted = "planted marker 0f1e2d3c"
	dir := filepath.Join(srv.cfg.DataDir, "sessions", "plant-check")
	os.MkdirAll(dir, 0o700)
	defer os.RemoveAll(dir)
	plant := "before " + base64.StdEncoding.EncodeToString([]byte("Q"+planted)) + " between " + planted + " after"
	if err := os.WriteFile(filepath.Join(dir, "x.bin"), []byte(plant), 0o600); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(findings(serverHaystacks(t, srv), []string{planted}), "\n")
	for _, want := range []string{"(base64@1 ", "(raw ", filepath.Join(dir, "x.bin")} {
		if !strings.Contains(got, want) {
			t.Fatalf("the search missed the planted marker (want %q):\n%s", want, got)
		}
	}
	visible := strings.Join(findings(serverHaystacks(t, srv), []string{plainSession, "cli-test"}), "\n")
	stores := []string{"in table sessions", "in table clients"}
	if srv.cfg.DatabaseURL == "" {
		stores = append(stores, "sharethings.db")
	}
	for _, want := range stores {
		if !strings.Contains(visible, want) {
			t.Fatalf("the search does not see what the server does store (want %q):\n%s", want, visible)
		}
	}
}

// What follows reads what the server stored, for the load and soak tests' checks, and
// compares the event log with what a subscriber received.

// store is what a stopped server left: its rows and its files.
type store struct {
	dataDir  string
	chunks   map[chunkKey]storedChunk
	uploads  map[chunkKey]string // unfinished uploads: chunk → upload id
	complete map[string]bool     // "sid/cid" → is_complete
	files    map[chunkKey]string // sessions/{sid}/{cid}/{i}.bin → its path
	itemDirs []string            // "sid/cid" of the item directories in both trees
	infos    []string            // the upload ids of the .info files under uploads/
	strays   []string            // files in neither layout
}

func readStore(t testing.TB, db *sql.DB, dataDir string) *store {
	t.Helper()
	st := &store{dataDir: dataDir, chunks: storedChunks(t, db), uploads: map[chunkKey]string{}, complete: map[string]bool{}, files: map[chunkKey]string{}}
	queryRows(t, db, func(r *sql.Rows) error {
		var k chunkKey
		var id string
		err := r.Scan(&k.sid, &k.cid, &k.index, &id)
		st.uploads[k] = id
		return err
	}, `SELECT session_id, content_id, chunk_index, upload_id FROM uploads`)
	queryRows(t, db, func(r *sql.Rows) error {
		var id string
		var done bool
		err := r.Scan(&id, &done)
		st.complete[id] = done
		return err
	}, `SELECT session_id || '/' || content_id, is_complete FROM content_metadata`)
	st.walk(t, "sessions", st.chunkFile)
	st.walk(t, "uploads", st.infoFile)
	return st
}

// walk passes every file under dir, by its path relative to dir, to file; a file it refuses
// is a stray.
func (st *store) walk(t testing.TB, dir string, file func(rel, path string) bool) {
	t.Helper()
	root := filepath.Join(st.dataDir, dir)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		switch {
		case err != nil:
			return err
		case d.IsDir() && strings.Count(rel, "/") == 1:
			st.itemDirs = append(st.itemDirs, rel)
		case !d.IsDir() && !file(rel, path):
			st.strays = append(st.strays, path)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

func (st *store) chunkFile(rel, path string) bool {
	parts := strings.Split(rel, "/")
	name, ok := strings.CutSuffix(parts[len(parts)-1], ".bin")
	index, err := strconv.Atoi(name)
	if len(parts) != 3 || !ok || err != nil {
		return false
	}
	st.files[chunkKey{parts[0], parts[1], index}] = path
	return true
}

func (st *store) infoFile(rel, _ string) bool {
	id, ok := strings.CutSuffix(rel, ".info")
	if ok {
		st.infos = append(st.infos, id)
	}
	return ok
}

// queryRows passes every row of a query to scan.
func queryRows(t testing.TB, db *sql.DB, scan func(*sql.Rows) error, query string, args ...any) {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// sessionLog reads one session's whole event log.
func sessionLog(t testing.TB, db *sql.DB, sid string) []loggedEvent {
	t.Helper()
	var out []loggedEvent
	queryRows(t, db, func(r *sql.Rows) error {
		var e loggedEvent
		var data string
		err := r.Scan(&e.ID, &e.Event, &data)
		e.Data = json.RawMessage(data)
		out = append(out, e)
		return err
	}, `SELECT id, type, data FROM events WHERE session_id = $1 ORDER BY id`, sid)
	return out
}

// requireLogPrefix fails unless r received exactly its session's log up to the last event it
// got: every event once, in order, and none the log lacks.
func requireLogPrefix(t testing.TB, r *recorder, log []loggedEvent) {
	t.Helper()
	got := r.received()
	want := through(log, r.last.Load())
	for i := range max(len(got), len(want)) {
		if i < len(got) && i < len(want) && sameLogged(got[i], want[i]) {
			continue
		}
		t.Errorf("%s received %d events, the log has %d up to id %d. First difference, at %d: received %s, logged %s (after %s)",
			r.name, len(got), len(want), r.last.Load(), i, eventAt(got, i), eventAt(want, i), eventAt(got, i-1))
		return
	}
}

// sameLogged is sameEvent with a shortcut for identical bytes, the usual case, which spares
// decoding tens of thousands of events.
func sameLogged(a, b loggedEvent) bool {
	return (a.ID == b.ID && a.Event == b.Event && bytes.Equal(a.Data, b.Data)) || sameEvent(a, b)
}

func eventAt(events []loggedEvent, i int) string {
	if i < 0 || i >= len(events) {
		return "nothing"
	}
	return events[i].String()
}

// lastLogged returns the newest event id of each session.
func lastLogged(t testing.TB, db *sql.DB, sids []string) map[string]int64 {
	t.Helper()
	last := map[string]int64{}
	for _, sid := range sids {
		var id int64
		if err := db.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM events WHERE session_id = $1`, sid).Scan(&id); err != nil {
			t.Fatal(err)
		}
		last[sid] = id
	}
	return last
}

// chunkKey names one chunk of one item.
type chunkKey struct {
	sid, cid string
	index    int
}

type storedChunk struct {
	size int64
	sum  string // SHA-256, lowercase hex
}

// storedChunks reads every chunk_metadata row.
func storedChunks(t testing.TB, db *sql.DB) map[chunkKey]storedChunk {
	t.Helper()
	out := map[chunkKey]storedChunk{}
	queryRows(t, db, func(r *sql.Rows) error {
		var k chunkKey
		var c storedChunk
		var sum []byte
		err := r.Scan(&k.sid, &k.cid, &k.index, &c.size, &sum)
		c.sum = hex.EncodeToString(sum)
		out[k] = c
		return err
	}, `SELECT session_id, content_id, chunk_index, size, sha256 FROM chunk_metadata`)
	return out
}
