"""Every movement of units the registry published: the serial provenance read model.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")  # (batch_id =, units &&) in one index
    op.execute(
        """
        CREATE TABLE public_movements (
            source_sequence  bigint NOT NULL,
            position         integer NOT NULL,
            event            text NOT NULL,
            subject          text NOT NULL,
            batch_id         text NOT NULL,
            units            int8range NOT NULL,
            from_account     text,
            from_state       text,
            to_account       text,
            to_state         text,
            time             timestamptz NOT NULL,
            PRIMARY KEY (source_sequence, position)
        )
        """
    )
    op.execute(
        "CREATE INDEX public_movements_units ON public_movements USING gist (batch_id, units)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE public_movements")
