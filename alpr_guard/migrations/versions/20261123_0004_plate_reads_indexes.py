"""plate_reads indexes for ingest and search at scale

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Indexes for ingest and search at scale. The replay lookup of a batch is
agency_id = ? AND client_read_id IN (...): with camera_id second in the unique constraint it
could use only the agency_id prefix and scanned all of an agency's reads on every batch.
Search is key_id = ? AND plate_index = ? per day: one composite index makes it exact and
replaces two single-column ones (one fewer B-tree per insert).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plate_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plate_reads_key_id"))
        batch_op.drop_index(batch_op.f("ix_plate_reads_plate_index"))
        batch_op.drop_constraint(
            batch_op.f("uq_plate_reads_agency_id_camera_id_client_read_id"), type_="unique"
        )
        batch_op.create_index(
            "ix_plate_reads_key_id_plate_index", ["key_id", "plate_index"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_plate_reads_agency_id_client_read_id_camera_id"),
            ["agency_id", "client_read_id", "camera_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("plate_reads", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_plate_reads_agency_id_client_read_id_camera_id"), type_="unique"
        )
        batch_op.drop_index("ix_plate_reads_key_id_plate_index")
        batch_op.create_unique_constraint(
            batch_op.f("uq_plate_reads_agency_id_camera_id_client_read_id"),
            ["agency_id", "camera_id", "client_read_id"],
        )
        batch_op.create_index(
            batch_op.f("ix_plate_reads_plate_index"), ["plate_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plate_reads_key_id"), ["key_id"], unique=False)
