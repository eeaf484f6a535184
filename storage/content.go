package storage

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/sharethings/sharethings/api"
)

var _ api.ContentService = (*DB)(nil)

// contentColumns lists an item's columns; receivedChunks is counted, never stored, so it
// cannot disagree with chunk_metadata.
const contentColumns = `c.session_id, c.content_id, c.sender_id, c.sender_name, c.total_chunks, c.total_size,
	c.chunk_size, c.metadata_iv, c.metadata_data, c.is_complete, c.pinned, c.created_at, c.updated_at,
	(SELECT COUNT(*) FROM chunk_metadata k WHERE k.session_id = c.session_id AND k.content_id = c.content_id)`

type scanner interface{ Scan(dest ...any) error }

func scanContent(row scanner) (*api.Content, error) {
	var c api.Content
	var created, updated int64
	err := row.Scan(&c.SessionID, &c.ID, &c.SenderID, &c.SenderName, &c.TotalChunks, &c.TotalSize,
		&c.ChunkSize, &c.Metadata.IV, &c.Metadata.Data, &c.Complete, &c.Pinned, &created, &updated, &c.ReceivedChunks)
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = api.FromUnixMilli(created), api.FromUnixMilli(updated)
	return &c, nil
}

func findContent(ctx context.Context, q queryer, sessionID, contentID string) (*api.Content, error) {
	c, err := scanContent(q.QueryRowContext(ctx, `SELECT `+contentColumns+` FROM content_metadata c
		WHERE c.session_id = ? AND c.content_id = ?`, sessionID, contentID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, api.Errorf(api.ECONTENTNOTFOUND, "no item %s in this session", contentID)
	}
	return c, err
}

// CreateContent announces an item after checking the session's quotas, which count announced
// items from the moment of announcing.
func (db *DB) CreateContent(ctx context.Context, c *api.Content, limits api.ContentLimits) error {
	tx, err := db.beginSession(ctx, c.SessionID)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := checkQuota(ctx, tx, c, limits); err != nil {
		return err
	}
	now := api.UnixMilli(tx.now)
	_, err = tx.ExecContext(ctx, `
		INSERT INTO content_metadata (session_id, content_id, sender_id, sender_name, total_chunks, total_size,
			chunk_size, metadata_iv, metadata_data, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.SessionID, c.ID, c.SenderID, c.SenderName, c.TotalChunks, c.TotalSize, c.ChunkSize,
		c.Metadata.IV, c.Metadata.Data, now, now)
	if err != nil {
		if tx.db.d.isUniqueViolation(err) {
			return api.Errorf(api.ECONFLICT, "item %s was already announced", c.ID)
		}
		return err
	}
	c.CreatedAt, c.UpdatedAt, c.ReceivedChunks, c.Complete, c.Pinned = api.FromUnixMilli(now), api.FromUnixMilli(now), 0, false, false
	if err := tx.recordEvent(ctx, c.SessionID, api.EventContentCreated, c); err != nil {
		return err
	}
	if err := touchSession(ctx, tx, c.SessionID); err != nil {
		return err
	}
	return tx.Commit()
}

func checkQuota(ctx context.Context, tx *Tx, c *api.Content, limits api.ContentLimits) error {
	var bytes int64
	var items int
	err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(total_size), 0) AS BIGINT), COUNT(*) FROM content_metadata WHERE session_id = ?`,
		c.SessionID).Scan(&bytes, &items)
	switch {
	case err != nil:
		return err
	case items+1 > limits.SessionMaxItems:
		return api.Errorf(api.EQUOTAEXCEEDED, "this session already holds %d items, the most it may", items)
	case bytes+c.TotalSize > limits.SessionQuotaBytes:
		return api.Errorf(api.EQUOTAEXCEEDED, "this item would take the session over its quota of %d bytes", limits.SessionQuotaBytes)
	}
	return nil
}

// FindContent returns an item and its stored chunks in index order.
func (db *DB) FindContent(ctx context.Context, sessionID, contentID string) (*api.Content, []api.Chunk, error) {
	c, err := findContent(ctx, db.reader, sessionID, contentID)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT chunk_index, size, sha256 FROM chunk_metadata
		WHERE session_id = ? AND content_id = ? ORDER BY chunk_index`, sessionID, contentID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	chunks := []api.Chunk{}
	for rows.Next() {
		var k api.Chunk
		var sum []byte
		if err := rows.Scan(&k.Index, &k.Size, &sum); err != nil {
			return nil, nil, err
		}
		k.SHA256 = hexString(sum)
		chunks = append(chunks, k)
	}
	return c, chunks, rows.Err()
}

// FindChunk returns one stored chunk of an item.
func (db *DB) FindChunk(ctx context.Context, sessionID, contentID string, index int) (*api.Chunk, error) {
	c, err := findContent(ctx, db.reader, sessionID, contentID)
	if err != nil {
		return nil, err
	}
	if index >= c.TotalChunks {
		return nil, api.Errorf(api.ECHUNKOUTOFRANGE, "item %s has %d chunks", contentID, c.TotalChunks)
	}
	k := &api.Chunk{Index: index}
	var sum []byte
	err = db.reader.QueryRowContext(ctx, `SELECT size, sha256 FROM chunk_metadata
		WHERE session_id = ? AND content_id = ? AND chunk_index = ?`, sessionID, contentID, index).Scan(&k.Size, &sum)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, api.Errorf(api.ENOTFOUND, "chunk %d of item %s is not stored yet", index, contentID)
	} else if err != nil {
		return nil, err
	}
	k.SHA256 = hexString(sum)
	return k, nil
}

// listCursor is the position after the last item of a page.
type listCursor struct {
	Pinned    bool   `json:"p"`
	CreatedAt int64  `json:"t"`
	ContentID string `json:"id"`
}

func encodeCursor(c *api.Content) string {
	raw, _ := json.Marshal(listCursor{Pinned: c.Pinned, CreatedAt: api.UnixMilli(c.CreatedAt), ContentID: c.ID})
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeCursor(s string) (listCursor, error) {
	var c listCursor
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil || api.ValidateContentID(c.ContentID) != nil {
		return c, api.Errorf(api.EINVALID, "cursor is not one this server gave out")
	}
	return c, nil
}

// listQueries are the page queries per order: pinned first, then by creation time and
// content id, so ties never reorder between pages.
var listQueries = map[api.ContentOrder]struct{ after, order string }{
	api.NewestFirst: {
		after: `(c.pinned < ? OR (c.pinned = ? AND (c.created_at < ? OR (c.created_at = ? AND c.content_id < ?))))`,
		order: `c.pinned DESC, c.created_at DESC, c.content_id DESC`,
	},
	api.OldestFirst: {
		after: `(c.pinned < ? OR (c.pinned = ? AND (c.created_at > ? OR (c.created_at = ? AND c.content_id > ?))))`,
		order: `c.pinned DESC, c.created_at ASC, c.content_id ASC`,
	},
}

// ListContents returns one page of a session's items and the cursor of the next page.
func (db *DB) ListContents(ctx context.Context, f api.ContentFilter) ([]*api.Content, string, error) {
	q := listQueries[f.Order]
	where, args := `c.session_id = ?`, []any{f.SessionID}
	if f.Cursor != "" {
		cur, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		where += ` AND ` + q.after
		args = append(args, cur.Pinned, cur.Pinned, cur.CreatedAt, cur.CreatedAt, cur.ContentID)
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT `+contentColumns+` FROM content_metadata c WHERE `+where+
		` ORDER BY `+q.order+` LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	items := []*api.Content{}
	for rows.Next() {
		c, err := scanContent(rows)
		if err != nil {
			return nil, "", err
		}
		items = append(items, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(items) <= f.Limit {
		return items, "", nil
	}
	items = items[:f.Limit]
	return items, encodeCursor(items[f.Limit-1]), nil
}
