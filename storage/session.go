package storage

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"time"

	"github.com/sharethings/sharethings/api"
)

// touchEvery limits how often requests rewrite last_activity and last_seen: often enough for
// idle expiry measured in minutes, rarely enough to keep the single writer free.
const touchEvery = 5 * time.Second

var _ api.SessionService = (*DB)(nil)

// FindSession returns a session by id.
func (db *DB) FindSession(ctx context.Context, id string) (*api.Session, error) {
	s, _, err := findSession(ctx, db.reader, id)
	return s, err
}

// storedFingerprint is what the database keeps of a fingerprint: its IV and a hash of its data.
type storedFingerprint struct{ iv, sha256 []byte }

// matches compares in constant time, so timing reveals nothing about how close a guess was.
func (f storedFingerprint) matches(fp api.Fingerprint) bool {
	sum := sha256.Sum256(fp.Data)
	ivOK := subtle.ConstantTimeCompare(f.iv, fp.IV)
	hashOK := subtle.ConstantTimeCompare(f.sha256, sum[:])
	return ivOK&hashOK == 1
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func findSession(ctx context.Context, q queryer, id string) (*api.Session, storedFingerprint, error) {
	var s api.Session
	var fp storedFingerprint
	var created int64
	err := q.QueryRowContext(ctx, `
		SELECT generation, session_id, kdf_alg, kdf_iterations, kdf_salt, fingerprint_iv, fingerprint_sha256, created_at
		FROM sessions WHERE session_id = ?`, id).
		Scan(&s.Generation, &s.ID, &s.KDF.Alg, &s.KDF.Iterations, &s.KDF.Salt, &fp.iv, &fp.sha256, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fp, api.Errorf(api.ESESSIONNOTFOUND, "session %q does not exist", id)
	} else if err != nil {
		return nil, fp, err
	}
	s.CreatedAt = api.FromUnixMilli(created)
	return &s, fp, nil
}

// JoinSession creates or enters a session and registers the client, in one transaction.
func (db *DB) JoinSession(ctx context.Context, in api.JoinInput) (*api.Joined, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	s, created, err := openOrCreateSession(ctx, tx, in)
	if err == nil {
		err = tx.lockSession(ctx, s.ID)
	}
	if err != nil {
		return nil, err
	}
	lastEventID, err := lastSessionEventID(ctx, tx, s.ID)
	if err != nil {
		return nil, err
	}
	client, err := createClient(ctx, tx, s.ID, in.ClientName)
	if err != nil {
		return nil, err
	}
	if err := tx.recordEvent(ctx, s.ID, api.EventClientJoined, api.ClientEventData{ClientID: client.ID, ClientName: client.Name}); err != nil {
		return nil, err
	}
	if err := touchSession(ctx, tx, s.ID); err != nil {
		return nil, err
	}
	clients, err := listClients(ctx, tx, s.ID)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &api.Joined{Session: s, Client: client, Created: created, Clients: clients, LastEventID: lastEventID}, nil
}

// openOrCreateSession verifies the fingerprint of an existing session, or creates the session
// when the joiner brought kdf parameters.
func openOrCreateSession(ctx context.Context, tx *Tx, in api.JoinInput) (*api.Session, bool, error) {
	s, fp, err := findSession(ctx, tx, in.SessionID)
	switch {
	case api.ErrorCode(err) == api.ESESSIONNOTFOUND && in.KDF != nil:
		s, err = createSession(ctx, tx, in)
		return s, err == nil, err
	case err != nil:
		return nil, false, err
	case in.KDF != nil && !in.KDF.Equal(s.KDF):
		return nil, false, api.Errorf(api.ESESSIONEXISTS, "session %q exists with other kdf parameters: fetch them and derive again", in.SessionID)
	case !fp.matches(in.Fingerprint):
		return nil, false, api.Errorf(api.EFINGERPRINTMISMATCH, "wrong passphrase for session %q", in.SessionID)
	}
	return s, false, nil
}

func createSession(ctx context.Context, tx *Tx, in api.JoinInput) (*api.Session, error) {
	sum := sha256.Sum256(in.Fingerprint.Data)
	now := api.UnixMilli(tx.now)
	var gen int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO sessions (session_id, kdf_alg, kdf_iterations, kdf_salt, fingerprint_iv, fingerprint_sha256, created_at, last_activity)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING generation`,
		in.SessionID, in.KDF.Alg, in.KDF.Iterations, in.KDF.Salt, in.Fingerprint.IV, sum[:], now, now).Scan(&gen)
	if err != nil {
		if tx.db.d.isUniqueViolation(err) {
			return nil, api.Errorf(api.ESESSIONEXISTS, "session %q was just created by someone else", in.SessionID)
		}
		return nil, err
	}
	// A directory left by a session whose files could not be removed must not leak into its
	// successor. Only now, with the row ours: before, another instance might have created
	// the session and be writing into it.
	if err := tx.db.tree.removeSession(in.SessionID); err != nil {
		return nil, err
	}
	return &api.Session{ID: in.SessionID, KDF: *in.KDF, CreatedAt: api.FromUnixMilli(now), Generation: gen}, nil
}

func touchSession(ctx context.Context, tx *Tx, sessionID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_activity = ? WHERE session_id = ?`, api.UnixMilli(tx.now), sessionID)
	return err
}

