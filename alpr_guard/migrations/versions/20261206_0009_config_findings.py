"""findings about the configuration (policy drift)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

The scheduler's daily drift check compares the policy a process enforces with the config file
on disk, the last policy recorded and the last one an auditor approved. A difference is a
finding for an auditor, like a search's or a camera's, but its subject is the configuration:
``review_findings`` gets ``config_ref`` (the policy hashes the drift is about), one finding per
(config_ref, rule), and exactly one of search_id, camera_id and config_ref is set.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_OF_THREE = (
    "(CASE WHEN search_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN camera_id IS NULL THEN 0 ELSE 1 "
    "END) + (CASE WHEN config_ref IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    with op.batch_alter_table("review_findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("config_ref", sa.String(length=200), nullable=True))
        batch_op.drop_constraint(op.f("ck_review_findings_one_subject"), type_="check")
        batch_op.create_check_constraint("one_subject", ONE_OF_THREE)
        batch_op.create_unique_constraint(
            op.f("uq_review_findings_config_ref_rule"), ["config_ref", "rule"]
        )


def downgrade() -> None:
    # Findings about the configuration have no place in the older schema.
    op.execute("DELETE FROM review_findings WHERE config_ref IS NOT NULL")
    with op.batch_alter_table("review_findings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_review_findings_config_ref_rule"), type_="unique")
        batch_op.drop_constraint(op.f("ck_review_findings_one_subject"), type_="check")
        batch_op.create_check_constraint(
            "one_subject", "(search_id IS NULL) <> (camera_id IS NULL)"
        )
        batch_op.drop_column("config_ref")
