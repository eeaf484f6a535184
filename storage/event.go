package storage

import (
	"context"
	"encoding/json"

	"github.com/sharethings/sharethings/api"
)

var _ api.EventLog = (*DB)(nil)

// recordEvent appends an event to the log inside tx; Commit publishes it.
func (tx *Tx) recordEvent(ctx context.Context, sessionID, typ string, data any) error {
	body, err := json.Marshal(data)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO events (session_id, type, data, created_at) VALUES (?, ?, ?, ?)`,
		sessionID, typ, string(body), api.UnixMilli(tx.now))
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	tx.events = append(tx.events, api.Event{ID: id, SessionID: sessionID, Type: typ, Data: body, CreatedAt: api.FromUnixMilli(api.UnixMilli(tx.now))})
	return nil
}

func lastSessionEventID(ctx context.Context, q queryer, sessionID string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE session_id = ?`, sessionID).Scan(&id)
	return id, err
}

// ListEvents returns up to limit events of a session after the given id, oldest first.
func (db *DB) ListEvents(ctx context.Context, sessionID string, after int64, limit int) ([]api.Event, error) {
	rows, err := db.reader.QueryContext(ctx, `
		SELECT id, type, data, created_at FROM events WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?`,
		sessionID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []api.Event
	for rows.Next() {
		e := api.Event{SessionID: sessionID}
		var data string
		var created int64
		if err := rows.Scan(&e.ID, &e.Type, &data, &created); err != nil {
			return nil, err
		}
		e.Data, e.CreatedAt = json.RawMessage(data), api.FromUnixMilli(created)
		events = append(events, e)
	}
	return events, rows.Err()
}
