"""Alembic environment: the URL comes from alpr_guard.schema (or alembic.ini's -x url=...)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from alpr_guard import models  # noqa: F401  (registers the tables on Base.metadata)
from alpr_guard.db import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    x_url = context.get_x_argument(as_dictionary=True).get("url")
    url = x_url or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: use alpr-guard db upgrade, or alembic -x url=...")
    return url


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """PostgreSQL partitions of plate_reads (created and dropped at run time by the purge) are
    not part of the model; only the partitioned parent is."""
    return not (type_ == "table" and name is not None and name.startswith("plate_reads_"))


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
