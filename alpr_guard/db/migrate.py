"""The migrations are the schema (house rule 6): upgrade, downgrade and drift checks.

Tests, ``make run`` and the container all build the database with ``upgrade``; nothing calls
``create_all``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Percent signs in URLs (encoded passwords) must survive ConfigParser interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    _sqlite_incremental_vacuum(url)
    command.upgrade(alembic_config(url), revision)


def _sqlite_incremental_vacuum(url: str) -> None:
    """SQLite: free pages go back to the file system after a purge only in incremental
    auto-vacuum mode, which must be chosen before the first table exists (or by one VACUUM).
    So a new database gets it from the start and an older one is converted once, here."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    conn = sqlite3.connect(parsed.database, isolation_level=None)
    try:
        if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("VACUUM")
    finally:
        conn.close()


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise if the models and the migrated database differ (alembic check)."""
    command.check(alembic_config(url))


def heads(url: str) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())
