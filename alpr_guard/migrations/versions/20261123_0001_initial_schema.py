"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23

The foundation: agency registry, users and hashed tokens, data-key metadata (the keys
themselves live in the key store, never here), encrypted plate reads, access records
(searches) and the hash-chained audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ori", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("vetted", sa.Boolean(), nullable=False),
        sa.Column("attestation_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('state', 'local', 'tribal', 'federal', 'private')",
            name=op.f("ck_agencies_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("ori", name=op.f("uq_agencies_ori")),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_agency", sa.String(length=9), nullable=True),
        sa.Column("subject", sa.String(length=80), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_kind_occurred_at", "audit_events", ["kind", "occurred_at"], unique=False
    )

    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("epoch_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("epoch_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_data_keys")),
    )
    op.create_table(
        "plate_reads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plate_ct", sa.LargeBinary(), nullable=False),
        sa.Column("plate_index", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=80), nullable=False),
        sa.Column("plate_state", sa.String(length=3), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("client_read_id", sa.String(length=128), nullable=True),
        sa.Column("retention_class", sa.String(length=16), nullable=False),
        sa.Column("hit", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "retention_class IN ('unmatched', 'hit')", name=op.f("ck_plate_reads_retention_class")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_plate_reads_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["data_keys.key_id"], name=op.f("fk_plate_reads_key_id_data_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate_reads")),
        sa.UniqueConstraint(
            "agency_id",
            "camera_id",
            "client_read_id",
            name=op.f("uq_plate_reads_agency_id_camera_id_client_read_id"),
        ),
    )
    op.create_index("ix_plate_reads_expires_at", "plate_reads", ["expires_at"], unique=False)
    op.create_index("ix_plate_reads_key_id", "plate_reads", ["key_id"], unique=False)
    op.create_index("ix_plate_reads_plate_index", "plate_reads", ["plate_index"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('ingest', 'officer', 'supervisor', 'auditor', 'admin')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_users_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_agency_id"), "users", ["agency_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)

    op.create_table(
        "searches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("agency_ori", sa.String(length=9), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("on_behalf_of", sa.String(length=9), nullable=True),
        sa.Column("window_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("terms_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("terms_token", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("matched", sa.Text(), nullable=True),
        sa.Column("result_count", sa.Integer(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("outcome IN ('allowed', 'refused')", name=op.f("ck_searches_outcome")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_searches_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_searches")),
    )
    op.create_index("ix_searches_created_at", "searches", ["created_at"], unique=False)
    op.create_index(op.f("ix_searches_terms_token"), "searches", ["terms_token"], unique=False)
    op.create_index(
        "ix_searches_user_id_created_at", "searches", ["user_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_searches_user_id_created_at", table_name="searches")
    op.drop_index(op.f("ix_searches_terms_token"), table_name="searches")
    op.drop_index("ix_searches_created_at", table_name="searches")

    op.drop_table("searches")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")

    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_users_agency_id"), table_name="users")

    op.drop_table("users")
    op.drop_index("ix_plate_reads_plate_index", table_name="plate_reads")
    op.drop_index("ix_plate_reads_key_id", table_name="plate_reads")
    op.drop_index("ix_plate_reads_expires_at", table_name="plate_reads")

    op.drop_table("plate_reads")
    op.drop_table("data_keys")
    op.drop_index("ix_audit_events_kind_occurred_at", table_name="audit_events")

    op.drop_table("audit_events")
    op.drop_table("agencies")
