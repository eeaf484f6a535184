-- Unfinished tus uploads of chunks. A row exists from the moment an upload is accepted until
-- its chunk is recorded (the same transaction deletes it) or it is abandoned. At most one
-- unfinished upload per chunk, so a second client is sent to resume the first.
CREATE TABLE uploads (
    upload_id   TEXT    PRIMARY KEY,
    session_id  TEXT    NOT NULL,
    content_id  TEXT    NOT NULL,
    chunk_index INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (session_id, content_id, chunk_index),
    FOREIGN KEY (session_id, content_id)
        REFERENCES content_metadata (session_id, content_id) ON DELETE CASCADE
);
CREATE INDEX uploads_created ON uploads (created_at);
