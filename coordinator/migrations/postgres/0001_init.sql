-- cosx coordinator schema, PostgreSQL. The same tables as the SQLite schema,
-- with native types, plus `log_head`: the one row every commit locks
-- (SELECT ... FOR UPDATE) before it appends, so that appends from every
-- replica are serialized and sequence n+1 can only commit after n.

CREATE TABLE parties (
    id          TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    etag        BIGINT NOT NULL
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
    superseded  BOOLEAN NOT NULL DEFAULT FALSE,
    version     BIGINT NOT NULL,
    position    BIGINT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX records_kind_position ON records (kind, position);
CREATE INDEX records_owner ON records (owner, kind);
CREATE INDEX records_provider ON records (provider, kind);
CREATE UNIQUE INDEX records_current_report ON records (natural_key) WHERE natural_key IS NOT NULL AND NOT superseded;

CREATE TABLE transitions (
    order_id    TEXT NOT NULL REFERENCES records (id),
    version     BIGINT NOT NULL,
    sequence    BIGINT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (order_id, version)
);

-- The event log and audit chain: append-only, gap-free sequence.
CREATE TABLE events (
    sequence    BIGINT PRIMARY KEY CHECK (sequence > 0),
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

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END
$$;
CREATE TRIGGER events_append_only_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- The last appended entry. Exactly one row; a commit locks it first, reads
-- the previous sequence and hash from it, and moves it on.
CREATE TABLE log_head (
    singleton   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    sequence    BIGINT NOT NULL,
    hash        TEXT NOT NULL
);
-- sequence 0 and the GENESIS hash (cosx_domain::audit::GENESIS).
INSERT INTO log_head (singleton, sequence, hash)
VALUES (TRUE, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE idempotency (
    caller       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    PRIMARY KEY (caller, request_id)
);
