"""access records: sealed free text, records bound to the audit chain

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

Free text (share justifications and case numbers, hold case numbers, reasons and release
reasons, finding resolution notes) is stored sealed under the audit key, next to a display copy
with plates masked. Holds and findings carry the sequence number of the latest audit event that
states their content, as searches and shares already do; ``audit verify`` walks each table in
that order, hence the indexes. Rows written before this revision have no sealed text (their
stored text is shown) and, for holds and findings, no sequence number.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_sealed", sa.LargeBinary(), nullable=True))
        batch_op.create_index("ix_shares_audit_seq", ["audit_seq"], unique=False)
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("release_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("audit_seq", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_legal_holds_audit_seq", ["audit_seq"], unique=False)
    with op.batch_alter_table("review_findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("audit_seq", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_review_findings_audit_seq", ["audit_seq"], unique=False)
    with op.batch_alter_table("searches", schema=None) as batch_op:
        batch_op.create_index("ix_searches_audit_seq", ["audit_seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("searches", schema=None) as batch_op:
        batch_op.drop_index("ix_searches_audit_seq")
    with op.batch_alter_table("review_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_review_findings_audit_seq")
        batch_op.drop_column("audit_seq")
        batch_op.drop_column("note_sealed")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_holds_audit_seq")
        batch_op.drop_column("audit_seq")
        batch_op.drop_column("release_sealed")
        batch_op.drop_column("text_sealed")
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_index("ix_shares_audit_seq")
        batch_op.drop_column("text_sealed")
