"""Carbon points schemes as the public sees them: backing, minted, redeemed, outstanding.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE public_points_schemes (
            id              text PRIMARY KEY,
            name            text NOT NULL,
            operator        text NOT NULL,
            backed          boolean NOT NULL,
            backing_points  bigint NOT NULL DEFAULT 0,
            minted          bigint NOT NULL DEFAULT 0,
            redeemed        bigint NOT NULL DEFAULT 0
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE public_points_schemes")
