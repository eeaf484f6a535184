-- The PostgreSQL schema: the same tables as the SQLite files one directory up, as of their
-- 0003, in PostgreSQL's types. Times are BIGINT unix milliseconds. Every table a session owns
-- cascades from sessions, so deleting a session row removes everything it owns at once.

CREATE TABLE sessions (
    -- Never reused: a session deleted and created again under the same name gets a new one,
    -- and tokens carry it.
    generation      BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id      TEXT    NOT NULL UNIQUE,
    kdf_alg         TEXT    NOT NULL,
    kdf_iterations  INTEGER NOT NULL,
    kdf_salt        BYTEA   NOT NULL,
    fingerprint_iv  BYTEA   NOT NULL,
    -- SHA-256 of the fingerprint ciphertext; the ciphertext itself is not kept.
    fingerprint_sha256 BYTEA NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_activity   BIGINT  NOT NULL,
    -- The newest event id of this session removed by log retention.
    events_pruned_through BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_last_activity ON sessions (last_activity);

CREATE TABLE clients (
    client_id    TEXT    PRIMARY KEY,
    session_id   TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    client_name  TEXT    NOT NULL,
    connected_at BIGINT  NOT NULL,
    last_seen    BIGINT  NOT NULL,
    left_at      BIGINT,
    -- The client holds a stream or polled within the grace period.
    present      BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX clients_session ON clients (session_id, connected_at);

CREATE TABLE content_metadata (
    session_id    TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    content_id    TEXT    NOT NULL,
    sender_id     TEXT    NOT NULL,
    sender_name   TEXT    NOT NULL,
    total_chunks  INTEGER NOT NULL,
    total_size    BIGINT  NOT NULL,
    chunk_size    INTEGER NOT NULL,
    metadata_iv   BYTEA   NOT NULL,
    metadata_data BYTEA   NOT NULL,
    is_complete   BOOLEAN NOT NULL DEFAULT FALSE,
    pinned        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (session_id, content_id)
);
CREATE INDEX content_metadata_list ON content_metadata (session_id, pinned, created_at, content_id);

CREATE TABLE chunk_metadata (
    session_id  TEXT    NOT NULL,
    content_id  TEXT    NOT NULL,
    chunk_index INTEGER NOT NULL,
    size        BIGINT  NOT NULL,
    sha256      BYTEA   NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (session_id, content_id, chunk_index),
    FOREIGN KEY (session_id, content_id)
        REFERENCES content_metadata (session_id, content_id) ON DELETE CASCADE
);

CREATE TABLE events (
    -- One log for all sessions: ids increase within a session in commit order (writers to a
    -- session hold its row) and are never reused, so they are safe as SSE ids.
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    type       TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX events_session ON events (session_id, id);
CREATE INDEX events_created ON events (created_at);

-- Unfinished tus uploads of chunks, at most one per chunk.
CREATE TABLE uploads (
    upload_id   TEXT    PRIMARY KEY,
    session_id  TEXT    NOT NULL,
    content_id  TEXT    NOT NULL,
    chunk_index INTEGER NOT NULL,
    size        BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (session_id, content_id, chunk_index),
    FOREIGN KEY (session_id, content_id)
        REFERENCES content_metadata (session_id, content_id) ON DELETE CASCADE
);
CREATE INDEX uploads_created ON uploads (created_at);

-- Token buckets of rate limits shared by every instance (join attempts, wrong passphrases).
CREATE TABLE rate_limits (
    key      TEXT             PRIMARY KEY,
    tokens   DOUBLE PRECISION NOT NULL,
    at       BIGINT           NOT NULL
);
