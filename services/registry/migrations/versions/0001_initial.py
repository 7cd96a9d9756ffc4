"""Event store and the first registry projections: accounts, batches, blocks.

Revision ID: 0001
"""

from alembic import op

from libs.events import schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PROJECTIONS = [
    "CREATE SEQUENCE account_numbers",
    """
    CREATE TABLE accounts (
        id       text PRIMARY KEY,
        owner    text NOT NULL,
        name     text NOT NULL,
        kind     text NOT NULL CHECK (kind IN ('holding', 'buffer')),
        program  text,
        status   text NOT NULL CHECK (status IN ('open', 'frozen'))
    )
    """,
    "CREATE INDEX accounts_owner ON accounts (owner)",
    """
    CREATE TABLE batches (
        batch_id    text PRIMARY KEY,
        program     text NOT NULL,
        scope       text NOT NULL,
        project     text NOT NULL,
        vintage     integer NOT NULL,
        seq         integer NOT NULL,
        start_unit  bigint NOT NULL,
        end_unit    bigint NOT NULL,
        UNIQUE (program, project, vintage, seq)
    )
    """,
    """
    CREATE TABLE project_units (
        project    text PRIMARY KEY,
        last_unit  bigint NOT NULL
    )
    """,
    """
    CREATE TABLE blocks (
        batch_id    text NOT NULL REFERENCES batches,
        start_unit  bigint NOT NULL,
        end_unit    bigint NOT NULL,
        account_id  text REFERENCES accounts,
        state       text NOT NULL CHECK (state IN ('available', 'held', 'retired', 'cancelled')),
        PRIMARY KEY (batch_id, start_unit),
        CHECK (start_unit <= end_unit)
    )
    """,
    "CREATE INDEX blocks_account ON blocks (account_id, state)",
]


def upgrade() -> None:
    for statement in schema.CREATE + PROJECTIONS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("blocks", "project_units", "batches", "accounts"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP SEQUENCE account_numbers")
    for statement in schema.DROP:
        op.execute(statement)
