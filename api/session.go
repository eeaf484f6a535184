package api

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// KDFAlgPBKDF2 is the only key-derivation algorithm of protocol v1.
const KDFAlgPBKDF2 = "PBKDF2-SHA256"

// KDF holds a session's public key-derivation parameters, chosen by its creator.
type KDF struct {
	Alg        string `json:"alg" example:"PBKDF2-SHA256"`
	Iterations int    `json:"iterations" example:"600000"`
	// Salt is 16 random bytes, standard base64 on the wire.
	Salt []byte `json:"salt" swaggertype:"string" format:"byte" example:"ByZFZIOiweD/Hj1ce5q52A=="`
} //@name KDF

// Validate refuses any algorithm but PBKDF2-SHA256, iterations outside
// [minIterations, MaxKDFIterations] and salts that are not 16 bytes.
func (k KDF) Validate(minIterations int) error {
	switch {
	case k.Alg != KDFAlgPBKDF2:
		return Errorf(EUNSUPPORTEDKDF, "kdf.alg must be %q", KDFAlgPBKDF2)
	case k.Iterations < minIterations || k.Iterations > MaxKDFIterations:
		return Errorf(EUNSUPPORTEDKDF, "kdf.iterations must be between %d and %d", minIterations, MaxKDFIterations)
	case len(k.Salt) != KDFSaltBytes:
		return Errorf(EUNSUPPORTEDKDF, "kdf.salt must be exactly %d bytes", KDFSaltBytes)
	}
	return nil
}

// Equal reports whether two parameter sets derive the same keys.
func (k KDF) Equal(o KDF) bool {
	return k.Alg == o.Alg && k.Iterations == o.Iterations && string(k.Salt) == string(o.Salt)
}

// Fingerprint is the deterministic AES-GCM encryption of the session id under a key derived
// from the passphrase (PROTOCOL §2). Equal fingerprints prove knowledge of the passphrase.
type Fingerprint struct {
	IV   []byte `json:"iv" swaggertype:"string" format:"byte" example:"mw+D6Ejd8261fmDE"`
	Data []byte `json:"data" swaggertype:"string" format:"byte" example:"wd47EU/7j9k9SOOV7XXK/wIj0BNK8wLWRE8="`
} //@name Fingerprint

// Validate checks the shape: a 12-byte IV and ciphertext exactly as long as the session id
// plus the GCM tag.
func (f Fingerprint) Validate(sessionID string) error {
	if len(f.IV) != FingerprintIVLen {
		return Errorf(EINVALID, "fingerprint.iv must be %d bytes", FingerprintIVLen)
	}
	if len(f.Data) != len(sessionID)+GCMTagBytes {
		return Errorf(EINVALID, "fingerprint.data must be %d bytes for this session id", len(sessionID)+GCMTagBytes)
	}
	return nil
}

// Session is a named room. Its id is chosen by users; its generation changes whenever the
// name is created anew, so tokens of an expired session never open its successor.
type Session struct {
	ID         string    `json:"sessionId" example:"team-alpha"`
	KDF        KDF       `json:"kdf"`
	CreatedAt  time.Time `json:"createdAt" format:"date-time"`
	Generation int64     `json:"-"`
} //@name Session

// Client is one device's presence in a session.
type Client struct {
	ID          string    `json:"clientId" example:"7b0c2f9e-8a51-4f43-9d3e-2b5a6c7d8e9f"`
	Name        string    `json:"clientName" example:"Alice's laptop"`
	ConnectedAt time.Time `json:"connectedAt" format:"date-time"`
} //@name Client

// NormalizeClientName trims a display name and checks it is 1-64 characters with no control
// characters.
func NormalizeClientName(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if !utf8.ValidString(name) || n < 1 || n > MaxClientNameLen {
		return "", Errorf(EINVALID, "clientName must be 1-%d characters", MaxClientNameLen)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", Errorf(EINVALID, "clientName must not contain control characters")
	}
	return name, nil
}

// JoinInput is a validated join request.
type JoinInput struct {
	SessionID   string
	ClientName  string
	Fingerprint Fingerprint
	// KDF is set by a creator; for an existing session it must equal the stored parameters.
	KDF *KDF
}

// Joined is the outcome of a successful join.
type Joined struct {
	Session *Session
	Client  *Client
	Created bool
	Clients []Client
	// LastEventID is the newest event id before this join: a stream opened with it delivers
	// the joiner's own client.joined and everything after.
	LastEventID int64
}

// SessionService keeps sessions and the clients in them.
type SessionService interface {
	// FindSession returns ESESSIONNOTFOUND for a session that does not exist.
	FindSession(ctx context.Context, id string) (*Session, error)
	// JoinSession creates the session when in.KDF is set and none exists, else verifies the
	// fingerprint in constant time. Errors: ESESSIONNOTFOUND, ESESSIONEXISTS,
	// EFINGERPRINTMISMATCH.
	JoinSession(ctx context.Context, in JoinInput) (*Joined, error)
	// Authorize checks a token's session generation and client against the database and
	// records activity. Errors: EUNAUTHORIZED (session gone or recreated), ECLIENTLEFT.
	Authorize(ctx context.Context, sessionID string, generation int64, clientID string) error
	// LeaveSession ends a client's presence and records client.left.
	LeaveSession(ctx context.Context, sessionID, clientID string) error
	// ListClients returns the clients present in a session, oldest first.
	ListClients(ctx context.Context, sessionID string) ([]Client, error)
	// ExpireSessions deletes every session idle since before cutoff, with all it owns, and
	// returns their ids.
	ExpireSessions(ctx context.Context, cutoff time.Time) ([]string, error)
}
