package storage

// How instances sharing one PostgreSQL database tell each other what they did: NOTIFY inside
// the transaction that did it, and one LISTENing connection per instance.

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notification channels every instance listens on. Payloads carry ids only: the tables stay
// the source of truth.
const (
	// eventsChannel: "instance prevId lastId sessionId" per session a commit wrote events to.
	eventsChannel = "sharethings_events"
	// unlockChannel: the id of an upload someone waits to lock (uploadlock.go).
	unlockChannel = "sharethings_unlock"
	// expiredChannel: "instance sessionId" of a session an instance deleted as idle.
	expiredChannel = "sharethings_expired"
)

// notify sends a notification to every instance when tx commits.
func (tx *Tx) notify(channel, payload string) error {
	_, err := tx.ExecContext(context.Background(), `SELECT pg_notify(?, ?)`, channel, payload)
	return err
}

// notifyOthers, inside the transaction, tells the other instances which events it recorded:
// per session, the id before them and the last. PostgreSQL delivers notifications at commit,
// in commit order, and only if the transaction commits.
func (tx *Tx) notifyOthers() error {
	if !tx.db.Shared() || len(tx.events) == 0 {
		return nil
	}
	first := map[string]int64{}
	last := map[string]int64{}
	var order []string
	for _, e := range tx.events {
		if _, ok := first[e.SessionID]; !ok {
			first[e.SessionID] = e.Prev
			order = append(order, e.SessionID)
		}
		last[e.SessionID] = e.ID
	}
	for _, sid := range order {
		payload := fmt.Sprintf("%s %d %d %s", tx.db.instance, first[sid], last[sid], sid)
		if err := tx.notify(eventsChannel, payload); err != nil {
			return err
		}
	}
	return nil
}

// Relay is where FollowOthers hands what other instances did.
type Relay struct {
	// CatchUp runs after every (re)connection, when notifications may have been missed, to
	// read from the log what subscribers lack.
	CatchUp func(context.Context)
	// SessionExpired runs when another instance deleted an idle session.
	SessionExpired func(sessionID string)
}

// notifyExpired tells the other instances which sessions tx deletes as idle, so they end
// their subscribers' streams with session.expired as this instance does.
func (tx *Tx) notifyExpired(sessionIDs []string) error {
	if !tx.db.Shared() {
		return nil
	}
	for _, id := range sessionIDs {
		if err := tx.notify(expiredChannel, tx.db.instance+" "+id); err != nil {
			return err
		}
	}
	return nil
}

// listener holds one connection LISTENing for the other instances and relays what it hears.
type listener struct {
	db     *DB
	relay  Relay
	cancel context.CancelFunc
	done   chan struct{}
}

// FollowOthers starts relaying other instances' events to db.Broker, their expired sessions
// and catch-ups to relay, and their requests for upload locks to our holders; call it once,
// after setting Broker. On SQLite there are no others, and it does nothing.
func (db *DB) FollowOthers(relay Relay) {
	if !db.Shared() {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := db.listener
	l.relay, l.cancel, l.done = relay, cancel, make(chan struct{})
	go l.run(ctx)
}

func (l *listener) stop() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
}

// run listens until stopped, reconnecting with a growing pause when the connection fails.
func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listen(ctx, func() { pause = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		slog.Warn("listening to other instances failed; retrying", "err", err, "in", pause)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// listen connects, subscribes, catches up and handles notifications until an error.
func (l *listener) listen(ctx context.Context, connected func()) error {
	conn, err := pgx.Connect(ctx, l.db.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{eventsChannel, unlockChannel, expiredChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	connected()
	// What broke our connection may have broken the one holding upload locks.
	l.db.locks.check()
	if l.relay.CatchUp != nil {
		l.relay.CatchUp(ctx)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch n.Channel {
		case eventsChannel:
			l.relayEvents(ctx, n.Payload)
		case unlockChannel:
			l.db.locks.requestRelease(n.Payload)
		case expiredChannel:
			instance, sid, _ := strings.Cut(n.Payload, " ")
			if instance != l.db.instance && l.relay.SessionExpired != nil {
				l.relay.SessionExpired(sid)
			}
		}
	}
}

// relayEvents reads from the log the events another instance committed and publishes them.
func (l *listener) relayEvents(ctx context.Context, payload string) {
	f := strings.SplitN(payload, " ", 4)
	if len(f) != 4 || f[0] == l.db.instance || l.db.Broker == nil {
		return // ours were published at commit
	}
	// A broker that knows whom it serves spares us reading events nobody here follows; one
	// who starts to later reads them from the log.
	if b, ok := l.db.Broker.(interface{ Follows(string) bool }); ok && !b.Follows(f[3]) {
		return
	}
	prev, err1 := strconv.ParseInt(f[1], 10, 64)
	last, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || last <= prev {
		return
	}
	events, err := l.db.ListEvents(ctx, f[3], prev, int(min(last-prev, 1000)))
	if err != nil {
		// Subscribers see the gap at the next event of the session and read it then.
		slog.Warn("read events another instance recorded", "err", err)
		return
	}
	// Later commits' events, read here too, come with their own notifications.
	n := 0
	for n < len(events) && events[n].ID <= last {
		n++
	}
	if n > 0 {
		l.db.Broker.Publish(events[:n])
	}
}
