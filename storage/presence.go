package storage

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/sharethings/sharethings/api"
)

var _ api.Presence = (*DB)(nil)

// MarkPresent records that a client is here; one that was away comes back with client.joined.
func (db *DB) MarkPresent(ctx context.Context, sessionID, clientID string) error {
	tx, err := db.beginSession(ctx, sessionID)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	name, present, err := findStayingClient(ctx, tx, sessionID, clientID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE clients SET present = TRUE, last_seen = ? WHERE client_id = ?`, api.UnixMilli(tx.now), clientID); err != nil {
		return err
	}
	if !present {
		if err := tx.recordEvent(ctx, sessionID, api.EventClientJoined, api.ClientEventData{ClientID: clientID, ClientName: name}); err != nil {
			return err
		}
	}
	if err := touchSession(ctx, tx, sessionID); err != nil {
		return err
	}
	return tx.Commit()
}

// MarkSeen sets last_seen of the given clients to now.
func (db *DB) MarkSeen(ctx context.Context, clientIDs []string) error {
	return db.stampNow(ctx, `UPDATE clients SET last_seen = ? WHERE client_id IN (`+db.d.jsonList+`)`, clientIDs)
}

// TouchSessions records activity in the given sessions.
func (db *DB) TouchSessions(ctx context.Context, sessionIDs []string) error {
	return db.stampNow(ctx, `UPDATE sessions SET last_activity = ? WHERE session_id IN (`+db.d.jsonList+`)`, sessionIDs)
}

// stampNow runs an update that sets a time to now for a list of ids.
func (db *DB) stampNow(ctx context.Context, update string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	list, _ := json.Marshal(ids)
	_, err := db.writer.ExecContext(ctx, update, api.UnixMilli(db.Now()), string(list))
	return err
}

// ExpirePresence marks away the present clients not seen since cutoff and not holding a
// stream, recording client.left for each, in one transaction.
func (db *DB) ExpirePresence(ctx context.Context, cutoff time.Time, holding []string) (int, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// json.Marshal(nil) is "null", a one-row json_each whose NULL would make NOT IN
	// exclude every client.
	list, _ := json.Marshal(append([]string{}, holding...))
	silent := `present = TRUE AND left_at IS NULL AND last_seen < ? AND client_id NOT IN (` + db.d.jsonList + `)`
	if err := lockSessionsWhere(ctx, tx, `SELECT DISTINCT session_id FROM clients WHERE `+silent, api.UnixMilli(cutoff), string(list)); err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `UPDATE clients SET present = FALSE WHERE `+silent+`
		RETURNING session_id, client_id, client_name`, api.UnixMilli(cutoff), string(list))
	if err != nil {
		return 0, err
	}
	var gone []struct{ sid, cid, name string }
	for rows.Next() {
		var g struct{ sid, cid, name string }
		if err := rows.Scan(&g.sid, &g.cid, &g.name); err != nil {
			rows.Close()
			return 0, err
		}
		gone = append(gone, g)
	}
	rows.Close()
	for _, g := range gone {
		if err := tx.recordEvent(ctx, g.sid, api.EventClientLeft, api.ClientEventData{ClientID: g.cid, ClientName: g.name}); err != nil {
			return 0, err
		}
	}
	return len(gone), tx.Commit()
}

// lockSessionsWhere locks, in sorted order, the sessions a query selects, before a
// transaction writes to several of them.
func lockSessionsWhere(ctx context.Context, tx *Tx, query string, args ...any) error {
	if tx.db.d.lockSession == "" {
		return nil
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	ids, err := scanStrings(rows)
	if err != nil {
		return err
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := tx.lockSession(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
