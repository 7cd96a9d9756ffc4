"""Pledges over a project's future issuances (质押).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE project_pledges (
            id                text PRIMARY KEY,
            project           text NOT NULL,
            account           text NOT NULL,
            lender            text NOT NULL,
            lender_account    text NOT NULL,
            share_percent     integer,
            quantity          bigint,
            pledged           bigint NOT NULL DEFAULT 0,
            registration_ref  text NOT NULL,
            loan_amount       bigint NOT NULL,
            expires_at        timestamptz NOT NULL,
            status            text NOT NULL CHECK (status IN ('active', 'released', 'enforced'))
        )
        """
    )
    op.execute("CREATE INDEX project_pledges_by_project ON project_pledges (project, account)")
    op.execute("CREATE SEQUENCE project_pledge_numbers")


def downgrade() -> None:
    op.execute("DROP TABLE project_pledges")
    op.execute("DROP SEQUENCE project_pledge_numbers")
