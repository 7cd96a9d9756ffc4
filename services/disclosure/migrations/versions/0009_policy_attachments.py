"""Policy attachments: files stored with their SHA-256 (disclosure's own aggregate).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE policy_attachments (
            id           text PRIMARY KEY,
            policy_id    text NOT NULL REFERENCES policies,
            version      integer NOT NULL,
            filename     text NOT NULL,
            media_type   text NOT NULL,
            size         integer NOT NULL,
            sha256       text NOT NULL,
            content      bytea NOT NULL,
            attached_at  timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX policy_attachments_by_policy ON policy_attachments (policy_id, id)")
    op.execute("CREATE SEQUENCE policy_attachment_numbers")


def downgrade() -> None:
    op.execute("DROP TABLE policy_attachments")
    op.execute("DROP SEQUENCE policy_attachment_numbers")
