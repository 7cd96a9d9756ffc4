"""DDL of the event store, shared by every service's first Alembic migration.

- `events`: the append-only, hash-chained log. Triggers reject UPDATE, DELETE and TRUNCATE.
- The primary key on `sequence` is the log's serialization point: a transaction inserts
  exactly `head+1, head+2, …` with `prevhash` = the head's hash. Two transactions built on the
  same head collide on the primary key (the second waits for the first, then fails and
  re-runs on the new head), and sequence N+1 cannot be written before N is committed because
  its `prevhash` is N's hash. So sequences commit in order and without gaps, and a reader
  tailing by `sequence > position` can never skip an earlier position that commits late.
- A stream's current version is `max(stream_version)`, read from the unique index on
  `(stream, stream_version)`, which also has the last word on concurrent appends.
- `relay_positions`: the last sequence each outbox relay has published.
- `processed_events`: events each consumer has applied (exactly-once effects).
"""

from __future__ import annotations

CREATE = [
    """
    CREATE TABLE events (
        sequence        bigint PRIMARY KEY,
        id              uuid NOT NULL UNIQUE,
        stream          text NOT NULL,
        stream_version  integer NOT NULL,
        type            text NOT NULL,
        time            timestamptz NOT NULL,
        actor           text NOT NULL,
        correlation_id  text,
        causation_id    text,
        traceparent     text,
        prevhash        char(64) NOT NULL,
        hash            char(64) NOT NULL,
        data            json NOT NULL,
        UNIQUE (stream, stream_version)
    )
    """,
    """
    CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the events table is append-only (% rejected)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION events_are_append_only()
    """,
    """
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only()
    """,
    "ALTER TABLE events ADD CONSTRAINT events_start_at_one CHECK (sequence >= 1)",
    """
    CREATE TABLE relay_positions (
        topic     text PRIMARY KEY,
        sequence  bigint NOT NULL
    )
    """,
    """
    CREATE TABLE processed_events (
        consumer      text NOT NULL,
        event_id      uuid NOT NULL,
        processed_at  timestamptz NOT NULL DEFAULT now(),
        dead_letter   boolean NOT NULL DEFAULT false,
        PRIMARY KEY (consumer, event_id)
    )
    """,
    """
    CREATE TABLE idempotency_keys (
        scope         text NOT NULL,
        key           text NOT NULL,
        request_hash  char(64) NOT NULL,
        status_code   integer NOT NULL,
        response      json NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
    )
    """,
]

# Which source event each processed row is: the source topic and the event's `sequence` there,
# so that a consumer knows how far it has applied each source log without a gap (see
# `libs.events.sequence_gaps`). Added by each service's migration after its first.
SOURCE_SEQUENCES = [
    "ALTER TABLE processed_events ADD COLUMN source_topic text, ADD COLUMN source_sequence bigint",
    "CREATE INDEX processed_events_by_source ON processed_events"
    " (consumer, source_topic, source_sequence)",
]
SOURCE_SEQUENCES_DROP = [
    "ALTER TABLE processed_events DROP COLUMN source_topic, DROP COLUMN source_sequence",
]

DROP = [
    "DROP TABLE IF EXISTS idempotency_keys",
    "DROP TABLE IF EXISTS processed_events",
    "DROP TABLE IF EXISTS relay_positions",
    "DROP TABLE IF EXISTS events",
    "DROP FUNCTION IF EXISTS events_are_append_only()",
]
