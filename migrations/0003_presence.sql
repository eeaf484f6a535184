-- Presence and event-log retention.
-- present: the client holds a stream or polled within the grace period; a client that is not
-- present has not left (its token still works) and becomes present again when it returns.
ALTER TABLE clients ADD COLUMN present INTEGER NOT NULL DEFAULT 1;
-- events_pruned_through: the newest event id of this session removed by log retention, so a
-- client whose Last-Event-ID is older is told to resync instead of silently missing events.
ALTER TABLE sessions ADD COLUMN events_pruned_through INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_created ON events (created_at);
