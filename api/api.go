// Package api is the ShareThings domain: sessions, clients, events, their validation, the error
// vocabulary and the interfaces that storage, sse and handlers implement or consume.
//
// It imports only the standard library. Nothing here knows about HTTP, SQL or the filesystem;
// if a change needs such an import here, the code belongs in another package.
package api

import "time"

// Version is the server's semantic version, reported by GET /api/v1/config.
const Version = "0.1.0"

// Limits the protocol fixes for every server (PROTOCOL §2, §4).
const (
	MaxKDFIterations = 10_000_000
	KDFSaltBytes     = 16
	FingerprintIVLen = 12
	GCMTagBytes      = 16
	MinChunkSize     = 64 << 10
	MaxChunkSize     = 16 << 20
	DefaultChunkSize = 4 << 20
	MaxClientNameLen = 64
)

// Clock returns the current time. Stores and token issuers take one so tests can pin time.
type Clock func() time.Time

// UnixMilli converts a time to the integer milliseconds the storage layer keeps.
func UnixMilli(t time.Time) int64 { return t.UnixMilli() }

// FromUnixMilli is the inverse of UnixMilli, always in UTC as the API reports times.
func FromUnixMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