// Authorize checks that the token's session still exists in the same generation and that its
// client has not left, and records activity at most every touchEvery.
func (db *DB) Authorize(ctx context.Context, sessionID string, generation int64, clientID string) error {
	var gen, lastActivity int64
	var leftAt, lastSeen sql.NullInt64
	err := db.reader.QueryRowContext(ctx, `
		SELECT s.generation, s.last_activity, c.left_at, c.last_seen
		FROM sessions s LEFT JOIN clients c ON c.session_id = s.session_id AND c.client_id = ?
		WHERE s.session_id = ?`, clientID, sessionID).Scan(&gen, &lastActivity, &leftAt, &lastSeen)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && (gen != generation || !lastSeen.Valid)):
		return api.Errorf(api.EUNAUTHORIZED, "token is for a session that no longer exists: join again")
	case err != nil:
		return err
	case leftAt.Valid:
		return api.Errorf(api.ECLIENTLEFT, "this client has left the session: join again")
	}
	stale := api.UnixMilli(db.Now()) - touchEvery.Milliseconds()
	if lastActivity >= stale && lastSeen.Int64 >= stale {
		return nil
	}
	return db.touchClient(ctx, sessionID, clientID)
}

func (db *DB) touchClient(ctx context.Context, sessionID, clientID string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := touchSession(ctx, tx, sessionID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE clients SET last_seen = ? WHERE client_id = ?`, api.UnixMilli(tx.now), clientID); err != nil {
		return err
	}
	return tx.Commit()
}

// ExpireSessions deletes the sessions idle since before cutoff. Rows and events go in one
// transaction through the cascades; the files follow once it has committed. A crash between
// the two leaves only an orphan directory, which RemoveOrphans deletes at the next start.
func (db *DB) ExpireSessions(ctx context.Context, cutoff time.Time) ([]string, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `DELETE FROM sessions WHERE last_activity < ? RETURNING session_id`, api.UnixMilli(cutoff))
	if err != nil {
		return nil, err
	}
	ids, err := scanStrings(rows)
	if err != nil {
		return nil, err
	}
	if err := tx.notifyExpired(ids); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	var errs []error
	for _, id := range ids {
		errs = append(errs, db.tree.removeSession(id))
	}
	return ids, errors.Join(errs...)
}

func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CountSessions returns how many sessions exist, for metrics.
func (db *DB) CountSessions(ctx context.Context) (int, error) {
	var n int
	err := db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&n)
	return n, err
}
