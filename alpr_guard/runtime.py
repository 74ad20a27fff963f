"""What a process needs to serve requests or run jobs, built once from the settings.

``create_app``, the CLI and the scheduler each build one Runtime; nothing is created at import
time (house rule 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from alpr_guard.audit import AuditLog
from alpr_guard.clock import Clock, SystemClock
from alpr_guard.crypto import KeyRing
from alpr_guard.db import make_engine, make_session_factory
from alpr_guard.keystore import FileKeyStore, KeyStore, read_master_key
from alpr_guard.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    keyring: KeyRing
    clock: Clock
    audit: AuditLog
    engine: Engine = field(repr=False)
    sessions: sessionmaker[Session] = field(repr=False)

    def dispose(self) -> None:
        self.engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    keystore: KeyStore | None = None,
    pool: tuple[int, int] | None = None,
) -> Runtime:
    """Load the master key (fails closed with a ConfigError naming the file) and wire things."""
    master = read_master_key(
        settings.keys.master_key_file, settings.keys.master_key_env, str(settings.source)
    )
    if keystore is None:
        file_store = FileKeyStore(settings.keys.keystore_dir)
        file_store.ensure()
        keystore = file_store
    keyring = KeyRing(master, keystore)
    clock = clock or SystemClock()
    # pool: (connections kept when idle, most open at once); default database.pool_size, twice it
    idle, most = pool if pool is not None else (settings.database.pool_size, None)
    engine = make_engine(
        settings.database.url,
        audit_timeout_ms=settings.database.audit_timeout_ms,
        pool_size=idle,
        max_connections=most,
    )
    return Runtime(
        settings=settings,
        keyring=keyring,
        clock=clock,
        audit=AuditLog(keyring, clock, settings.database.audit_timeout_ms),
        engine=engine,
        sessions=make_session_factory(engine),
    )
