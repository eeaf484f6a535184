package storage

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/storage/pgtest"
)

// recordingBroker keeps what storage published, in order.
type recordingBroker struct {
	mu     sync.Mutex
	events []api.Event
}

func (b *recordingBroker) Publish(events []api.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, events...)
}

func (b *recordingBroker) published() []api.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]api.Event(nil), b.events...)
}

type fixture struct {
	db     *DB
	dir    string
	url    string // PostgreSQL's; empty on SQLite
	broker *recordingBroker
	now    time.Time
}

// engines are the databases every storage test runs on.
var engines = []string{"sqlite", "postgres"}

// eachEngine runs test once per engine, as subtests named after them.
func eachEngine(t *testing.T, test func(t *testing.T, engine string)) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { test(t, engine) })
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// newFixture opens a new empty store on the engine, with a data directory of its own and,
// on PostgreSQL, a database of its own.
func newFixture(t *testing.T, engine string) *fixture {
	t.Helper()
	f := &fixture{dir: filepath.Join(t.TempDir(), "data"), broker: &recordingBroker{}, now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	if engine == "postgres" {
		f.url = pgtest.Shared(t).NewDatabase(t)
	}
	f.db = f.open(t)
	return f
}

// open opens the fixture's store (again), with its clock and broker.
func (f *fixture) open(t *testing.T) *DB {
	t.Helper()
	var db *DB
	var err error
	if f.url != "" {
		db, err = OpenPostgres(context.Background(), f.url, f.dir)
	} else {
		db, err = Open(context.Background(), f.dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return f.now }
	db.Broker = f.broker
	t.Cleanup(func() { db.Close() })
	return db
}

// fingerprint makes a well-formed fingerprint whose content is derived from secret.
func fingerprint(sessionID, secret string) api.Fingerprint {
	sum := sha256.Sum256([]byte(secret))
	data := make([]byte, len(sessionID)+api.GCMTagBytes)
	copy(data, sum[:])
	return api.Fingerprint{IV: sum[:12], Data: data}
}

func kdf(saltByte byte) *api.KDF {
	salt := make([]byte, 16)
	salt[0] = saltByte
	return &api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: 1000, Salt: salt}
}

func (f *fixture) join(t *testing.T, sid, secret string, k *api.KDF) *api.Joined {
	t.Helper()
	j, err := f.db.JoinSession(context.Background(), api.JoinInput{SessionID: sid, ClientName: "tester", Fingerprint: fingerprint(sid, secret), KDF: k})
	if err != nil {
		t.Fatalf("join %s: %v", sid, err)
	}
	return j
}

func TestJoinSession(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		t.Run("CreatesWithKDF", func(t *testing.T) {
			f := newFixture(t, engine)
			j := f.join(t, "s1", "pw", kdf(1))
			if !j.Created || j.Session.Generation <= 0 || len(j.Clients) != 1 || j.Clients[0].ID != j.Client.ID || j.LastEventID != 0 {
				t.Fatalf("unexpected join result %+v", j)
			}
		})
		t.Run("OKSameFingerprint", func(t *testing.T) {
			f := newFixture(t, engine)
			first := f.join(t, "s1", "pw", kdf(1))
			second := f.join(t, "s1", "pw", nil)
			again := f.join(t, "s1", "pw", kdf(1))
			if second.Created || again.Created || second.Session.Generation != first.Session.Generation {
				t.Fatalf("second join must enter the same session: %+v", second)
			}
			if len(again.Clients) != 3 {
				t.Fatalf("clients = %d, want 3", len(again.Clients))
			}
			if second.LastEventID != f.broker.published()[0].ID {
				t.Fatalf("lastEventId %d must be the id of the first client.joined", second.LastEventID)
			}
		})
		for name, tc := range map[string]struct {
			in   api.JoinInput
			code string
		}{
			"ErrFingerprintMismatch": {api.JoinInput{SessionID: "s1", ClientName: "x", Fingerprint: fingerprint("s1", "wrong")}, api.EFINGERPRINTMISMATCH},
			"ErrSessionNotFound":     {api.JoinInput{SessionID: "s2", ClientName: "x", Fingerprint: fingerprint("s2", "pw")}, api.ESESSIONNOTFOUND},
			"ErrSessionExists":       {api.JoinInput{SessionID: "s1", ClientName: "x", Fingerprint: fingerprint("s1", "pw"), KDF: kdf(2)}, api.ESESSIONEXISTS},
		} {
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, engine)
				f.join(t, "s1", "pw", kdf(1))
				before := len(f.broker.published())
				_, err := f.db.JoinSession(ctx, tc.in)
				if api.ErrorCode(err) != tc.code {
					t.Fatalf("err = %v, want %s", err, tc.code)
				}
				clients, _ := f.db.ListClients(ctx, "s1")
				if len(clients) != 1 || len(f.broker.published()) != before {
					t.Fatalf("a refused join changed state: %d clients, %d events", len(clients), len(f.broker.published()))
				}
			})
		}
	})
}

