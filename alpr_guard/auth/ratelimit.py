"""The flood limit's counters in the database, so that every worker process (gunicorn runs
several on PostgreSQL) and every server behind a load balancer counts the same requests.

A storage backend for the ``limits`` library (what Flask-Limiter counts with), fixed windows
only: one upsert per counted request. Only the sign-in routes are counted, so the writes are
few; the API's hot paths (ingest, search) never touch this table. Windows use the wall clock
(``time.time()``), as Flask-Limiter does for its Retry-After header.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, cast

from limits.storage import Storage
from sqlalchemy import Engine, Table, case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from alpr_guard.db import READ_ONLY
from alpr_guard.models import RateCounter

_TABLE = cast("Table", RateCounter.__table__)

SCHEME = "alprguard+db"
PURGE_EVERY = 200  # expired counters are removed every this many increments


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class DatabaseStorage(Storage):
    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - the limits library reads a list here

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        super().__init__(uri, wrap_exceptions)
        engine = options.get("engine")
        if not isinstance(engine, Engine):
            raise ValueError("DatabaseStorage needs engine=<sqlalchemy Engine>")
        self._engine = engine
        self._calls = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        table = _TABLE
        fresh = now + expiry
        expired = table.c.expires_at <= _at(now)
        stmt = (
            insert(table)
            .values(key=key, expires_at=_at(fresh), count=amount)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "count": case((expired, amount), else_=table.c.count + amount),
                    "expires_at": case((expired, _at(fresh)), else_=table.c.expires_at),
                },
            )
            .returning(table.c.count)
        )
        with self._engine.begin() as conn:
            count = conn.execute(stmt).scalar_one()
            self._calls += 1
            if self._calls % PURGE_EVERY == 0:
                conn.execute(delete(table).where(expired))
        return int(count)

    def _row(self, key: str) -> tuple[int, float] | None:
        table = _TABLE
        with self._engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            row = conn.execute(
                select(table.c.count, table.c.expires_at).where(table.c.key == key)
            ).first()
        if row is None:
            return None
        count, expires_at = row[0], row[1]
        expires = float(expires_at.timestamp())
        return (int(count), expires) if expires > time.time() else None

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        try:
            with self._engine.connect().execution_options(**{READ_ONLY: True}) as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine.begin() as conn:
            return int(conn.execute(delete(_TABLE)).rowcount or 0)

    def clear(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(_TABLE).where(_TABLE.c.key == key))
