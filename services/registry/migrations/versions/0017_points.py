"""Carbon points (碳积分): schemes, their backings, holders' balances and statements.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"

STATEMENTS = [
    """
    CREATE TABLE points_schemes (
        id              text PRIMARY KEY,
        name            text NOT NULL,
        operator        text NOT NULL,
        backed          boolean NOT NULL,
        backing_points  bigint NOT NULL DEFAULT 0,
        minted          bigint NOT NULL DEFAULT 0,
        redeemed        bigint NOT NULL DEFAULT 0,
        CHECK (NOT backed OR minted <= backing_points),
        CHECK (redeemed <= minted)
    )
    """,
    "CREATE SEQUENCE points_scheme_numbers",
    """
    CREATE TABLE points_backings (
        retirement_id  text PRIMARY KEY,
        scheme_id      text NOT NULL REFERENCES points_schemes,
        points         bigint NOT NULL
    )
    """,
    """
    CREATE TABLE points_balances (
        scheme_id  text NOT NULL REFERENCES points_schemes,
        holder     text NOT NULL,
        points     bigint NOT NULL CHECK (points >= 0),
        PRIMARY KEY (scheme_id, holder)
    )
    """,
    # A holder's statement: every change of its balance, in log order.
    """
    CREATE TABLE points_entries (
        sequence   bigint NOT NULL,
        scheme_id  text NOT NULL,
        holder     text NOT NULL,
        delta      bigint NOT NULL,
        kind       text NOT NULL CHECK (kind IN ('mint', 'transfer', 'redemption')),
        reference  text NOT NULL,
        PRIMARY KEY (sequence, holder)
    )
    """,
    "CREATE INDEX points_entries_by_holder ON points_entries (scheme_id, holder, sequence)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("points_entries", "points_balances", "points_backings", "points_schemes"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP SEQUENCE points_scheme_numbers")
