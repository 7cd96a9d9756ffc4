"""SQL of the event machinery's own tables: where each relay stands in its topic
(`relay_positions`) and which events each consumer has applied (`processed_events`)."""

from __future__ import annotations

from collections.abc import Sequence

from libs.events.records import Queryable


async def relay_position(conn: Queryable, topic: str) -> int:
    """The last sequence the relay of `topic` published (0: none)."""
    value = await conn.fetchval("SELECT sequence FROM relay_positions WHERE topic = $1", topic)
    return int(value or 0)


async def save_relay_position(conn: Queryable, topic: str, sequence: int) -> None:
    await conn.execute(
        "INSERT INTO relay_positions (topic, sequence) VALUES ($1, $2)"
        " ON CONFLICT (topic) DO UPDATE SET sequence = excluded.sequence",
        topic,
        sequence,
    )


async def take_advisory_lock(conn: Queryable, key: int) -> None:
    """Block until this session holds the advisory lock `key` (released when it ends)."""
    await conn.execute("SELECT pg_advisory_lock($1)", key)


async def mark_processed(
    conn: Queryable, consumer: str, event_id: str, topic: str, sequence: int | None
) -> bool:
    """Record the event as applied by `consumer`; False if it was already."""
    first_time = await conn.fetchval(
        "INSERT INTO processed_events (consumer, event_id, source_topic, source_sequence)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        event_id,
        topic,
        sequence,
    )
    return bool(first_time)


async def mark_dead(
    conn: Queryable, consumer: str, event_id: str, topic: str, sequence: int | None
) -> None:
    """Record the event as dead-lettered by `consumer` (never applied)."""
    await conn.execute(
        "INSERT INTO processed_events"
        " (consumer, event_id, dead_letter, source_topic, source_sequence)"
        " VALUES ($1, $2, true, $3, $4)"
        " ON CONFLICT (consumer, event_id) DO UPDATE SET dead_letter = true",
        consumer,
        event_id,
        topic,
        sequence,
    )


async def mark_run_processed(
    conn: Queryable,
    consumer: str,
    event_ids: Sequence[str],
    topics: Sequence[str],
    sequences: Sequence[int | None],
) -> set[str]:
    """Record a run of events as applied by `consumer`, in one statement; the ids new to it."""
    rows = await conn.fetch(
        "INSERT INTO processed_events (consumer, event_id, source_topic, source_sequence)"
        " SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::bigint[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        consumer,
        list(event_ids),
        list(topics),
        list(sequences),
    )
    return {str(row["event_id"]) for row in rows}


async def applied_runs(conn: Queryable, consumer: str, topic: str) -> list[tuple[int, int]]:
    """The runs of consecutive sequences `consumer` applied from `topic`, in order: normally
    one run from 1 (the watermark); any later run lies beyond a gap."""
    rows = await conn.fetch(
        """
        SELECT min(source_sequence) AS first, max(source_sequence) AS last
        FROM (
            SELECT source_sequence,
                   source_sequence - row_number() OVER (ORDER BY source_sequence) AS run
            FROM processed_events
            WHERE consumer = $1 AND source_topic = $2 AND source_sequence IS NOT NULL
        ) numbered
        GROUP BY run
        ORDER BY first
        """,
        consumer,
        topic,
    )
    return [(row["first"], row["last"]) for row in rows]
