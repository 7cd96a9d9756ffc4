"""Projects from `tanhui.issuance`: the project, its parcels, documents, lifecycle history and
public-notice comments. Only projects under public notice or registered are served.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"

TABLES = [
    """
    CREATE TABLE public_projects (
        id                   text PRIMARY KEY,
        program              text NOT NULL,
        county               text NOT NULL,
        title                text NOT NULL,
        title_en             text,
        description          text,
        developer            text NOT NULL,
        methodology          text NOT NULL,
        methodology_version  integer NOT NULL,
        crediting_start      text NOT NULL,
        crediting_end        text NOT NULL,
        status               text NOT NULL,
        notice_ends_at       timestamptz,
        source_sequence      bigint NOT NULL UNIQUE
    )
    """,
    "CREATE INDEX public_projects_status ON public_projects (status, source_sequence)",
    """
    CREATE TABLE public_project_history (
        project_id   text NOT NULL,
        sequence     bigint NOT NULL,
        action       text NOT NULL,
        from_status  text NOT NULL,
        to_status    text NOT NULL,
        comment      text,
        time         timestamptz NOT NULL,
        PRIMARY KEY (project_id, sequence)
    )
    """,
    """
    CREATE TABLE public_parcels (
        project_id  text NOT NULL,
        parcel_id   text NOT NULL,
        name        text,
        geometry    json NOT NULL,
        area_ha     text NOT NULL,
        PRIMARY KEY (project_id, parcel_id)
    )
    """,
    """
    CREATE TABLE public_documents (
        id          text PRIMARY KEY,
        project_id  text NOT NULL,
        kind        text NOT NULL,
        filename    text NOT NULL,
        media_type  text NOT NULL,
        size        bigint NOT NULL,
        sha256      text NOT NULL,
        time        timestamptz NOT NULL
    )
    """,
    "CREATE INDEX public_documents_project ON public_documents (project_id)",
    """
    CREATE TABLE public_comments (
        id          text PRIMARY KEY,
        project_id  text NOT NULL,
        author      text,
        text        text NOT NULL,
        time        timestamptz NOT NULL
    )
    """,
    "CREATE INDEX public_comments_project ON public_comments (project_id, time)",
]


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "public_comments",
        "public_documents",
        "public_parcels",
        "public_project_history",
        "public_projects",
    ):
        op.execute(f"DROP TABLE {table}")
