"""retention: legal holds, purge runs, leases; held reads have no expiry

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Retention: a read under a legal hold takes the class ``held`` and loses its expiry
until the hold is released; the hold and the reads it names are recorded; each purge run keeps
its progress in ``purge_runs`` so that a killed run is finished by the next; ``leases`` makes
sure two processes never purge at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plate_reads", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plate_reads_retention_class"), type_="check")
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=True)
        batch_op.create_check_constraint(
            "retention_class", "retention_class IN ('unmatched', 'hit', 'held')"
        )
        batch_op.create_check_constraint(
            "held_has_no_expiry", "(retention_class = 'held') = (expires_at IS NULL)"
        )

    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agency_ori", sa.String(length=9), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("search_id", sa.Uuid(), nullable=True),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=80), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'released')", name=op.f("ck_legal_holds_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index(
        "ix_legal_holds_status_review_by", "legal_holds", ["status", "review_by"], unique=False
    )
    op.create_table(
        "hold_reads",
        sa.Column("hold_id", sa.Uuid(), nullable=False),
        sa.Column("read_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["legal_holds.id"], name=op.f("fk_hold_reads_hold_id_legal_holds")
        ),
        sa.PrimaryKeyConstraint("hold_id", "read_id", name=op.f("pk_hold_reads")),
    )
    op.create_index("ix_hold_reads_read_id", "hold_reads", ["read_id"], unique=False)
    op.create_table(
        "purge_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("deleted_unmatched", sa.BigInteger(), nullable=False),
        sa.Column("deleted_hit", sa.BigInteger(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("partitions_dropped", sa.Integer(), nullable=False),
        sa.Column("max_batch_ms", sa.Float(), nullable=False),
        sa.Column("delete_ms", sa.Float(), nullable=False),
        sa.Column("keys_destroyed", sa.Text(), nullable=True),
        sa.Column("records_expired", sa.Text(), nullable=True),
        sa.Column("resumed", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audit_seq", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('deleting', 'shredding', 'completed')", name=op.f("ck_purge_runs_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_runs")),
    )
    op.create_index("ix_purge_runs_status", "purge_runs", ["status"], unique=False)
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_purge_runs_status", table_name="purge_runs")
    op.drop_table("purge_runs")
    op.drop_index("ix_hold_reads_read_id", table_name="hold_reads")
    op.drop_table("hold_reads")
    op.drop_index("ix_legal_holds_status_review_by", table_name="legal_holds")
    op.drop_table("legal_holds")
    # Held reads cannot go back to a schema without holds: they return to their class first.
    op.execute(
        "UPDATE plate_reads SET retention_class = CASE WHEN hit THEN 'hit' ELSE 'unmatched' END, "
        "expires_at = observed_at WHERE retention_class = 'held'"
    )
    with op.batch_alter_table("plate_reads", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plate_reads_held_has_no_expiry"), type_="check")
        batch_op.drop_constraint(op.f("ck_plate_reads_retention_class"), type_="check")
        batch_op.alter_column(
            "expires_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_check_constraint(
            "retention_class", "retention_class IN ('unmatched', 'hit')"
        )
