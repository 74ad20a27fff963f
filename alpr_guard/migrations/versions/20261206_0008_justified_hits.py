"""justified hits, and findings that name a camera

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

A read marked as a hot-list hit is kept a year instead of 60 days, so the camera's word alone
must not decide it: a hit carries the hot list and entry it matched, sealed under the audit key
and bound to its read (``plate_reads.hit_ref``). The access review flags a camera whose hit
rate is an outlier, a finding about a camera rather than a search: ``review_findings`` gets
``camera_id`` and its ``search_id`` may be NULL (exactly one of the two is set).

Reads stored before this revision keep their class; their ``hit_ref`` is NULL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: on PostgreSQL the partitioned parent passes it to every partition,
    # and SQLite adds a nullable column without rewriting the table.
    op.add_column("plate_reads", sa.Column("hit_ref", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("review_findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("camera_id", sa.String(length=64), nullable=True))
        batch_op.alter_column("search_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_check_constraint(
            "one_subject", "(search_id IS NULL) <> (camera_id IS NULL)"
        )
        batch_op.create_index(
            "ix_review_findings_camera_id_rule", ["camera_id", "rule"], unique=False
        )


def downgrade() -> None:
    # Findings about cameras have no place in the older schema.
    op.execute("DELETE FROM review_findings WHERE search_id IS NULL")
    with op.batch_alter_table("review_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_review_findings_camera_id_rule")
        batch_op.drop_constraint(op.f("ck_review_findings_one_subject"), type_="check")
        batch_op.alter_column("search_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("camera_id")
    op.drop_column("plate_reads", "hit_ref")
