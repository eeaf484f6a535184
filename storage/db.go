// Package storage keeps ShareThings state in a database and chunk bytes in the data directory.
//
// The database is SQLite in the data directory (the default) or PostgreSQL (for several
// instances sharing one data directory); the same queries serve both, and dialect.go holds the
// few fragments that differ. One database holds sessions, clients, content and chunk metadata
// and the event log, so deleting a session cascades atomically. On SQLite writes go through a
// single connection (BEGIN IMMEDIATE avoids lock upgrades) and reads use a small pool; on
// PostgreSQL a transaction that writes to a session first locks the session's row. Events are
// recorded in the transaction that makes the change they describe and handed to the
// api.Broker after commit; on PostgreSQL the commit also notifies the other instances
// (notify.go). This package never imports gin, tusd or sse.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/sharethings/sharethings/api"
)

// DB is the SQLite database of one ShareThings server.
type DB struct {
	writer pool
	reader pool
	d      *dialect
	tree   *tree
	// url, instance and listener are set on PostgreSQL only: where to connect the listener,
	// and this process's name in notifications, to tell them from other instances'.
	url      string
	instance string
	listener *listener
	locks    *uploadLocks

	// Now is the clock every transaction reads once; tests replace it.
	Now api.Clock
	// Broker receives committed events; nil drops them (there are no live subscribers).
	Broker api.Broker

	// publishMu keeps publish order equal to commit order, which is id order.
	publishMu sync.Mutex
}

// DatabaseFile is the name of the SQLite database inside the data directory.
const DatabaseFile = "sharethings.db"

// PostgresMarker is the file that marks a data directory as that of instances on PostgreSQL.
const PostgresMarker = "postgres-database"

// Open opens the data directory (creating it 0700 if needed): its SQLite database, created
// 0600 and migrated to the current schema, and its sessions tree, from which it removes the
// directories of sessions that no longer exist.
func Open(ctx context.Context, dataDir string) (*DB, error) {
	dataDir, err := prepareDataDir(dataDir)
	if err == nil {
		err = claimDataDir(dataDir, false)
	}
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dataDir, DatabaseFile)
	// SQLite gives the -wal and -shm files the mode of the database file, so create it 0600
	// before SQLite does.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create database file: %w", err)
	}
	f.Close()

	dsn := "file:" + path + "?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate&_synchronous=NORMAL"
	writer, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	reader, err := sql.Open("sqlite3", dsn+"&_query_only=1")
	if err != nil {
		writer.Close()
		return nil, err
	}
	reader.SetMaxOpenConns(4)
	return open(ctx, dataDir, sqliteDialect, writer, reader)
}

// prepareDataDir makes the data directory absolute (the upload store joins relative paths to
// its own) and private.
func prepareDataDir(dataDir string) (string, error) {
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	// Tighten a directory someone else created; where we may not (a mounted volume), its
	// owner decides.
	_ = os.Chmod(dataDir, 0o700)
	return dataDir, nil
}

