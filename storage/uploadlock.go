package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"
)

// uploadLocks are this instance's locks on unfinished uploads: in this process, who holds
// which upload; in PostgreSQL, an advisory lock per held upload, so that other instances see
// it. All the advisory locks sit on one connection kept for them, so that holders, however
// many, never take the connections their own queries need.
type uploadLocks struct {
	db *DB

	mu   sync.Mutex
	held map[string]*heldUpload

	connMu sync.Mutex // one query at a time on conn
	conn   *sql.Conn  // nil until the first lock, and after it broke
}

type heldUpload struct {
	released func()        // asks the holder to let go
	done     chan struct{} // closed when it has
}

// lockQueryTimeout bounds a query on the locks' connection. The queries never wait for a
// lock (they try), and are never given a caller's context: cancelling one would close the
// connection and drop every lock on it.
const lockQueryTimeout = 10 * time.Second

// LockUpload makes an upload this caller's alone across every instance, until unlock. While
// another caller holds it, LockUpload asks the holder, wherever it runs, to let go (released
// is how we are asked), and waits until it has or ctx ends. A holder that dies loses its
// connection and so its lock. PostgreSQL only.
func (db *DB) LockUpload(ctx context.Context, uploadID string, released func()) (unlock func(), err error) {
	l := db.locks
	h, err := l.holdHere(ctx, uploadID, released)
	if err != nil {
		return nil, err
	}
	key := lockKey(uploadID)
	if err := l.lockEverywhere(ctx, key, uploadID); err != nil {
		l.letGo(uploadID, h)
		return nil, err
	}
	return func() {
		if _, err := l.query(`SELECT pg_advisory_unlock($1)`, key); err != nil {
			slog.Warn("unlock upload", "err", err)
		}
		l.letGo(uploadID, h)
	}, nil
}

// holdHere waits until no other caller in this process holds the upload, asking the one that
// does to let go, and then holds it.
func (l *uploadLocks) holdHere(ctx context.Context, uploadID string, released func()) (*heldUpload, error) {
	for {
		l.mu.Lock()
		other := l.held[uploadID]
		if other == nil {
			h := &heldUpload{released: released, done: make(chan struct{})}
			l.held[uploadID] = h
			l.mu.Unlock()
			return h, nil
		}
		l.mu.Unlock()
		other.released()
		select {
		case <-other.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (l *uploadLocks) letGo(uploadID string, h *heldUpload) {
	l.mu.Lock()
	delete(l.held, uploadID)
	l.mu.Unlock()
	close(h.done)
}

// lockEverywhere tries the advisory lock until it has it, asking the other instances'
// holder to let go every second, or until ctx ends.
func (l *uploadLocks) lockEverywhere(ctx context.Context, key int64, uploadID string) error {
	pause := 5 * time.Millisecond
	var asked time.Time
	for {
		if ok, err := l.query(`SELECT pg_try_advisory_lock($1)`, key); err != nil || ok {
			return err
		}
		if time.Since(asked) > time.Second {
			asked = time.Now()
			if _, err := l.db.writer.ExecContext(ctx, `SELECT pg_notify(?, ?)`, unlockChannel, uploadID); err != nil {
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

// query runs a lock function on the locks' connection. When the connection fails, the locks
// on it are gone: every holder is asked to let go, and the next lock opens a new one.
func (l *uploadLocks) query(query string, key int64) (bool, error) {
	l.connMu.Lock()
	defer l.connMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), lockQueryTimeout)
	defer cancel()
	if l.conn == nil {
		conn, err := l.db.writer.Conn(ctx)
		if err != nil {
			return false, err
		}
		l.conn = conn
	}
	var ok bool
	err := l.conn.QueryRowContext(ctx, query, key).Scan(&ok)
	if err != nil {
		l.lost()
	}
	return ok, err
}

// check, after the listener lost its connection too, makes sure the locks' connection
// still stands.
func (l *uploadLocks) check() {
	l.connMu.Lock()
	defer l.connMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), lockQueryTimeout)
	defer cancel()
	if l.conn != nil && l.conn.PingContext(ctx) != nil {
		l.lost()
	}
}

// lost drops the locks' broken connection and asks every holder in this process to let go:
// its lock is gone. Callers hold connMu.
func (l *uploadLocks) lost() {
	l.conn.Raw(func(any) error { return driver.ErrBadConn }) // never back into the pool
	l.conn.Close()
	l.conn = nil
	l.mu.Lock()
	holders := make([]*heldUpload, 0, len(l.held))
	for _, h := range l.held {
		holders = append(holders, h)
	}
	l.mu.Unlock()
	for _, h := range holders {
		h.released()
	}
}

// close returns the locks' connection, and with it every lock on it.
func (l *uploadLocks) close() {
	l.connMu.Lock()
	defer l.connMu.Unlock()
	if l.conn != nil {
		l.conn.Close()
		l.conn = nil
	}
}

// requestRelease asks our holder of an upload, if we have one, to let go.
func (l *uploadLocks) requestRelease(uploadID string) {
	l.mu.Lock()
	h := l.held[uploadID]
	l.mu.Unlock()
	if h != nil {
		h.released()
	}
}

// lockKey names an upload's advisory lock; a collision only makes two uploads wait for each
// other.
func lockKey(uploadID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("upload " + uploadID))
	return int64(h.Sum64())
}
