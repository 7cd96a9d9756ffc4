"""`processed_events` records each applied event's source topic and sequence (consumer gaps).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from libs.events import schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in schema.SOURCE_SEQUENCES:
        op.execute(statement)


def downgrade() -> None:
    for statement in schema.SOURCE_SEQUENCES_DROP:
        op.execute(statement)