// claimDataDir refuses a data directory whose sessions live in the other engine's database:
// an instance removes, as orphans, the directories of the sessions its database does not
// know, so an instance started without the PostgreSQL URL its peers use (or with one, on a
// SQLite server's directory) would delete every chunk there.
func claimDataDir(dataDir string, postgres bool) error {
	marker := filepath.Join(dataDir, PostgresMarker)
	if !postgres {
		if _, err := os.Stat(marker); err == nil {
			return fmt.Errorf("%s is the data directory of instances on PostgreSQL (it has %s): give this one their database URL too, or another data directory", dataDir, PostgresMarker)
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(dataDir, DatabaseFile)); err == nil {
		return fmt.Errorf("%s holds the SQLite database of a server that ran there: give instances on PostgreSQL a data directory of their own", dataDir)
	}
	return os.WriteFile(marker, []byte("The sessions of this data directory are in a PostgreSQL database.\n"), 0o600)
}

// open migrates the database and clears orphan directories; it closes both pools on failure.
func open(ctx context.Context, dataDir string, d *dialect, writer, reader *sql.DB) (*DB, error) {
	db := &DB{tree: newTree(dataDir), Now: time.Now, d: d, writer: pool{writer, d}, reader: pool{reader, d}}
	err := migrate(ctx, db)
	if err == nil {
		err = db.removeOrphanDirs(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close stops listening to other instances and closes the connection pools.
func (db *DB) Close() error {
	if db.listener != nil {
		db.listener.stop()
		db.locks.close()
	}
	if db.reader.DB == db.writer.DB {
		return db.writer.Close()
	}
	return errors.Join(db.reader.Close(), db.writer.Close())
}

// Ping checks the database answers a query, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.reader.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// Connections is how many database connections are open now (PostgreSQL's are sockets,
// SQLite's files), for metrics and for telling a pool's growth from a leak.
func (db *DB) Connections() int {
	n := db.writer.Stats().OpenConnections
	if db.reader.DB != db.writer.DB {
		n += db.reader.Stats().OpenConnections
	}
	return n
}

// Tx is a write transaction that collects the events it records so they can be published
// after commit.
type Tx struct {
	*sql.Tx
	db     *DB
	now    time.Time
	events []api.Event
	locked map[string]bool // sessions whose row this transaction has locked
}

// begin starts a write transaction with one reading of the clock.
func (db *DB) begin(ctx context.Context) (*Tx, error) {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC(), locked: map[string]bool{}}, nil
}

// beginSession starts a write transaction that holds the session's row until it ends, so
// checks it makes (quotas, uploads in progress) still hold when it commits.
func (db *DB) beginSession(ctx context.Context, sessionID string) (*Tx, error) {
	tx, err := db.begin(ctx)
	if err == nil {
		if err = tx.lockSession(ctx, sessionID); err != nil {
			tx.Rollback()
		}
	}
	return tx, err
}

// lockSession serializes this transaction with every other that writes to the session, on
// every instance, until it ends. Lock sessions first, before other writes, and several in
// sorted order, so two transactions never wait for each other.
func (tx *Tx) lockSession(ctx context.Context, sessionID string) error {
	if tx.db.d.lockSession == "" || tx.locked[sessionID] {
		return nil
	}
	tx.locked[sessionID] = true
	rows, err := tx.QueryContext(ctx, tx.db.d.lockSession, sessionID)
	if err != nil {
		return err
	}
	return rows.Close()
}

// ExecContext, QueryContext and QueryRowContext speak the engine's dialect (dialect.rebind).
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.Tx.ExecContext(ctx, tx.db.d.rebind(query), args...)
}

func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(ctx, tx.db.d.rebind(query), args...)
}

func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(ctx, tx.db.d.rebind(query), args...)
}

// Commit commits and then publishes the recorded events, in order, to the broker; other
// instances hear of them through the notification sent in the same commit.
func (tx *Tx) Commit() error {
	if err := tx.notifyOthers(); err != nil {
		tx.Rollback()
		return err
	}
	tx.db.publishMu.Lock()
	defer tx.db.publishMu.Unlock()
	if err := tx.Tx.Commit(); err != nil {
		return err
	}
	if tx.db.Broker != nil && len(tx.events) > 0 {
		tx.db.Broker.Publish(tx.events)
	}
	return nil
}

// ChunkPath is the file that holds chunk index of an item; it validates the ids first.
func (db *DB) ChunkPath(sessionID, contentID string, index int) (string, error) {
	return db.tree.chunkPath(sessionID, contentID, index)
}

// UploadDir is the directory where the tus store keeps its bookkeeping (.info files), in
// per-session and per-item subdirectories that deletions remove along with the chunks.
func (db *DB) UploadDir() string { return db.tree.uploads }

// FreeBytes is the space left for unprivileged writes on the data directory's filesystem.
func (db *DB) FreeBytes() (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(db.tree.root), &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
