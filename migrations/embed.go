// Package migrations holds the numbered SQL files that build the ShareThings SQLite schema.
// Files are named NNNN_description.sql, applied in order by storage at start-up, each in its
// own transaction and recorded in schema_migrations. Never edit a file that has shipped: add a
// new one.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
