package storage

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrate applies, in order, every migration of the engine not yet recorded in
// schema_migrations. Each runs in its own transaction together with its record, so a failing
// migration leaves the database as it was.
func migrate(ctx context.Context, db *DB) error {
	return applyMigrations(ctx, db, db.d.migrations)
}

func applyMigrations(ctx context.Context, db *DB, files fs.FS) error {
	err := db.inMigrationTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.inMigrationTx(ctx, func(tx *Tx) error { return applyMigration(ctx, tx, files, name) }); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// inMigrationTx runs fn in a transaction that holds the migration lock.
func (db *DB) inMigrationTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if db.d.migrationLock != "" {
		if _, err := tx.ExecContext(ctx, db.d.migrationLock); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func applyMigration(ctx context.Context, tx *Tx, files fs.FS, name string) error {
	version, err := migrationVersion(name)
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(files, name)
	if err != nil {
		return err
	}
	// As written: a migration is the engine's own SQL, with no parameters to rebind.
	if _, err := tx.Tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		version, name, time.Now().UnixMilli())
	return err
}

// migrationVersion reads the number before the first '_' of NNNN_description.sql.
func migrationVersion(name string) (int, error) {
	prefix, _, ok := strings.Cut(name, "_")
	v, err := strconv.Atoi(prefix)
	if !ok || err != nil || v <= 0 {
		return 0, fmt.Errorf("file name must start with a positive number and '_'")
	}
	return v, nil
}