func TestJoinRecordsAndPublishesClientJoined(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		f := newFixture(t, engine)
		j := f.join(t, "s1", "pw", kdf(1))
		logged, err := f.db.ListEvents(context.Background(), "s1", 0, 10)
		if err != nil || len(logged) != 1 {
			t.Fatalf("events = %v, %v", logged, err)
		}
		pub := f.broker.published()
		if len(pub) != 1 || pub[0].ID != logged[0].ID || pub[0].Type != api.EventClientJoined || string(pub[0].Data) != string(logged[0].Data) {
			t.Fatalf("published %+v, logged %+v", pub, logged)
		}
		if want := `{"clientId":"` + j.Client.ID + `","clientName":"tester"}`; string(logged[0].Data) != want {
			t.Fatalf("data = %s, want %s", logged[0].Data, want)
		}
	})
}

func TestPublishOrderIsIDOrder(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		f := newFixture(t, engine)
		f.join(t, "s1", "pw", kdf(1))
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { f.join(t, "s1", "pw", nil) })
		}
		wg.Wait()
		pub := f.broker.published()
		if len(pub) != 21 {
			t.Fatalf("published %d events, want 21", len(pub))
		}
		for i := 1; i < len(pub); i++ {
			if pub[i].ID <= pub[i-1].ID {
				t.Fatalf("event %d published after %d", pub[i].ID, pub[i-1].ID)
			}
		}
	})
}

func TestAuthorize(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		f := newFixture(t, engine)
		j := f.join(t, "s1", "pw", kdf(1))
		gen, cid := j.Session.Generation, j.Client.ID

		if err := f.db.Authorize(ctx, "s1", gen, cid); err != nil {
			t.Fatalf("OK: %v", err)
		}
		if err := f.db.Authorize(ctx, "s1", gen+1, cid); api.ErrorCode(err) != api.EUNAUTHORIZED {
			t.Fatalf("other generation: %v", err)
		}
		if err := f.db.Authorize(ctx, "s1", gen, "00000000-0000-4000-8000-000000000000"); api.ErrorCode(err) != api.EUNAUTHORIZED {
			t.Fatalf("unknown client: %v", err)
		}
		if err := f.db.LeaveSession(ctx, "s1", cid); err != nil {
			t.Fatal(err)
		}
		if err := f.db.Authorize(ctx, "s1", gen, cid); api.ErrorCode(err) != api.ECLIENTLEFT {
			t.Fatalf("after leave: %v", err)
		}
		if err := f.db.LeaveSession(ctx, "s1", cid); api.ErrorCode(err) != api.ECLIENTLEFT {
			t.Fatalf("second leave: %v", err)
		}
		if pub := f.broker.published(); len(pub) != 2 || pub[1].Type != api.EventClientLeft {
			t.Fatalf("events: %+v", pub)
		}
	})
}

func TestAuthorizeRecordsActivity(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		f := newFixture(t, engine)
		j := f.join(t, "s1", "pw", kdf(1))
		f.now = f.now.Add(9 * time.Minute)
		if err := f.db.Authorize(ctx, "s1", j.Session.Generation, j.Client.ID); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(9 * time.Minute)
		expired, err := f.db.ExpireSessions(ctx, f.now.Add(-10*time.Minute))
		if err != nil || len(expired) != 0 {
			t.Fatalf("a session used 9 minutes ago expired with a 10 minute timeout: %v %v", expired, err)
		}
	})
}

