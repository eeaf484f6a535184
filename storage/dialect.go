package storage

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"github.com/sharethings/sharethings/migrations"
)

// dialect is what differs between the two engines. Queries are written once, with '?'
// placeholders and SQL both engines accept; the few fragments that cannot be shared live here.
type dialect struct {
	// migrations is the engine's own numbered schema files.
	migrations fs.FS
	// dollarParams turns '?' into $1, $2, … (PostgreSQL numbers its parameters).
	dollarParams bool
	// jsonList selects the strings of a JSON array bound to one parameter, for IN (…).
	jsonList string
	// lockSession, run first in a transaction that writes to a session, serializes writers
	// per session, so event ids are committed in id order. Empty where the engine already
	// allows one writer at a time.
	lockSession string
	// migrationLock, run first in each migration's transaction, keeps instances that start
	// together from migrating at once.
	migrationLock string
	// isUniqueViolation reports a UNIQUE or PRIMARY KEY violation.
	isUniqueViolation func(error) bool
}

var sqliteDialect = &dialect{
	migrations: migrations.FS,
	jsonList:   `SELECT value FROM json_each(?)`,
	isUniqueViolation: func(err error) bool {
		var se sqlite3.Error
		return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
	},
}

var postgresDialect = &dialect{
	migrations:   migrations.Postgres,
	dollarParams: true,
	jsonList:     `SELECT jsonb_array_elements_text(?::jsonb)`,
	lockSession:  `SELECT 1 FROM sessions WHERE session_id = ? FOR NO KEY UPDATE`,
	// Any constant: it names the lock.
	migrationLock: `SELECT pg_advisory_xact_lock(5368617265)`,
	isUniqueViolation: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
}

// rebound caches PostgreSQL spellings of queries: the same few dozen strings come back.
var rebound sync.Map

// rebind rewrites a query's placeholders for the engine. No query here has a '?' inside a
// string literal.
func (d *dialect) rebind(query string) string {
	if !d.dollarParams {
		return query
	}
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	rest := query
	for {
		i := strings.IndexByte(rest, '?')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		n++
		b.WriteString(rest[:i])
		b.WriteString("$" + strconv.Itoa(n))
		rest = rest[i+1:]
	}
	q := b.String()
	rebound.Store(query, q)
	return q
}

// pool is a connection pool that speaks the engine's dialect.
type pool struct {
	*sql.DB
	d *dialect
}

// ExecContext, QueryContext and QueryRowContext rebind the query, then run it.
func (p pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.DB.ExecContext(ctx, p.d.rebind(query), args...)
}

func (p pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.DB.QueryContext(ctx, p.d.rebind(query), args...)
}

func (p pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.DB.QueryRowContext(ctx, p.d.rebind(query), args...)
}
