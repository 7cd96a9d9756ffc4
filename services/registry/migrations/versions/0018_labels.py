"""Carbon labels (碳标签): product claims backed by `carbon_label` retirements.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE labels (
            code                   text PRIMARY KEY,
            retirement_id          text NOT NULL,
            owner                  text NOT NULL,
            product                text NOT NULL,
            product_batch          text NOT NULL,
            functional_unit        text NOT NULL,
            units_covered          bigint NOT NULL,
            footprint_kg_per_unit  numeric NOT NULL,
            offset_kg_per_unit     numeric NOT NULL,
            claimed_kg             numeric NOT NULL,
            valid_from             date NOT NULL,
            valid_to               date NOT NULL,
            status                 text NOT NULL CHECK (status IN ('active', 'revoked')),
            revoked_reason         text
        )
        """
    )
    op.execute("CREATE INDEX labels_by_retirement ON labels (retirement_id)")


def downgrade() -> None:
    op.execute("DROP TABLE labels")
