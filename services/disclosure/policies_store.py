"""SQL of policy publication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from libs.events.store import Queryable

Conn = Queryable
_VERSION = (
    "policy_id, version, title_zh, title_en, body_zh, body_en, category, issuer,"
    " document_number, issued_on, effective_on, note, published_at"
)


async def next_policy_id(conn: Conn) -> str:
    number = await conn.fetchval("SELECT nextval('policy_numbers')")
    return f"POL-{number:06d}"


async def lock_policy(conn: Conn, policy_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT id, version, withdrawn, withdrawn_reason, first_published FROM policies"
        " WHERE id = $1 FOR UPDATE",
        policy_id,
    )
    return dict(row) if row else None


async def insert_version(conn: Conn, v: dict[str, Any], published_at: datetime) -> None:
    await conn.execute(
        f"INSERT INTO policy_versions ({_VERSION})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        v["policy_id"],
        v["version"],
        v["title_zh"],
        v["title_en"],
        v["body_zh"],
        v["body_en"],
        v["category"],
        v["issuer"],
        v["document_number"],
        date.fromisoformat(v["issued_on"]),
        date.fromisoformat(v["effective_on"]),
        v.get("note"),
        published_at,
    )
    await conn.execute(
        "INSERT INTO policies (id, version, first_published) VALUES ($1, $2, $3)"
        " ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version",
        v["policy_id"],
        v["version"],
        published_at,
    )


async def withdraw(conn: Conn, policy_id: str, reason: str) -> None:
    await conn.execute(
        "UPDATE policies SET withdrawn = true, withdrawn_reason = $2 WHERE id = $1",
        policy_id,
        reason,
    )


async def versions(conn: Conn, policy_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_VERSION} FROM policy_versions WHERE policy_id = $1 ORDER BY version DESC",
        policy_id,
    )
    return [dict(r) for r in rows]


_CURRENT = (
    "SELECT " + ", ".join(f"v.{c.strip()}" for c in _VERSION.split(",")) + ","
    " p.withdrawn, p.withdrawn_reason FROM policies p"
    " JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.version"
)


@dataclass(frozen=True)
class PolicyFilter:
    """`text` matches any part of either title or the document number; the issue dates are
    both included."""

    category: str | None = None
    text: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None


async def list_current(
    conn: Conn, only: PolicyFilter, offset: int, limit: int
) -> list[dict[str, Any]]:
    """Each policy's current version with its state, newest issue date first."""
    rows = await conn.fetch(
        f"{_CURRENT} WHERE ($1::text IS NULL OR v.category = $1)"
        " AND ($2::text IS NULL OR v.title_zh ILIKE '%' || $2 || '%'"
        " OR v.title_en ILIKE '%' || $2 || '%' OR v.document_number ILIKE '%' || $2 || '%')"
        " AND ($3::date IS NULL OR v.issued_on >= $3) AND ($4::date IS NULL OR v.issued_on <= $4)"
        " ORDER BY v.issued_on DESC, p.id DESC OFFSET $5 LIMIT $6",
        only.category,
        only.text,
        only.issued_from,
        only.issued_to,
        offset,
        limit,
    )
    return [dict(r) for r in rows]


async def current(conn: Conn, policy_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"{_CURRENT} WHERE p.id = $1", policy_id)
    return dict(row) if row else None


_ATTACHMENT = "id, policy_id, version, filename, media_type, size, sha256, attached_at"


async def next_attachment_id(conn: Conn) -> str:
    number = await conn.fetchval("SELECT nextval('policy_attachment_numbers')")
    return f"ATT-{number:06d}"


async def insert_attachment(conn: Conn, a: dict[str, Any], content: bytes) -> None:
    await conn.execute(
        f"INSERT INTO policy_attachments ({_ATTACHMENT}, content)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        a["id"],
        a["policy_id"],
        a["version"],
        a["filename"],
        a["media_type"],
        a["size"],
        a["sha256"],
        a["attached_at"],
        content,
    )


async def attachments(conn: Conn, policy_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_ATTACHMENT} FROM policy_attachments WHERE policy_id = $1 ORDER BY id",
        policy_id,
    )
    return [dict(r) for r in rows]


async def attachment_content(
    conn: Conn, policy_id: str, attachment_id: str
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        f"SELECT {_ATTACHMENT}, content FROM policy_attachments WHERE policy_id = $1 AND id = $2",
        policy_id,
        attachment_id,
    )
    return dict(row) if row else None
