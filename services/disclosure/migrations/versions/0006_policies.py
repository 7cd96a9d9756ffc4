"""Policy publication (政策发布): each policy's versions, as published.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE policy_versions (
            policy_id        text NOT NULL,
            version          integer NOT NULL,
            title_zh         text NOT NULL,
            title_en         text NOT NULL,
            body_zh          text NOT NULL,
            body_en          text NOT NULL,
            category         text NOT NULL,
            issuer           text NOT NULL,
            document_number  text NOT NULL,
            issued_on        date NOT NULL,
            effective_on     date NOT NULL,
            note             text,
            published_at     timestamptz NOT NULL,
            PRIMARY KEY (policy_id, version)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE policies (
            id              text PRIMARY KEY,
            version         integer NOT NULL,
            withdrawn       boolean NOT NULL DEFAULT false,
            withdrawn_reason text,
            first_published timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE SEQUENCE policy_numbers")


def downgrade() -> None:
    op.execute("DROP SEQUENCE policy_numbers")
    op.execute("DROP TABLE policies")
    op.execute("DROP TABLE policy_versions")
