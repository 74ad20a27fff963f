"""plate_reads: partitioned by class and time on PostgreSQL; one replay key on both databases

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

PostgreSQL, for scale: ``plate_reads`` becomes a partitioned table so that the purge
drops a whole expired partition instead of deleting its rows one by one (a DROP writes almost
no WAL). Level one is LIST (retention_class): every read of one class shares one window.
Level two is RANGE (observed_at): one partition per UTC day for ``unmatched`` (a day expires as
a whole, and matches the day key that is shredded with it), one per UTC month for ``hit``
(matching the hit-period keys), and ``held`` unpartitioned (held reads have no expiry). Each
class has a DEFAULT partition for reads whose day or month has no partition (yet, or any more);
the purge's row-level sweep handles those. Partitions are created ahead of time by
``alpr_guard.services.partitions`` (called by the purge and by ``alpr-guard db upgrade``).

A partitioned table's unique constraints must contain the partition key, so the replay key
becomes (agency_id, client_read_id, camera_id, retention_class, observed_at) on both
databases; a replayed read carries the same time and class, and ingest resolves replays by
(agency, client read id, camera) before inserting, so idempotency is unchanged. The primary
key on PostgreSQL is (id, retention_class, observed_at); ids stay unique (UUIDv7).

SQLite keeps a plain table (batched deletes and incremental vacuum do the same job there).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UQ = "uq_plate_reads_agency_id_client_read_id_camera_id"
NEW_UQ = "uq_plate_reads_replay"

COLUMNS = """
    id UUID NOT NULL,
    agency_id INTEGER NOT NULL,
    camera_id VARCHAR(64) NOT NULL,
    observed_at TIMESTAMP WITH TIME ZONE NOT NULL,
    plate_ct BYTEA NOT NULL,
    plate_index BIGINT NOT NULL,
    key_id VARCHAR(80) NOT NULL,
    plate_state VARCHAR(3),
    latitude FLOAT,
    longitude FLOAT,
    confidence FLOAT,
    client_read_id VARCHAR(128),
    retention_class VARCHAR(16) NOT NULL,
    hit BOOLEAN NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE,
    ingested_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT ck_plate_reads_retention_class
        CHECK (retention_class IN ('unmatched', 'hit', 'held')),
    CONSTRAINT ck_plate_reads_held_has_no_expiry
        CHECK ((retention_class = 'held') = (expires_at IS NULL)),
    CONSTRAINT fk_plate_reads_agency_id_agencies
        FOREIGN KEY (agency_id) REFERENCES agencies (id),
    CONSTRAINT fk_plate_reads_key_id_data_keys
        FOREIGN KEY (key_id) REFERENCES data_keys (key_id)
"""

COLUMN_NAMES = (
    "id, agency_id, camera_id, observed_at, plate_ct, plate_index, key_id, plate_state, "
    "latitude, longitude, confidence, client_read_id, retention_class, hit, expires_at, "
    "ingested_at"
)


def _copy_from(table: str) -> str:
    # Constants only: no value from outside reaches this statement.
    return f"INSERT INTO plate_reads ({COLUMN_NAMES}) SELECT {COLUMN_NAMES} FROM {table}"  # noqa: S608


def _rename_old_indexes(suffix_from: str, suffix_to: str, uq: str) -> None:
    for name in (
        "pk_plate_reads",
        uq,
        "ix_plate_reads_key_id_plate_index",
        "ix_plate_reads_expires_at",
    ):
        op.execute(f"ALTER INDEX {name}{suffix_from} RENAME TO {name}{suffix_to}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("plate_reads", schema=None) as batch_op:
            batch_op.drop_constraint(OLD_UQ, type_="unique")
            batch_op.create_unique_constraint(
                NEW_UQ,
                ["agency_id", "client_read_id", "camera_id", "retention_class", "observed_at"],
            )
        return
    op.execute("ALTER TABLE plate_reads RENAME TO plate_reads_unpartitioned")
    _rename_old_indexes("", "_old", OLD_UQ)
    op.execute(
        f"""CREATE TABLE plate_reads ({COLUMNS},
        CONSTRAINT pk_plate_reads PRIMARY KEY (id, retention_class, observed_at),
        CONSTRAINT {NEW_UQ} UNIQUE
            (agency_id, client_read_id, camera_id, retention_class, observed_at)
        ) PARTITION BY LIST (retention_class)"""
    )
    op.execute(
        "CREATE INDEX ix_plate_reads_key_id_plate_index ON plate_reads (key_id, plate_index)"
    )
    op.execute("CREATE INDEX ix_plate_reads_expires_at ON plate_reads (expires_at)")
    for cls in ("unmatched", "hit"):
        op.execute(
            f"CREATE TABLE plate_reads_{cls} PARTITION OF plate_reads "
            f"FOR VALUES IN ('{cls}') PARTITION BY RANGE (observed_at)"
        )
        op.execute(f"CREATE TABLE plate_reads_{cls}_default PARTITION OF plate_reads_{cls} DEFAULT")
    op.execute("CREATE TABLE plate_reads_held PARTITION OF plate_reads FOR VALUES IN ('held')")
    # Existing reads land in the DEFAULT partitions; the purge's row sweep expires them.
    op.execute(_copy_from("plate_reads_unpartitioned"))
    op.execute("DROP TABLE plate_reads_unpartitioned")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("plate_reads", schema=None) as batch_op:
            batch_op.drop_constraint(NEW_UQ, type_="unique")
            batch_op.create_unique_constraint(OLD_UQ, ["agency_id", "client_read_id", "camera_id"])
        return
    op.execute("ALTER TABLE plate_reads RENAME TO plate_reads_partitioned")
    _rename_old_indexes("", "_old", NEW_UQ)
    op.execute(
        f"""CREATE TABLE plate_reads ({COLUMNS},
        CONSTRAINT pk_plate_reads PRIMARY KEY (id),
        CONSTRAINT {OLD_UQ} UNIQUE (agency_id, client_read_id, camera_id)
        )"""
    )
    op.execute(
        "CREATE INDEX ix_plate_reads_key_id_plate_index ON plate_reads (key_id, plate_index)"
    )
    op.execute("CREATE INDEX ix_plate_reads_expires_at ON plate_reads (expires_at)")
    op.execute(_copy_from("plate_reads_partitioned"))
    op.execute("DROP TABLE plate_reads_partitioned CASCADE")
