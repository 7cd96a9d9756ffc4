"""The witness: the last checkpoint of each service's log that disclosure checked, and what it
found wrong (services/disclosure/README.md, "Witness").

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE witnessed_logs (
            service       text PRIMARY KEY,
            verifier      text NOT NULL,
            size          bigint NOT NULL,
            root          text NOT NULL,
            checkpoint    text NOT NULL,
            witnessed_at  timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE witness_findings (
            id            bigserial PRIMARY KEY,
            service       text NOT NULL,
            problem       text NOT NULL,
            detail        text NOT NULL,
            checkpoint    text NOT NULL,
            found_at      timestamptz NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE witness_findings")
    op.execute("DROP TABLE witnessed_logs")
