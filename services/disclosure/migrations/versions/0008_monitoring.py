"""Monitoring reports with their verification and issuance approval: a project's MRV history.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE public_monitoring_reports (
            report_id            text PRIMARY KEY,
            project_id           text NOT NULL,
            period_start         date NOT NULL,
            period_end           date NOT NULL,
            vintage              integer NOT NULL,
            methodology          text NOT NULL,
            methodology_version  integer NOT NULL,
            net_tco2e            text NOT NULL,
            submitted_at         timestamptz NOT NULL,
            verifier             text,
            verified_tco2e       text,
            statement_document   text,
            verified_at          timestamptz,
            issued_quantity      bigint,
            buffer_quantity      bigint,
            approved_at          timestamptz,
            source_sequence      bigint NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX public_monitoring_by_project ON public_monitoring_reports"
        " (project_id, period_start)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE public_monitoring_reports")
