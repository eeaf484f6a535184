package storage

import (
	"context"
	"encoding/hex"
	"encoding/json"

	"github.com/sharethings/sharethings/api"
)

func hexString(b []byte) string { return hex.EncodeToString(b) }

// contentUpdated is the payload of content.updated: only what changed.
type contentUpdated struct {
	ContentID string      `json:"contentId"`
	Pinned    *bool       `json:"pinned,omitempty"`
	Metadata  *api.Sealed `json:"metadata,omitempty"`
}

type contentRef struct {
	ContentID string `json:"contentId"`
}

// UpdateContent pins, unpins or renames an item.
func (db *DB) UpdateContent(ctx context.Context, sessionID, contentID string, u api.ContentUpdate) (*api.Content, error) {
	tx, err := db.beginSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	c, err := findContent(ctx, tx, sessionID, contentID)
	if err != nil {
		return nil, err
	}
	if u.Pinned != nil {
		c.Pinned = *u.Pinned
	}
	if u.Metadata != nil {
		c.Metadata = *u.Metadata
	}
	c.UpdatedAt = api.FromUnixMilli(api.UnixMilli(tx.now))
	_, err = tx.ExecContext(ctx, `UPDATE content_metadata SET pinned = ?, metadata_iv = ?, metadata_data = ?, updated_at = ?
		WHERE session_id = ? AND content_id = ?`, c.Pinned, c.Metadata.IV, c.Metadata.Data, api.UnixMilli(c.UpdatedAt), sessionID, contentID)
	if err != nil {
		return nil, err
	}
	if err := tx.recordEvent(ctx, sessionID, api.EventContentUpdated, contentUpdated{ContentID: contentID, Pinned: u.Pinned, Metadata: u.Metadata}); err != nil {
		return nil, err
	}
	if err := touchSession(ctx, tx, sessionID); err != nil {
		return nil, err
	}
	return c, tx.Commit()
}

// DeleteContent removes an item with its chunk rows, unfinished uploads and files.
func (db *DB) DeleteContent(ctx context.Context, sessionID, contentID string) error {
	n, err := db.deleteContents(ctx, sessionID, []string{contentID})
	if err == nil && n == 0 {
		return api.Errorf(api.ECONTENTNOTFOUND, "no item %s in this session", contentID)
	}
	return err
}

// ClearContents removes every item of a session.
func (db *DB) ClearContents(ctx context.Context, sessionID string) error {
	_, err := db.deleteContents(ctx, sessionID, nil)
	return err
}

// deleteContents deletes the given items of a session, or all of them when ids is nil, in one
// transaction with the events that announce it (content.deleted for each, or
// session.cleared), then their files. Files go after commit: a crash in between leaves only
// orphan directories, which the next start removes; the reverse order could lose acknowledged
// items.
func (db *DB) deleteContents(ctx context.Context, sessionID string, ids []string) (int, error) {
	tx, err := db.beginSession(ctx, sessionID)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	deleted, err := deleteContentRows(ctx, tx, sessionID, ids)
	if err != nil || len(deleted) == 0 && ids != nil {
		return 0, err
	}
	if err := recordDeletions(ctx, tx, sessionID, deleted, ids == nil); err != nil {
		return 0, err
	}
	if err := touchSession(ctx, tx, sessionID); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(deleted), db.tree.removeContents(sessionID, deleted)
}

func deleteContentRows(ctx context.Context, tx *Tx, sessionID string, ids []string) ([]string, error) {
	query, args := `DELETE FROM content_metadata WHERE session_id = ?`, []any{sessionID}
	if ids != nil {
		query += ` AND content_id IN (` + tx.db.d.jsonList + `)`
		list, _ := json.Marshal(ids)
		args = append(args, string(list))
	}
	rows, err := tx.QueryContext(ctx, query+` RETURNING content_id`, args...)
	if err != nil {
		return nil, err
	}
	return scanStrings(rows)
}

func recordDeletions(ctx context.Context, tx *Tx, sessionID string, deleted []string, cleared bool) error {
	if cleared {
		return tx.recordEvent(ctx, sessionID, api.EventSessionCleared, struct{}{})
	}
	for _, id := range deleted {
		if err := tx.recordEvent(ctx, sessionID, api.EventContentDeleted, contentRef{ContentID: id}); err != nil {
			return err
		}
	}
	return nil
}
