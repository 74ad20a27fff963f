"""What keeps the server's memory near its idle size after a burst: the large SQLite page cache
only on the connection holding the write lock, a pool bounded by the server's threads, and the
allocator's free pages handed back once the server is idle."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from alpr_guard.db import (
    READ_ONLY,
    SQLITE_CACHE_KIB,
    SQLITE_IDLE_CACHE_KIB,
    make_engine,
    make_session_factory,
)
from alpr_guard.db import migrate as schema
from alpr_guard.memory import TrimWhenIdle, limit_arenas, trim


def cache_kib(session: Any) -> int:
    return -int(session.execute(text("PRAGMA cache_size")).scalar_one())


def test_only_the_sqlite_writer_has_the_large_page_cache(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    schema.upgrade(url)
    engine = make_engine(url, pool_size=1, max_connections=1)
    sessions = make_session_factory(engine)
    try:
        with sessions() as reader:
            reader.connection(execution_options={READ_ONLY: True})
            assert cache_kib(reader) == SQLITE_IDLE_CACHE_KIB
        with sessions() as writer:  # BEGIN IMMEDIATE: holds the write lock
            assert cache_kib(writer) == SQLITE_CACHE_KIB
            writer.commit()
        with sessions() as reader:  # the same pooled connection, its cache given back
            reader.connection(execution_options={READ_ONLY: True})
            assert cache_kib(reader) == SQLITE_IDLE_CACHE_KIB
    finally:
        engine.dispose()


def test_the_pool_keeps_few_connections_and_opens_at_most_the_bound(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}", pool_size=2, max_connections=16)
    try:
        assert engine.pool.size() == 2
        assert engine.pool._max_overflow == 14
    finally:
        engine.dispose()
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}", pool_size=5)
    try:
        assert engine.pool._max_overflow == 5  # the old default
    finally:
        engine.dispose()


def test_trim_when_idle_trims_after_the_last_request_only() -> None:
    assert limit_arenas(8) and trim()  # glibc on every machine this project runs on
    release = threading.Event()
    calls: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("slow"):
            release.wait(5)
        calls.append("x")
        return [b"ok"]

    wrapped = TrimWhenIdle(app, delay_s=0.05)
    slow = threading.Thread(target=wrapped, args=({"slow": True}, None))
    slow.start()
    wrapped({}, None)  # finishes while the slow one is still in flight: no trim yet
    time.sleep(0.2)
    assert wrapped.trims == 0
    release.set()
    slow.join()
    deadline = time.monotonic() + 5
    while wrapped.trims == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert wrapped.trims == 1 and calls == ["x", "x"]
