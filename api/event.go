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
	// ListEvents returns up to limit events of a session with id > after, oldest first.
	ListEvents(ctx context.Context, sessionID string, after int64, limit int) ([]Event, error)
}