func TestExpireSessions(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		f := newFixture(t, engine)
		old := f.join(t, "old", "pw", kdf(1))
		f.now = f.now.Add(11 * time.Minute)
		f.join(t, "fresh", "pw", kdf(1))
		for _, sid := range []string{"old", "fresh"} {
			writeChunkFile(t, f, sid)
			addContentRows(t, f, sid)
		}

		expired, err := f.db.ExpireSessions(ctx, f.now.Add(-10*time.Minute))
		if err != nil || len(expired) != 1 || expired[0] != "old" {
			t.Fatalf("expired %v, %v", expired, err)
		}
		if _, err := os.Stat(filepath.Join(f.dir, "sessions", "old")); !os.IsNotExist(err) {
			t.Fatalf("files of the expired session remain: %v", err)
		}
		if _, err := os.Stat(filepath.Join(f.dir, "sessions", "fresh", "c", "0.bin")); err != nil {
			t.Fatalf("files of the live session were touched: %v", err)
		}
		for _, table := range []string{"sessions", "clients", "events", "content_metadata", "chunk_metadata"} {
			var n int
			f.db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE session_id = 'old'`).Scan(&n)
			if n != 0 {
				t.Errorf("%s keeps %d rows of the expired session", table, n)
			}
			f.db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE session_id = 'fresh'`).Scan(&n)
			if n == 0 {
				t.Errorf("%s lost the rows of the live session", table)
			}
		}

		// The name is free again: a new passphrase creates a new generation.
		again := f.join(t, "old", "other", kdf(9))
		if !again.Created || again.Session.Generation == old.Session.Generation {
			t.Fatalf("recreated session must be new: %+v", again)
		}
		if err := f.db.Authorize(ctx, "old", old.Session.Generation, old.Client.ID); api.ErrorCode(err) != api.EUNAUTHORIZED {
			t.Fatalf("token of the expired generation: %v", err)
		}
	})
}

func writeChunkFile(t *testing.T, f *fixture, sid string) {
	t.Helper()
	dir := filepath.Join(f.dir, "sessions", sid, "c")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "0.bin"), []byte("ciphertext"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func addContentRows(t *testing.T, f *fixture, sid string) {
	t.Helper()
	ctx := context.Background()
	_, err := f.db.writer.ExecContext(ctx, `
		INSERT INTO content_metadata (session_id, content_id, sender_id, sender_name, total_chunks, total_size, chunk_size, metadata_iv, metadata_data, created_at, updated_at)
		VALUES (?, 'c', 's', 'n', 1, 28, 65536, ?, ?, 0, 0)`, sid, []byte{0}, []byte{0})
	if err == nil {
		_, err = f.db.writer.ExecContext(ctx, `
			INSERT INTO chunk_metadata (session_id, content_id, chunk_index, size, sha256, created_at) VALUES (?, 'c', 0, 28, ?, 0)`, sid, []byte{0})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenRemovesOrphanDirectories(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		f := newFixture(t, engine)
		f.join(t, "kept", "pw", kdf(1))
		writeChunkFile(t, f, "kept")
		writeChunkFile(t, f, "orphan")
		f.db.Close()
		f.open(t)
		if _, err := os.Stat(filepath.Join(f.dir, "sessions", "orphan")); !os.IsNotExist(err) {
			t.Fatalf("orphan directory survived: %v", err)
		}
		if _, err := os.Stat(filepath.Join(f.dir, "sessions", "kept", "c", "0.bin")); err != nil {
			t.Fatalf("live session's file removed: %v", err)
		}
	})
}

func TestDataFilesArePrivate(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		f := newFixture(t, engine)
		f.join(t, "s1", "pw", kdf(1)) // a write, so the WAL exists
		if _, err := LoadOrCreateSecret(f.dir); err != nil {
			t.Fatal(err)
		}
		want := map[string]os.FileMode{"": 0o700 | os.ModeDir, SecretFile: 0o600}
		if engine == "sqlite" {
			for _, name := range []string{DatabaseFile, DatabaseFile + "-wal", DatabaseFile + "-shm"} {
				want[name] = 0o600
			}
		}
		for name, want := range want {
			st, err := os.Stat(filepath.Join(f.dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode() != want {
				t.Errorf("%q has mode %v, want %v", name, st.Mode(), want)
			}
		}
	})
}

func TestLoadOrCreateSecretIsStable(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateSecret(dir)
	if err != nil || len(a) != 32 {
		t.Fatalf("%x, %v", a, err)
	}
	b, err := LoadOrCreateSecret(dir)
	if err != nil || string(a) != string(b) {
		t.Fatalf("second load gave another key: %v", err)
	}
}

// TestLoadOrCreateSecretAgreesWhenStartedTogether: instances that start together on one
// data directory each get the same whole key, and nothing else is left there.
func TestLoadOrCreateSecretAgreesWhenStartedTogether(t *testing.T) {
	for range 20 {
		dir := t.TempDir()
		keys := make([][]byte, 8)
		errs := make([]error, len(keys))
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() { keys[i], errs[i] = LoadOrCreateSecret(dir) })
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil || string(keys[i]) != string(keys[0]) {
				t.Fatalf("start %d got %x, %v; start 0 got %x", i, keys[i], errs[i], keys[0])
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("%d files left in the data directory, want only %s", len(entries), SecretFile)
		}
	}
}

