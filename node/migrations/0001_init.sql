-- A party node's own database: the outbox of writes its party's systems
-- made, the replica of what its party may see, and the coordinator's events.

-- Writes accepted here, in the order they were accepted; forwarded in that
-- order. `request` is the upstream request (protobuf), `response` what the
-- node answered (protobuf), kept to answer a repeated request id the same way.
CREATE TABLE IF NOT EXISTS outbox (
    sequence      INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id    TEXT NOT NULL UNIQUE,
    request_hash  TEXT NOT NULL,
    method        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    request       BLOB NOT NULL,
    response      BLOB NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'rejected')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    create_time   TEXT NOT NULL,
    error_code    TEXT,
    error_message TEXT,
    done_time     TEXT
);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (state, sequence);

-- Every record a write touches (a split touches the parent and its parts).
CREATE TABLE IF NOT EXISTS outbox_subject (
    subject  TEXT NOT NULL,
    sequence INTEGER NOT NULL REFERENCES outbox (sequence),
    PRIMARY KEY (subject, sequence)
);
-- A write's subjects, found by its sequence (forwarding, settling and
-- forgetting a write read them so; without it each was a full scan).
CREATE INDEX IF NOT EXISTS outbox_subject_by_sequence ON outbox_subject (sequence);

-- One row per record: the coordinator's version (`upstream`) and, while
-- writes made here are pending, the node's own (`local`), both protobuf.
CREATE TABLE IF NOT EXISTS replica (
    subject             TEXT PRIMARY KEY,
    kind                TEXT NOT NULL,
    upstream            BLOB,
    upstream_version    INTEGER NOT NULL DEFAULT 0,
    local               BLOB,
    superseded          INTEGER NOT NULL DEFAULT 0,
    rejected_request_id TEXT,
    rejection_code      TEXT,
    rejection_message   TEXT,
    rejection_time      TEXT
);
CREATE INDEX IF NOT EXISTS replica_by_kind ON replica (kind);

-- The coordinator's events this party may see, as received (protobuf).
CREATE TABLE IF NOT EXISTS events (
    sequence INTEGER PRIMARY KEY,
    subject  TEXT,
    body     BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_subject ON events (subject);

-- Where the replica stands: the feed cursor, the coordinator's head as last
-- seen, and when the feed last answered.
CREATE TABLE IF NOT EXISTS sync (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    cursor         INTEGER NOT NULL,
    head           INTEGER NOT NULL,
    last_sync_time TEXT
);
INSERT OR IGNORE INTO sync (id, cursor, head) VALUES (1, 0, 0);
