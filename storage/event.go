package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/sharethings/sharethings/api"
)

var _ api.EventLog = (*DB)(nil)

// recordEvent appends an event to the log inside tx; Commit publishes it.
func (tx *Tx) recordEvent(ctx context.Context, sessionID, typ string, data any) error {
	body, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if err := tx.lockSession(ctx, sessionID); err != nil {
		return err
	}
	prev, err := lastSessionEventID(ctx, tx, sessionID)
	if err != nil {
		return err
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO events (session_id, type, data, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		sessionID, typ, string(body), api.UnixMilli(tx.now)).Scan(&id)
	if err != nil {
		return err
	}
	tx.events = append(tx.events, api.Event{ID: id, SessionID: sessionID, Type: typ, Data: body,
		CreatedAt: api.FromUnixMilli(api.UnixMilli(tx.now)), Prev: prev})
	return nil
}

func lastSessionEventID(ctx context.Context, q queryer, sessionID string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE session_id = ?`, sessionID).Scan(&id)
	return id, err
}

// ListEvents returns up to limit events of a session after the given id, oldest first, each
// with Prev set as a reader that has every event up to after sees it.
func (db *DB) ListEvents(ctx context.Context, sessionID string, after int64, limit int) ([]api.Event, error) {
	rows, err := db.reader.QueryContext(ctx, `
		SELECT id, type, data, created_at FROM events WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?`,
		sessionID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []api.Event
	prev := after
	for rows.Next() {
		e := api.Event{SessionID: sessionID, Prev: prev}
		var data string
		var created int64
		if err := rows.Scan(&e.ID, &e.Type, &data, &created); err != nil {
			return nil, err
		}
		e.Data, e.CreatedAt = json.RawMessage(data), api.FromUnixMilli(created)
		events = append(events, e)
		prev = e.ID
	}
	return events, rows.Err()
}

// EventBounds returns the newest event id of a session and the newest id retention removed.
func (db *DB) EventBounds(ctx context.Context, sessionID string) (latest, prunedThrough int64, err error) {
	err = db.reader.QueryRowContext(ctx, `
		SELECT COALESCE((SELECT MAX(id) FROM events WHERE session_id = s.session_id), s.events_pruned_through),
			s.events_pruned_through
		FROM sessions s WHERE s.session_id = ?`, sessionID).Scan(&latest, &prunedThrough)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, api.Errorf(api.ESESSIONNOTFOUND, "session %q does not exist", sessionID)
	}
	return latest, prunedThrough, err
}

// PruneEvents deletes events older than cutoff, remembering per session the newest id removed
// so that clients asking to replay from before it are told to resync. The newest event of each
// session is kept: it anchors live-only subscribers.
func (db *DB) PruneEvents(ctx context.Context, cutoff time.Time) (int, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `
		DELETE FROM events WHERE created_at < ?
			AND id < (SELECT MAX(id) FROM events e WHERE e.session_id = events.session_id)
		RETURNING session_id, id`, api.UnixMilli(cutoff))
	if err != nil {
		return 0, err
	}
	pruned := map[string]int64{}
	n := 0
	for rows.Next() {
		var sid string
		var id int64
		if err := rows.Scan(&sid, &id); err != nil {
			rows.Close()
			return 0, err
		}
		pruned[sid] = max(pruned[sid], id)
		n++
	}
	rows.Close()
	for _, sid := range slices.Sorted(maps.Keys(pruned)) {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET events_pruned_through = ? WHERE session_id = ? AND events_pruned_through < ?`,
			pruned[sid], sid, pruned[sid]); err != nil {
			return 0, err
		}
	}
	return n, tx.Commit()
}
