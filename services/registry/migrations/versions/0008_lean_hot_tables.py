"""Lean hot tables: no foreign keys on the rows the set-wise path writes, no duplicate index.

A bulk request of 10,000 transfers upserts ~6,000 blocks and inserts 10,000 transfer records in
one statement; PostgreSQL checked a foreign key for every one of those rows (~30,000 key
look-ups, ~130 ms of the statement's ~300 ms, measured with auto_explain). The commands look
up every account they name (unknown → 404) and every batch is created before its blocks, in
the same transaction as the events that `verify` replays; accounts and batches are never
deleted. `blocks_account (account_id, state)` is a prefix of `blocks_selection` and only cost
an index write per block.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_FOREIGN_KEYS = [
    ("blocks", "blocks_batch_id_fkey", "batch_id", "batches"),
    ("blocks", "blocks_account_id_fkey", "account_id", "accounts"),
    ("transfers", "transfers_from_account_fkey", "from_account", "accounts"),
    ("transfers", "transfers_to_account_fkey", "to_account", "accounts"),
    ("retirements", "retirements_account_fkey", "account", "accounts"),
]


def upgrade() -> None:
    for table, name, _, _ in _FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    op.execute("DROP INDEX blocks_account")


def downgrade() -> None:
    op.execute("CREATE INDEX blocks_account ON blocks (account_id, state)")
    for table, name, column, target in _FOREIGN_KEYS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {target}"
        )
