package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sharethings/sharethings/api"
)

// newClientID returns a random (version 4) UUID in canonical lowercase form.
func newClientID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func createClient(ctx context.Context, tx *Tx, sessionID, name string) (*api.Client, error) {
	now := api.UnixMilli(tx.now)
	c := &api.Client{ID: newClientID(), Name: name, ConnectedAt: api.FromUnixMilli(now)}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO clients (client_id, session_id, client_name, connected_at, last_seen) VALUES (?, ?, ?, ?, ?)`,
		c.ID, sessionID, c.Name, now, now)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListClients returns the clients of a session that have not left, oldest first.
func (db *DB) ListClients(ctx context.Context, sessionID string) ([]api.Client, error) {
	return listClients(ctx, db.reader, sessionID)
}

func listClients(ctx context.Context, q queryer, sessionID string) ([]api.Client, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT client_id, client_name, connected_at FROM clients
		WHERE session_id = ? AND left_at IS NULL AND present = TRUE ORDER BY connected_at, client_id`, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	clients := []api.Client{}
	for rows.Next() {
		var c api.Client
		var connected int64
		if err := rows.Scan(&c.ID, &c.Name, &connected); err != nil {
			return nil, err
		}
		c.ConnectedAt = api.FromUnixMilli(connected)
		clients = append(clients, c)
	}
	return clients, rows.Err()
}

// LeaveSession marks the client as gone for good and, if it was present, records client.left
// (one that was already away has had its client.left). Its tokens are refused from now on.
func (db *DB) LeaveSession(ctx context.Context, sessionID, clientID string) error {
	tx, err := db.beginSession(ctx, sessionID)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	name, present, err := findStayingClient(ctx, tx, sessionID, clientID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE clients SET left_at = ?, present = FALSE WHERE client_id = ?`, api.UnixMilli(tx.now), clientID); err != nil {
		return err
	}
	if present {
		if err := tx.recordEvent(ctx, sessionID, api.EventClientLeft, api.ClientEventData{ClientID: clientID, ClientName: name}); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// findStayingClient returns the name of a client that has not left and whether it is present.
// Errors: ECLIENTLEFT.
func findStayingClient(ctx context.Context, tx *Tx, sessionID, clientID string) (name string, present bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT client_name, present FROM clients
		WHERE session_id = ? AND client_id = ? AND left_at IS NULL`, sessionID, clientID).Scan(&name, &present)
	if errors.Is(err, sql.ErrNoRows) {
		err = api.Errorf(api.ECLIENTLEFT, "this client has left the session: join again")
	}
	return name, present, err
}
