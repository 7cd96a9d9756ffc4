"""Account statement entries: one row per account touched by a movement event.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE account_entries (
            account_id  text NOT NULL,
            sequence    bigint NOT NULL,
            change      bigint NOT NULL,
            PRIMARY KEY (account_id, sequence)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE account_entries")
