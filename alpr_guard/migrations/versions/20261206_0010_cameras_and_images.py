"""per-camera credentials and encrypted read images

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

``cameras``: one row per camera or agent credential. It names the camera ids it may post for
and the agency that operates them; the secret itself is never stored, only its SHA-256 (a
bearer token is 256 random bits) and, for credentials that sign their bodies with HMAC, the
secret sealed under the instance's audit sealing key. Two live secrets (``credential_hash``
and ``previous_hash``) let an agent be re-configured without a gap.

``read_images``: a read's plate crop and vehicle image, AES-GCM under the read's own data key
with associated data naming the read, the key and the kind of image. No foreign key to
``plate_reads`` (partitioned on PostgreSQL); the purge deletes the images of reads it deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("camera_ids", sa.Text(), nullable=False),
        sa.Column("auth", sa.String(length=8), nullable=False),
        sa.Column("credential_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=True),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("previous_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("auth IN ('token', 'hmac')", name=op.f("ck_cameras_auth")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_cameras_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
        sa.UniqueConstraint("name", name=op.f("uq_cameras_name")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_cameras_credential_hash")),
        sa.UniqueConstraint("previous_hash", name=op.f("uq_cameras_previous_hash")),
    )
    op.create_table(
        "read_images",
        sa.Column("read_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("image_ct", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("kind IN ('plate', 'vehicle')", name=op.f("ck_read_images_kind")),
        sa.PrimaryKeyConstraint("read_id", "kind", name=op.f("pk_read_images")),
    )
    op.create_index("ix_read_images_key_id", "read_images", ["key_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_read_images_key_id", table_name="read_images")
    op.drop_table("read_images")
    op.drop_table("cameras")
