"""Blocks carry vintage, hold and acquisition date; transfers and retirements.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE blocks ADD COLUMN vintage integer")
    op.execute(
        "UPDATE blocks SET vintage = b.vintage FROM batches b WHERE b.batch_id = blocks.batch_id"
    )
    op.execute("ALTER TABLE blocks ALTER COLUMN vintage SET NOT NULL")
    op.execute("ALTER TABLE blocks ADD COLUMN hold_id text")
    op.execute("ALTER TABLE blocks ADD COLUMN acquired_on date")
    op.execute(
        "CREATE INDEX blocks_selection ON blocks (account_id, state, vintage, batch_id, start_unit)"
    )
    op.execute("CREATE SEQUENCE operation_numbers")
    op.execute(
        """
        CREATE TABLE transfers (
            id            text PRIMARY KEY,
            from_account  text NOT NULL REFERENCES accounts,
            to_account    text NOT NULL REFERENCES accounts,
            quantity      bigint NOT NULL,
            blocks        json NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE retirements (
            id            text PRIMARY KEY,
            account       text NOT NULL REFERENCES accounts,
            quantity      bigint NOT NULL,
            beneficiary   text NOT NULL,
            purpose       text NOT NULL,
            claim_period  text,
            note          text,
            blocks        json NOT NULL,
            retired_at    timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE retirements")
    op.execute("DROP TABLE transfers")
    op.execute("DROP SEQUENCE operation_numbers")
    op.execute("DROP INDEX blocks_selection")
    for column in ("acquired_on", "hold_id", "vintage"):
        op.execute(f"ALTER TABLE blocks DROP COLUMN {column}")
