"""Public cancellations, and each account's program (a buffer account's program: the buffer
pool's totals per program).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE public_cancellations (
            id               text PRIMARY KEY,
            account          text NOT NULL,
            quantity         bigint NOT NULL,
            reason           text NOT NULL,
            note             text,
            blocks           json NOT NULL,
            cancelled_at     timestamptz NOT NULL,
            source_sequence  bigint NOT NULL UNIQUE
        )
        """
    )
    op.execute("ALTER TABLE public_accounts ADD COLUMN program text")
    # Accounts consumed before this column: the registry names a program's buffer
    # `BUF-<program>` (`tanhui disclosure rebuild` restores every account's program exactly).
    op.execute(
        "UPDATE public_accounts SET program = substr(id, 5) WHERE kind = 'buffer' AND id LIKE 'BUF-%'"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE public_accounts DROP COLUMN program")
    op.execute("DROP TABLE public_cancellations")
