package storage

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sharethings/sharethings/migrations"
)

// migrate applies, in order, every embedded migration not yet recorded in schema_migrations.
// Each runs in its own transaction together with its record, so a failing migration leaves
// the database as it was.
func migrate(ctx context.Context, db *sql.DB) error {
	return applyMigrations(ctx, db, migrations.FS)
}

func applyMigrations(ctx context.Context, db *sql.DB, files fs.FS) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := applyMigration(ctx, db, files, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, files fs.FS, name string) error {
	version, err := migrationVersion(name)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

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
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		version, name, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
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
