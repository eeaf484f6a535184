-- Sessions, the clients in them, shared content and its chunks, and the event log.
-- Times are INTEGER unix milliseconds. Every table a session owns cascades from sessions, so
-- deleting a session row removes everything it owns in one transaction.

CREATE TABLE sessions (
    -- generation is never reused (AUTOINCREMENT): a session deleted and created again under
    -- the same name gets a new one, and tokens carry it.
    generation      INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id      TEXT    NOT NULL UNIQUE,
    kdf_alg         TEXT    NOT NULL,
    kdf_iterations  INTEGER NOT NULL,
    kdf_salt        BLOB    NOT NULL,
    fingerprint_iv  BLOB    NOT NULL,
    -- SHA-256 of the fingerprint ciphertext; the ciphertext itself is not kept.
    fingerprint_sha256 BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    last_activity   INTEGER NOT NULL
);
CREATE INDEX sessions_last_activity ON sessions (last_activity);

CREATE TABLE clients (
    client_id    TEXT    PRIMARY KEY,
    session_id   TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    client_name  TEXT    NOT NULL,
    connected_at INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    left_at      INTEGER
);
CREATE INDEX clients_session ON clients (session_id, connected_at);

CREATE TABLE content_metadata (
    session_id    TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    content_id    TEXT    NOT NULL,
    sender_id     TEXT    NOT NULL,
    sender_name   TEXT    NOT NULL,
    total_chunks  INTEGER NOT NULL,
    total_size    INTEGER NOT NULL,
    chunk_size    INTEGER NOT NULL,
    metadata_iv   BLOB    NOT NULL,
    metadata_data BLOB    NOT NULL,
    is_complete   INTEGER NOT NULL DEFAULT 0,
    pinned        INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (session_id, content_id)
);
CREATE INDEX content_metadata_list ON content_metadata (session_id, pinned, created_at, content_id);

CREATE TABLE chunk_metadata (
    session_id  TEXT    NOT NULL,
    content_id  TEXT    NOT NULL,
    chunk_index INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    sha256      BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (session_id, content_id, chunk_index),
    FOREIGN KEY (session_id, content_id)
        REFERENCES content_metadata (session_id, content_id) ON DELETE CASCADE
);

CREATE TABLE events (
    -- One log for all sessions: ids increase within a session and are never reused, so they
    -- are safe as SSE ids across restarts.
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    type       TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_session ON events (session_id, id);
