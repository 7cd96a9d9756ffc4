"""Event store tables and the public issuance read model.

Revision ID: 0001
"""

from alembic import op

from libs.events import schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

READ_MODELS = [
    """
    CREATE TABLE public_issuances (
        batch_id         text PRIMARY KEY,
        program          text NOT NULL,
        scope            text NOT NULL,
        project          text NOT NULL,
        vintage          integer NOT NULL,
        quantity         bigint NOT NULL,
        buffer_quantity  bigint NOT NULL,
        start_unit       bigint NOT NULL,
        end_unit         bigint NOT NULL,
        issued_at        timestamptz NOT NULL,
        source_sequence  bigint NOT NULL UNIQUE,
        blocks           json NOT NULL
    )
    """,
]


def upgrade() -> None:
    for statement in schema.CREATE + READ_MODELS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE public_issuances")
    for statement in schema.DROP:
        op.execute(statement)
