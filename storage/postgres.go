package storage

// Opening PostgreSQL, for instances that share one database; notify.go is how they tell each
// other what they did.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// postgresPoolSize bounds one instance's connections; the listener and held upload locks
// take their own on top.
const postgresPoolSize = 32

// OpenPostgres opens a PostgreSQL database by URL, migrated to the current schema, with the
// chunk tree and upload bookkeeping in dataDir, which every instance must share.
func OpenPostgres(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	dataDir, err := prepareDataDir(dataDir)
	if err == nil {
		err = claimDataDir(dataDir, true)
	}
	if err != nil {
		return nil, err
	}
	if _, err := pgx.ParseConfig(databaseURL); err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	conns, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, err
	}
	conns.SetMaxOpenConns(postgresPoolSize)
	conns.SetMaxIdleConns(postgresPoolSize)
	db, err := open(ctx, dataDir, postgresDialect, conns, conns)
	if err != nil {
		return nil, err
	}
	db.url = databaseURL
	db.instance = randomHex(8)
	db.listener = &listener{db: db}
	db.locks = &uploadLocks{db: db, held: map[string]*heldUpload{}}
	return db, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Shared reports whether other instances may use this database (PostgreSQL).
func (db *DB) Shared() bool { return db.url != "" }

// Engine names the database for logs: "sqlite" or "postgres" (never the URL, which may
// hold a password).
func (db *DB) Engine() string {
	if db.Shared() {
		return "postgres"
	}
	return "sqlite"
}
