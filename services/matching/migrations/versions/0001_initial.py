"""Event store tables.

Revision ID: 0001
"""

from alembic import op

from libs.events import schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in schema.CREATE:
        op.execute(statement)


def downgrade() -> None:
    for statement in schema.DROP:
        op.execute(statement)
