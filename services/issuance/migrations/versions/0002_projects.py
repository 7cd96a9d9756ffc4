"""Issuance projections: projects, documents, parcels, notice comments, monitoring reports.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = [
    """
    CREATE TABLE project_counters (
        county  text PRIMARY KEY,
        last    integer NOT NULL
    )
    """,
    """
    CREATE TABLE projects (
        id                      text PRIMARY KEY,
        program                 text NOT NULL,
        county                  text NOT NULL,
        title                   text NOT NULL,
        title_en                text,
        description             text,
        developer               text NOT NULL,
        methodology             text NOT NULL,
        methodology_version     integer NOT NULL,
        methodology_parameters  jsonb NOT NULL,
        crediting_start         date NOT NULL,
        crediting_end           date NOT NULL,
        registry_account        text NOT NULL,
        status                  text NOT NULL,
        notice_ends_at          timestamptz,
        created_at              timestamptz NOT NULL,
        updated_at              timestamptz NOT NULL
    )
    """,
    "CREATE INDEX projects_by_developer ON projects (developer, id)",
    "CREATE INDEX projects_by_status ON projects (status, id)",
    """
    CREATE TABLE documents (
        id          text PRIMARY KEY,
        project_id  text NOT NULL REFERENCES projects,
        report_id   text,
        kind        text NOT NULL,
        filename    text NOT NULL,
        media_type  text NOT NULL,
        size        integer NOT NULL,
        sha256      text NOT NULL,
        uploaded_by text NOT NULL,
        content     bytea NOT NULL,
        created_at  timestamptz NOT NULL
    )
    """,
    "CREATE INDEX documents_by_project ON documents (project_id, id)",
    """
    CREATE TABLE parcels (
        project_id        text NOT NULL REFERENCES projects,
        parcel_id         text NOT NULL,
        name              text,
        geometry          jsonb NOT NULL,
        declared_area_ha  numeric NOT NULL,
        computed_area_ha  numeric NOT NULL,
        -- Bounding box (WGS 84 degrees): the SQL pre-filter of the overlap check.
        min_lon double precision NOT NULL,
        min_lat double precision NOT NULL,
        max_lon double precision NOT NULL,
        max_lat double precision NOT NULL,
        PRIMARY KEY (project_id, parcel_id)
    )
    """,
    "CREATE INDEX parcels_bbox ON parcels (min_lon, max_lon, min_lat, max_lat)",
    """
    CREATE TABLE notice_comments (
        id          text PRIMARY KEY,
        project_id  text NOT NULL REFERENCES projects,
        author      text,
        text        text NOT NULL,
        created_at  timestamptz NOT NULL
    )
    """,
    "CREATE INDEX notice_comments_by_project ON notice_comments (project_id, id)",
    "CREATE SEQUENCE report_numbers",
    "CREATE SEQUENCE document_numbers",
    "CREATE SEQUENCE comment_numbers",
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """
    CREATE TABLE monitoring_reports (
        id                   text PRIMARY KEY,
        project_id           text NOT NULL REFERENCES projects,
        period               daterange NOT NULL,
        vintage              integer NOT NULL,
        status               text NOT NULL,
        methodology          text NOT NULL,
        methodology_version  integer NOT NULL,
        parameters           jsonb NOT NULL,
        result               jsonb NOT NULL,
        net_tco2e            numeric NOT NULL,
        buffer_tco2e         numeric NOT NULL,
        verified_tco2e       numeric,
        verifier             text,
        statement_document   text,
        approval_id          text,
        issued_quantity      bigint,
        buffer_quantity      bigint,
        submitted_at         timestamptz NOT NULL,
        updated_at           timestamptz NOT NULL,
        -- Periods of one project never overlap (docs/domain.md), enforced by the database too.
        EXCLUDE USING gist (project_id WITH =, period WITH &&)
    )
    """,
]


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in ("monitoring_reports", "notice_comments", "parcels", "documents", "projects"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TABLE project_counters")
    for sequence in ("report_numbers", "document_numbers", "comment_numbers"):
        op.execute(f"DROP SEQUENCE {sequence}")
