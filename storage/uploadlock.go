package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"hash/fnv"
	"time"
)

// LockUpload makes an upload this caller's alone across every instance, with a PostgreSQL
// advisory lock held on a connection of its own until unlock. While another caller holds it,
// LockUpload asks the holder, wherever it runs, to let go (released is how we are asked), and
// waits until it has or ctx ends. A holder that dies loses its connection and so its lock.
func (db *DB) LockUpload(ctx context.Context, uploadID string, released func()) (unlock func(), err error) {
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return nil, err
	}
	key := lockKey(uploadID)
	if err := db.acquire(ctx, conn, key, uploadID); err != nil {
		conn.Close()
		return nil, err
	}
	db.listener.hold(uploadID, released)
	return func() {
		db.listener.hold(uploadID, nil)
		// A connection that cannot unlock is closed, which unlocks.
		if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}

// acquire tries the lock, asking its holder to let go between tries, until it has it.
func (db *DB) acquire(ctx context.Context, conn *sql.Conn, key int64, uploadID string) error {
	pause := 5 * time.Millisecond
	var asked time.Time
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
			return err
		} else if ok {
			return nil
		}
		if time.Since(asked) > time.Second {
			asked = time.Now()
			if _, err := db.writer.ExecContext(ctx, `SELECT pg_notify(?, ?)`, unlockChannel, uploadID); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// lockKey names an upload's advisory lock; a collision only makes two uploads wait for each
// other.
func lockKey(uploadID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("upload " + uploadID))
	return int64(h.Sum64())
}

// hold records (or, with nil, forgets) how to ask our holder of an upload's lock to let go.
func (l *listener) hold(uploadID string, released func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if released == nil {
		delete(l.holders, uploadID)
	} else {
		l.holders[uploadID] = released
	}
}

// requestRelease asks our holder of an upload's lock, if we have one, to let go.
func (l *listener) requestRelease(uploadID string) {
	l.mu.Lock()
	release := l.holders[uploadID]
	l.mu.Unlock()
	if release != nil {
		release()
	}
}
