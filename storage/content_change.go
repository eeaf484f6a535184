package storage

import (
	"context"
	"encoding/hex"

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
	tx, err := db.begin(ctx)
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
	return db.deleteContents(ctx, sessionID, `AND content_id = ?`, []any{contentID}, func(ids []string) (string, any) {
		return api.EventContentDeleted, contentRef{ContentID: contentID}
	})
}

// ClearContents removes every item of a session.
func (db *DB) ClearContents(ctx context.Context, sessionID string) error {
	return db.deleteContents(ctx, sessionID, ``, nil, func([]string) (string, any) {
		return api.EventSessionCleared, struct{}{}
	})
}

// deleteContents deletes the matching items in one transaction with the event that announces
// it, then their files. Files go after commit: a crash in between leaves only orphan
// directories, which the next start removes; the reverse order could lose acknowledged items.
func (db *DB) deleteContents(ctx context.Context, sessionID, filter string, args []any, event func([]string) (string, any)) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `DELETE FROM content_metadata WHERE session_id = ? `+filter+` RETURNING content_id`,
		append([]any{sessionID}, args...)...)
	if err != nil {
		return err
	}
	ids, err := scanStrings(rows)
	if err != nil {
		return err
	}
	if len(ids) == 0 && filter != "" {
		return api.Errorf(api.ECONTENTNOTFOUND, "no such item in this session")
	}
	typ, data := event(ids)
	if err := tx.recordEvent(ctx, sessionID, typ, data); err != nil {
		return err
	}
	if err := touchSession(ctx, tx, sessionID); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return db.tree.removeContents(sessionID, ids)
}
