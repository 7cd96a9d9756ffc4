"""SQL of the block agreement: quotes (the negotiation's state and latest offer) and their
offers (the dialogue), projections of the log written in the command's transaction."""

from __future__ import annotations

from typing import Any

from libs.events.store import Queryable

Conn = Queryable
Row = dict[str, Any]

_QUOTE = (
    "id, instrument_id, maker, side, counterparty, directed, status, price, quantity,"
    " last_offer_by, maker_leg_id, counterparty_leg_id, trade_id, expires_at, posted_at"
)
_OFFER = "quote_id, number, member, price, quantity, offered_at"


async def insert_quote(conn: Conn, q: Row) -> None:
    await conn.execute(
        f"INSERT INTO block_quotes ({_QUOTE}) VALUES"
        " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        *(q[c.strip()] for c in _QUOTE.split(",")),
    )


async def get_quote(conn: Conn, quote_id: str, for_update: bool = False) -> Row | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_QUOTE} FROM block_quotes WHERE id = $1{lock}", quote_id)
    return dict(row) if row else None


async def update_quote(conn: Conn, quote_id: str, **values: Any) -> None:
    """Set the named columns (the negotiation's state, its latest offer)."""
    columns = list(values)
    assert set(columns) <= {c.strip() for c in _QUOTE.split(",")}
    assignments = ", ".join(f"{c} = ${n + 2}" for n, c in enumerate(columns))
    await conn.execute(
        f"UPDATE block_quotes SET {assignments} WHERE id = $1", quote_id, *values.values()
    )


async def insert_offer(conn: Conn, o: Row) -> None:
    await conn.execute(
        f"INSERT INTO block_offers ({_OFFER}) VALUES ($1, $2, $3, $4, $5, $6)",
        *(o[c.strip()] for c in _OFFER.split(",")),
    )


async def offers(conn: Conn, quote_ids: list[str]) -> dict[str, list[Row]]:
    """Each quote's dialogue, oldest offer first."""
    rows = await conn.fetch(
        f"SELECT {_OFFER} FROM block_offers WHERE quote_id = ANY($1::text[])"
        " ORDER BY quote_id, number",
        quote_ids,
    )
    dialogue: dict[str, list[Row]] = {quote_id: [] for quote_id in quote_ids}
    for row in rows:
        dialogue[row["quote_id"]].append(dict(row))
    return dialogue


async def visible_quotes(
    conn: Conn,
    instrument_id: str | None,
    org: str | None,
    supervisor: bool,
    status: str | None,
    limit: int,
) -> list[Row]:
    """Public quotes and those `org` is a party to (a supervisor: all), newest first."""
    rows = await conn.fetch(
        f"SELECT {_QUOTE} FROM block_quotes WHERE ($1::text IS NULL OR instrument_id = $1)"
        " AND ($3::text IS NULL OR status = $3)"
        " AND ($4 OR NOT directed OR maker = $2 OR counterparty = $2)"
        " ORDER BY posted_at DESC, id LIMIT $5",
        instrument_id,
        org,
        status,
        supervisor,
        limit,
    )
    return [dict(r) for r in rows]


async def expired_quotes(conn: Conn, now: Any, limit: int) -> list[str]:
    """Open quotes whose block window has ended."""
    rows = await conn.fetch(
        "SELECT id FROM block_quotes WHERE status = 'open' AND expires_at <= $1"
        " ORDER BY expires_at LIMIT $2",
        now,
        limit,
    )
    return [r["id"] for r in rows]
