-- cosx coordinator schema, SQLite. Records are JSON of their domain type;
-- the columns beside the body exist for queries and visibility only.

CREATE TABLE parties (
    id          TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    etag        INTEGER NOT NULL
);

CREATE TABLE records (
    kind        TEXT NOT NULL,
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    provider    TEXT,
    release_to  TEXT NOT NULL,
    state       TEXT,
    tms         TEXT,
    region      TEXT,
    natural_key TEXT,
    superseded  INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX records_kind_position ON records (kind, position);
CREATE INDEX records_owner ON records (owner, kind);
CREATE INDEX records_provider ON records (provider, kind);
CREATE UNIQUE INDEX records_current_report ON records (natural_key) WHERE natural_key IS NOT NULL AND superseded = 0;

CREATE TABLE transitions (
    order_id    TEXT NOT NULL REFERENCES records (id),
    version     INTEGER NOT NULL,
    sequence    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (order_id, version)
);

-- The event log and audit chain: append-only, gap-free sequence.
CREATE TABLE events (
    sequence    INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_cert  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    owner       TEXT NOT NULL,
    provider    TEXT,
    release_to  TEXT NOT NULL,
    content     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

CREATE TABLE idempotency (
    caller       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    PRIMARY KEY (caller, request_id)
);
