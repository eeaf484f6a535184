package api

import (
	"context"
	"encoding/json"
	"time"
)

// Event names (PROTOCOL §6).
const (
	EventClientJoined     = "client.joined"
	EventClientLeft       = "client.left"
	EventContentCreated   = "content.created"
	EventContentChunk     = "content.chunk"
	EventContentCompleted = "content.completed"
	EventContentUpdated   = "content.updated"
	EventContentDeleted   = "content.deleted"
	EventSessionCleared   = "session.cleared"
	EventSessionExpired   = "session.expired"
	EventSessionResync    = "session.resync"
)

// Event is one entry of a session's durable log. Ids come from one log for all sessions, so
// they increase within a session but may have gaps.
type Event struct {
	ID        int64           `json:"id"`
	SessionID string          `json:"-"`
	Type      string          `json:"event"`
	Data      json.RawMessage `json:"data" swaggertype:"object"`
	CreatedAt time.Time       `json:"-"`
	// Prev is the id of the session's previous event (0 for its first). A subscriber that
	// last saw another id knows it missed something and reads the gap from the log.
	Prev int64 `json:"-"`
} //@name Event

// ClientEventData is the payload of client.joined and client.left.
type ClientEventData struct {
	ClientID   string `json:"clientId"`
	ClientName string `json:"clientName"`
} //@name ClientEventData

// Broker fans committed events out to live subscribers. Storage calls Publish after the
// transaction that recorded the events has committed, in id order per session; Publish must
// not block on slow subscribers.
type Broker interface {
	Publish(events []Event)
}

// EventLog reads the durable log, for replay.
type EventLog interface {
	// ListEvents returns up to limit events of a session with id > after, oldest first; the
	// first one's Prev is after, each other's the one before it.
	ListEvents(ctx context.Context, sessionID string, after int64, limit int) ([]Event, error)
	// EventBounds returns the id of the session's newest event and the newest id removed by
	// log retention (events after it are all kept).
	EventBounds(ctx context.Context, sessionID string) (latest, prunedThrough int64, err error)
}

// Presence tracks which clients are here: holding a stream, or polled within a grace period.
type Presence interface {
	// MarkPresent records that a client is here now; one that was away becomes present again
	// with client.joined.
	MarkPresent(ctx context.Context, sessionID, clientID string) error
	// MarkSeen records that clients were here now (a stream closing starts their grace).
	MarkSeen(ctx context.Context, clientIDs []string) error
	// ExpirePresence records client.left for present clients not seen since cutoff, except
	// those in holding (they have a stream open), and returns how many left.
	ExpirePresence(ctx context.Context, cutoff time.Time, holding []string) (int, error)
	// TouchSessions records activity in sessions that have streams open, so they do not expire.
	TouchSessions(ctx context.Context, sessionIDs []string) error
}
