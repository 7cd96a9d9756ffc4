"""Carbon labels as the public verifies them.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE public_labels (
            code                   text PRIMARY KEY,
            retirement_id          text NOT NULL,
            owner                  text NOT NULL,
            product                text NOT NULL,
            product_batch          text NOT NULL,
            functional_unit        text NOT NULL,
            units_covered          bigint NOT NULL,
            footprint_kg_per_unit  text NOT NULL,
            offset_kg_per_unit     text NOT NULL,
            claimed_kg             text NOT NULL,
            valid_from             date NOT NULL,
            valid_to               date NOT NULL,
            revoked_reason         text
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE public_labels")
