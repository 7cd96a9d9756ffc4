"""Public accounts, retirements and per-batch totals (issued, retired, cancelled).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"

TABLES = [
    """
    CREATE TABLE public_accounts (
        id     text PRIMARY KEY,
        owner  text NOT NULL,
        name   text NOT NULL,
        kind   text NOT NULL
    )
    """,
    """
    CREATE TABLE public_retirements (
        id               text PRIMARY KEY,
        account          text NOT NULL,
        quantity         bigint NOT NULL,
        beneficiary      text NOT NULL,
        purpose          text NOT NULL,
        claim_period     text,
        blocks           json NOT NULL,
        retired_at       timestamptz NOT NULL,
        source_sequence  bigint NOT NULL UNIQUE
    )
    """,
    """
    CREATE TABLE batch_totals (
        batch_id   text PRIMARY KEY,
        issued     bigint NOT NULL DEFAULT 0,
        retired    bigint NOT NULL DEFAULT 0,
        cancelled  bigint NOT NULL DEFAULT 0
    )
    """,
]


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in ("batch_totals", "public_retirements", "public_accounts"):
        op.execute(f"DROP TABLE {table}")
