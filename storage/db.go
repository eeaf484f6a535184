// Package storage keeps ShareThings state in SQLite and chunk bytes in the data directory.
//
// One database file holds sessions, clients, content and chunk metadata and the event log, so
// deleting a session cascades atomically. Writes go through a single connection (SQLite allows
// one writer; BEGIN IMMEDIATE avoids lock upgrades); reads use a small pool. Events are recorded
// in the transaction that makes the change they describe and handed to the api.Broker after
// commit. This package never imports gin, tusd or sse.
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

	"github.com/mattn/go-sqlite3"

	"github.com/sharethings/sharethings/api"
)

// DB is the SQLite database of one ShareThings server.
type DB struct {
	writer *sql.DB
	reader *sql.DB
	tree   *tree

	// Now is the clock every transaction reads once; tests replace it.
	Now api.Clock
	// Broker receives committed events; nil drops them (there are no live subscribers).
	Broker api.Broker

	// publishMu keeps publish order equal to commit order, which is id order.
	publishMu sync.Mutex
}

// DatabaseFile is the name of the SQLite database inside the data directory.
const DatabaseFile = "sharethings.db"

// Open opens the data directory (creating it 0700 if needed): its database, created 0600 and
// migrated to the current schema, and its sessions tree, from which it removes the directories
// of sessions that no longer exist.
func Open(ctx context.Context, dataDir string) (*DB, error) {
	// Paths handed to the upload store must be absolute: it joins relative ones to its own.
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// Tighten a directory someone else created; where we may not (a mounted volume), its
	// owner decides.
	_ = os.Chmod(dataDir, 0o700)
	path := filepath.Join(dataDir, DatabaseFile)
	// SQLite gives the -wal and -shm files the mode of the database file, so create it 0600
	// before SQLite does.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create database file: %w", err)
	}
	f.Close()

	dsn := "file:" + path + "?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate&_synchronous=NORMAL"
	db := &DB{tree: newTree(dataDir), Now: time.Now}
	if db.writer, err = sql.Open("sqlite3", dsn); err != nil {
		return nil, err
	}
	db.writer.SetMaxOpenConns(1)
	if db.reader, err = sql.Open("sqlite3", dsn+"&_query_only=1"); err != nil {
		db.writer.Close()
		return nil, err
	}
	db.reader.SetMaxOpenConns(4)

	if err := migrate(ctx, db.writer); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.removeOrphanDirs(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	return errors.Join(db.reader.Close(), db.writer.Close())
}

// Ping checks the database answers a query, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.reader.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// Tx is a write transaction that collects the events it records so they can be published
// after commit.
type Tx struct {
	*sql.Tx
	db     *DB
	now    time.Time
	events []api.Event
}

// begin starts a write transaction with one reading of the clock.
func (db *DB) begin(ctx context.Context) (*Tx, error) {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC()}, nil
}

// Commit commits and then publishes the recorded events, in order, to the broker.
func (tx *Tx) Commit() error {
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

// translateError turns SQLite constraint errors into domain errors; others pass through.
func translateError(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) {
		return api.Errorf(api.ECONFLICT, "already exists")
	}
	return err
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
