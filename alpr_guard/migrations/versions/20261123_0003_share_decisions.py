"""share decisions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Share decisions (in-state-only sharing, Civil Code 1798.90.55(b)): every transfer of reads
to another agency, allowed or refused, with its reason code and the signed bundle's digest.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("agency_ori", sa.String(length=9), nullable=False),
        sa.Column("recipient_ori", sa.String(length=9), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("search_id", sa.Uuid(), nullable=True),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=True),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("outcome IN ('allowed', 'refused')", name=op.f("ck_shares_outcome")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_shares_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
    )
    op.create_index("ix_shares_created_at", "shares", ["created_at"], unique=False)
    op.create_index("ix_shares_recipient_ori", "shares", ["recipient_ori"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shares_recipient_ori", table_name="shares")
    op.drop_index("ix_shares_created_at", table_name="shares")

    op.drop_table("shares")
