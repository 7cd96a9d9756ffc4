"""Which events moved which units: serial provenance for `GET /v1/serials/{serial}`.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE unit_events (
            batch_id    text NOT NULL,
            start_unit  bigint NOT NULL,
            end_unit    bigint NOT NULL,
            sequence    bigint NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX unit_events_lookup ON unit_events (batch_id, start_unit, end_unit)")


def downgrade() -> None:
    op.execute("DROP TABLE unit_events")