// TestDataDirectoryBelongsToOneEngine: a data directory used with one engine is refused to
// the other, whose start would remove its sessions' files as orphans.
func TestDataDirectoryBelongsToOneEngine(t *testing.T) {
	ctx := context.Background()
	onPostgres := newFixture(t, "postgres")
	if _, err := Open(ctx, onPostgres.dir); err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("SQLite opened the data directory of PostgreSQL instances: %v", err)
	}
	onSQLite := newFixture(t, "sqlite")
	if _, err := OpenPostgres(ctx, onPostgres.url, onSQLite.dir); err == nil || !strings.Contains(err.Error(), "SQLite") {
		t.Fatalf("PostgreSQL opened the data directory of a SQLite server: %v", err)
	}
	if entries, _ := os.ReadDir(onSQLite.dir); len(entries) != 3 { // the database, its -wal and -shm
		t.Fatalf("the refused start left files: %v", entries)
	}
}

func TestMigrations(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		t.Run("ReopenAppliesNothingTwice", func(t *testing.T) {
			f := newFixture(t, engine)
			f.db.Close()
			db := f.open(t)
			files, _ := fs.Glob(db.d.migrations, "*.sql")
			var n int
			db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
			if n != len(files) {
				t.Fatalf("schema_migrations has %d rows, want one per file (%d)", n, len(files))
			}
		})
		t.Run("FailingMigrationChangesNothing", func(t *testing.T) {
			f := newFixture(t, engine)
			files := fstest.MapFS{
				"0001_init.sql":   {Data: []byte(`SELECT 1;`)}, // recorded already, skipped
				"0090_good.sql":   {Data: []byte(`CREATE TABLE good (x INTEGER);`)},
				"0091_broken.sql": {Data: []byte(`CREATE TABLE half (x INTEGER); INSERT INTO missing VALUES (1);`)},
			}
			if err := applyMigrations(ctx, f.db, files); err == nil {
				t.Fatal("broken migration reported success")
			}
			tables := `SELECT COUNT(*) FROM sqlite_master WHERE name = ?`
			if engine == "postgres" {
				tables = `SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?`
			}
			var good, half, recorded int
			f.db.reader.QueryRowContext(ctx, tables, "good").Scan(&good)
			f.db.reader.QueryRowContext(ctx, tables, "half").Scan(&half)
			f.db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = 91`).Scan(&recorded)
			if good != 1 || half != 0 || recorded != 0 {
				t.Fatalf("good=%d half=%d recorded=%d: the broken migration left traces", good, half, recorded)
			}
		})
	})
}

func TestExpirePresence(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		for name, holding := range map[string][]string{"NobodyStreams": nil, "OthersStream": {"00000000-0000-4000-8000-000000000000"}} {
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, engine)
				f.join(t, "s1", "pw", kdf(1))
				f.now = f.now.Add(31 * time.Second)
				n, err := f.db.ExpirePresence(ctx, f.now.Add(-30*time.Second), holding)
				if err != nil || n != 1 {
					t.Fatalf("expired %d, %v: want the silent client", n, err)
				}
				if clients, _ := f.db.ListClients(ctx, "s1"); len(clients) != 0 {
					t.Fatalf("still listed: %v", clients)
				}
				if pub := f.broker.published(); pub[len(pub)-1].Type != api.EventClientLeft {
					t.Fatalf("no client.left: %+v", pub)
				}
			})
		}
	})
}
