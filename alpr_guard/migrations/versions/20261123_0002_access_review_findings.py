"""access review findings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Findings of the access review (issue: refuse prohibited searches up front, flag misuse
after the fact): one row per (search, rule), resolved by an auditor with a verdict and a note.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("search_id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("matched", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "severity IN ('high', 'medium', 'low')", name=op.f("ck_review_findings_severity")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'resolved')", name=op.f("ck_review_findings_status")
        ),
        sa.CheckConstraint(
            "verdict IS NULL OR verdict IN ('justified', 'misuse', 'needs_follow_up')",
            name=op.f("ck_review_findings_verdict"),
        ),
        sa.ForeignKeyConstraint(
            ["search_id"], ["searches.id"], name=op.f("fk_review_findings_search_id_searches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_findings")),
        sa.UniqueConstraint("search_id", "rule", name=op.f("uq_review_findings_search_id_rule")),
    )
    op.create_index(
        "ix_review_findings_created_at", "review_findings", ["created_at"], unique=False
    )
    op.create_index(
        "ix_review_findings_status_severity",
        "review_findings",
        ["status", "severity"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_review_findings_status_severity", table_name="review_findings")
    op.drop_index("ix_review_findings_created_at", table_name="review_findings")

    op.drop_table("review_findings")
