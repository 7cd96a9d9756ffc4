"""A pledge hold's terms: the registration in the national movable-property financing registry
(中登网登记编号), the loan amount (fen) and its maturity — JSON text, null for other holds.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"


def upgrade() -> None:
    op.execute("ALTER TABLE holds ADD COLUMN pledge text")


def downgrade() -> None:
    op.execute("ALTER TABLE holds DROP COLUMN pledge")
