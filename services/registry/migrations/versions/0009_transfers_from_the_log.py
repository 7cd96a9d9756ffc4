"""Transfer records come from the log: the `transfers` table is dropped.

Nothing read it: a transfer's event (`transfer/<id>`, found through the log's unique
`(stream, stream_version)` index) carries everything the table held — both accounts, the
quantity and the exact blocks moved — and `GET /v1/transfers/{id}` now answers from it. A
bulk request of 10,000 transfers no longer writes 10,000 rows and their index entries next to
the 10,000 events that already say the same.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TABLE transfers")


def downgrade() -> None:
    # Recreated empty: `tanhui registry rebuild` of the older code fills it from the log.
    op.execute(
        """
        CREATE TABLE transfers (
            id text PRIMARY KEY,
            from_account text NOT NULL,
            to_account text NOT NULL,
            quantity bigint NOT NULL,
            blocks json NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
