package storage

import (
	"context"
	"errors"
	"time"

	"github.com/sharethings/sharethings/api"
)

// ApplyRetention deletes unpinned items created before cutoff (when cutoff is not zero) and,
// in every session, unpinned items beyond the newest maxItems (when maxItems > 0). Pinned
// items are never removed by retention. It returns how many items went.
func (db *DB) ApplyRetention(ctx context.Context, cutoff time.Time, maxItems int) (int, error) {
	expired, err := db.itemsPastRetention(ctx, cutoff, maxItems)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for sid, ids := range expired {
		n, err := db.deleteContents(ctx, sid, ids)
		total += n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

// itemsPastRetention groups by session the unpinned items that retention removes.
func (db *DB) itemsPastRetention(ctx context.Context, cutoff time.Time, maxItems int) (map[string][]string, error) {
	before := int64(-1)
	if !cutoff.IsZero() {
		before = api.UnixMilli(cutoff)
	}
	if maxItems <= 0 {
		maxItems = -1 // no per-session limit: ROW_NUMBER is never above it
	}
	rows, err := db.reader.QueryContext(ctx, `
		SELECT session_id, content_id FROM (
			SELECT session_id, content_id, created_at,
				ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY created_at DESC, content_id DESC) AS newest
			FROM content_metadata WHERE pinned = FALSE) AS ranked
		WHERE created_at < ? OR (? > 0 AND newest > ?)`, before, maxItems, maxItems)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var sid, cid string
		if err := rows.Scan(&sid, &cid); err != nil {
			return nil, err
		}
		out[sid] = append(out[sid], cid)
	}
	return out, rows.Err()
}
