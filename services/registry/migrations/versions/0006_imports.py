"""CCER bridge-in: imported external serial ranges, never overlapping per source.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        """
        CREATE TABLE imports (
            id              text PRIMARY KEY,
            batch_id        text NOT NULL REFERENCES batches,
            source          text NOT NULL,
            external_start  text NOT NULL,
            external_end    text NOT NULL,
            prefix          text NOT NULL,
            units           int8range NOT NULL,
            imported_at     timestamptz NOT NULL DEFAULT now(),
            -- The database itself refuses a second import of any external unit of a source.
            EXCLUDE USING gist (source WITH =, prefix WITH =, units WITH &&)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE imports")
