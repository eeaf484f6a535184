package storage

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"

	"github.com/sharethings/sharethings/api"
)

var _ api.UploadService = (*DB)(nil)

// BeginUpload accepts an upload of one chunk after checking it against the announced item.
func (db *DB) BeginUpload(ctx context.Context, u *api.Upload) error {
	tx, err := db.beginSession(ctx, u.SessionID)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c, err := findContent(ctx, tx, u.SessionID, u.ContentID)
	if err != nil {
		return err
	}
	if err := checkUpload(ctx, tx, c, u); err != nil {
		return err
	}
	u.CreatedAt = api.FromUnixMilli(api.UnixMilli(tx.now))
	_, err = tx.ExecContext(ctx, `INSERT INTO uploads (upload_id, session_id, content_id, chunk_index, size, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, u.ID, u.SessionID, u.ContentID, u.Index, u.Size, api.UnixMilli(u.CreatedAt))
	if err != nil {
		return err
	}
	return tx.Commit()
}

// checkUpload refuses an index out of range, a length other than the chunk's blob length, a
// chunk already stored and a chunk someone is already uploading.
func checkUpload(ctx context.Context, tx *Tx, c *api.Content, u *api.Upload) error {
	if u.Index >= c.TotalChunks {
		return api.Errorf(api.ECHUNKOUTOFRANGE, "item %s has %d chunks", c.ID, c.TotalChunks)
	}
	if want := c.BlobLength(u.Index); u.Size != want {
		return api.Errorf(api.EINVALID, "chunk %d of item %s must be %d bytes, not %d", u.Index, c.ID, want, u.Size)
	}
	var stored int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM chunk_metadata WHERE session_id = ? AND content_id = ? AND chunk_index = ?`,
		u.SessionID, u.ContentID, u.Index).Scan(&stored); err != nil {
		return err
	}
	if stored > 0 {
		return api.Errorf(api.ECHUNKEXISTS, "chunk %d of item %s is already stored", u.Index, c.ID)
	}
	var running string
	err := tx.QueryRowContext(ctx, `SELECT upload_id FROM uploads WHERE session_id = ? AND content_id = ? AND chunk_index = ?`,
		u.SessionID, u.ContentID, u.Index).Scan(&running)
	if err == nil {
		e := api.Errorf(api.ECHUNKINPROGRESS, "chunk %d of item %s is being uploaded: resume that upload", u.Index, c.ID)
		e.Extra = map[string]any{"uploadId": running}
		return e
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// FinishUpload records a finished chunk and, with the last one, completes its item.
func (db *DB) FinishUpload(ctx context.Context, uploadID, sha256Hex string) error {
	sum, err := hex.DecodeString(sha256Hex)
	if err != nil || len(sum) != 32 {
		return errors.New("FinishUpload: sha256 must be 64 hex digits")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	u, err := findLockedUpload(ctx, tx, uploadID)
	if err != nil {
		return err
	}
	if err := recordChunk(ctx, tx, u, sum); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE upload_id = ?`, uploadID); err != nil {
		return err
	}
	if err := touchSession(ctx, tx, u.SessionID); err != nil {
		return err
	}
	return tx.Commit()
}

type chunkEvent struct {
	ContentID  string `json:"contentId"`
	ChunkIndex int    `json:"chunkIndex"`
	Size       int64  `json:"size"`
}

// recordChunk inserts the chunk row with content.chunk, and when it was the last missing one
// marks the item complete with content.completed. A chunk recorded before is left alone.
func recordChunk(ctx context.Context, tx *Tx, u *api.Upload, sum []byte) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO chunk_metadata (session_id, content_id, chunk_index, size, sha256, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, u.SessionID, u.ContentID, u.Index, u.Size, sum, api.UnixMilli(tx.now))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := tx.recordEvent(ctx, u.SessionID, api.EventContentChunk, chunkEvent{u.ContentID, u.Index, u.Size}); err != nil {
		return err
	}
	c, err := findContent(ctx, tx, u.SessionID, u.ContentID)
	if err != nil || c.ReceivedChunks < c.TotalChunks {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE content_metadata SET is_complete = TRUE, updated_at = ? WHERE session_id = ? AND content_id = ?`,
		api.UnixMilli(tx.now), u.SessionID, u.ContentID); err != nil {
		return err
	}
	return tx.recordEvent(ctx, u.SessionID, api.EventContentCompleted, contentRef{ContentID: u.ContentID})
}

const uploadColumns = `upload_id, session_id, content_id, chunk_index, size, created_at`

func scanUpload(row scanner) (*api.Upload, error) {
	var u api.Upload
	var created int64
	if err := row.Scan(&u.ID, &u.SessionID, &u.ContentID, &u.Index, &u.Size, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = api.FromUnixMilli(created)
	return &u, nil
}

func findUpload(ctx context.Context, q queryer, uploadID string) (*api.Upload, error) {
	u, err := scanUpload(q.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE upload_id = ?`, uploadID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, api.Errorf(api.ENOTFOUND, "no unfinished upload %s", uploadID)
	}
	return u, err
}

// findLockedUpload finds an upload and locks its session. Where the lock may have been waited
// for (PostgreSQL), it reads the upload again: whoever held the session may have deleted
// its item, and the upload with it.
func findLockedUpload(ctx context.Context, tx *Tx, uploadID string) (*api.Upload, error) {
	u, err := findUpload(ctx, tx, uploadID)
	if err != nil || tx.db.d.lockSession == "" {
		return u, err
	}
	if err := tx.lockSession(ctx, u.SessionID); err != nil {
		return nil, err
	}
	return findUpload(ctx, tx, uploadID)
}

// FindUpload returns an unfinished upload.
func (db *DB) FindUpload(ctx context.Context, uploadID string) (*api.Upload, error) {
	return findUpload(ctx, db.reader, uploadID)
}

// ListUploads returns every unfinished upload, oldest first.
func (db *DB) ListUploads(ctx context.Context) ([]*api.Upload, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT `+uploadColumns+` FROM uploads ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*api.Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// AbandonUpload forgets an unfinished upload.
func (db *DB) AbandonUpload(ctx context.Context, uploadID string) error {
	_, err := db.writer.ExecContext(ctx, `DELETE FROM uploads WHERE upload_id = ?`, uploadID)
	return err
}
