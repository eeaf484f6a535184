// Package migrations holds the numbered SQL files that build the ShareThings schema: SQLite's
// in this directory, PostgreSQL's in postgres/. Files are named NNNN_description.sql, applied
// in order by storage at start-up, each in its own transaction and recorded in
// schema_migrations. Never edit a file that has shipped: add a new one.
package migrations

import (
	"embed"
	"io/fs"
)

// FS holds every SQLite migration file.
//
//go:embed *.sql
var FS embed.FS

//go:embed postgres/*.sql
var postgres embed.FS

// Postgres holds every PostgreSQL migration file.
var Postgres, _ = fs.Sub(postgres, "postgres")
