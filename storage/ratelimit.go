package storage

import (
	"context"
	"time"

	"github.com/sharethings/sharethings/api"
)

// TakeToken implements api.RateLimits in the database, so every instance draws on the same
// buckets. The bucket's row is locked while its new level is computed. PostgreSQL only: a
// server alone on SQLite keeps its buckets in memory.
func (db *DB) TakeToken(ctx context.Context, key string, perMinute int, cost float64) (bool, time.Duration, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return false, 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO rate_limits (key, tokens, at) VALUES (?, ?, 0) ON CONFLICT DO NOTHING`,
		key, float64(perMinute)); err != nil {
		return false, 0, err
	}
	var b api.Bucket
	var at int64
	if err := tx.QueryRowContext(ctx, `SELECT tokens, at FROM rate_limits WHERE key = ? FOR UPDATE`, key).Scan(&b.Tokens, &at); err != nil {
		return false, 0, err
	}
	if at > 0 {
		b.At = api.FromUnixMilli(at)
	}
	ok, wait := b.Take(tx.now, float64(perMinute), cost)
	if _, err := tx.ExecContext(ctx, `UPDATE rate_limits SET tokens = ?, at = ? WHERE key = ?`, b.Tokens, api.UnixMilli(tx.now), key); err != nil {
		return false, 0, err
	}
	return ok, wait, tx.Commit()
}

// PruneRateLimits forgets buckets unused for a minute: they have refilled completely.
func (db *DB) PruneRateLimits(ctx context.Context) error {
	if !db.Shared() {
		return nil
	}
	_, err := db.writer.ExecContext(ctx, `DELETE FROM rate_limits WHERE at < ?`, api.UnixMilli(db.Now().Add(-time.Minute)))
	return err
}
