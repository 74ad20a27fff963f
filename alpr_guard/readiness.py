"""Is this instance fit to serve? The checks behind ``GET /readyz``, ``serve``'s start-up and
``alpr-guard config check``.

Each check answers with one line written for the operator: what is wrong and what to do about
it. Lines carry no secret (no database password, no key material) and no plate; ``/readyz``
shows them to anyone who can reach the port, so they name checks and states, not credentials.

* ``database``: a connection and ``SELECT 1``.
* ``schema``: the database's Alembic revision is this code's head (an older schema makes every
  command fail on a missing table or column; the fix is ``alpr-guard db upgrade``).
* ``keystore``: the key store directory is readable and writable, and a wrapped key in it
  unwraps under the configured master key (a key store restored from another instance, or a
  wrong master key, shows here rather than at the first search).
* ``checkpoints``: the audit chain is pinned by a signed checkpoint recently enough: no event
  has waited unpinned longer than twice the checkpoint schedule's interval plus a grace period
  (the scheduler has stopped, or cannot write the checkpoint directory).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from alpr_guard.checkpoints import HEAD_NAME, read_signed
from alpr_guard.crypto import SIGNING_KEY_ID, KeyRing
from alpr_guard.db import READ_ONLY
from alpr_guard.errors import KeyUnavailable
from alpr_guard.keystore import FileKeyStore
from alpr_guard.models import AuditEvent
from alpr_guard.settings import Settings

# Time a scheduler may be late before readiness says so: a restart, a slow purge.
CHECKPOINT_GRACE = timedelta(minutes=5)
_CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)(?:-retention)?\.json$")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail}


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration this code carries."""
    from alembic.script import ScriptDirectory

    from alpr_guard.db.migrate import MIGRATIONS

    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    return ",".join(sorted(heads))


def database_label(url: str) -> str:
    """Where the database is, for a message: driver, host, port and name; never a password."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError:
        return "the configured database"
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"PostgreSQL at {host}{port}/{parsed.database or ''}"


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A connection that only reads: on SQLite it must not queue for the writer's lock (a
    readiness probe during a busy ingest would otherwise wait, and fail, behind it)."""
    with engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True})
        try:
            yield conn
        finally:
            conn.rollback()


def current_revision(engine: Engine) -> str | None:
    """The database's Alembic revision; None if it was never migrated (no version table)."""
    with _reading(engine) as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return ",".join(sorted(rows)) or None


def check_database(engine: Engine, url: str) -> Check:
    parsed = make_url(url)
    if (
        parsed.get_backend_name() == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and not Path(str(parsed.database)).exists()
    ):
        # Connecting would create an empty file: say what creates the database instead.
        return Check(
            "database",
            False,
            f"{database_label(url)} does not exist: run `alpr-guard db upgrade` to create it",
        )
    try:
        with _reading(engine) as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = type(orig if orig is not None else exc).__name__
        return Check(
            "database",
            False,
            f"{database_label(url)} is unreachable ({reason}): check that it is running and "
            "that database.url (or the variable database.url_env names) is right",
        )
    return Check("database", True, f"{database_label(url)} reachable")


def check_schema(engine: Engine) -> Check:
    head = head_revision()
    try:
        revision = current_revision(engine)
    except SQLAlchemyError:
        return Check("schema", False, "could not read the schema revision")
    if revision is None:
        return Check("schema", False, "the database has no schema yet: run `alpr-guard db upgrade`")
    if revision != head:
        return Check(
            "schema",
            False,
            f"the schema is at revision {revision}, this version needs {head}: "
            "run `alpr-guard db upgrade`",
        )
    return Check("schema", True, f"at head revision {head}")


def check_keystore(settings: Settings, keyring: KeyRing | None) -> Check:
    """Readable, writable, and (when a key is there to try) written under this master key."""
    directory = settings.keys.keystore_dir
    fix = f"keys.keystore_dir ({directory})"
    if not directory.exists():
        return Check(
            "keystore",
            False,
            f"{fix} does not exist: create it (mode 0700) on its own volume, or restore it "
            "from its backup",
        )
    if not directory.is_dir():
        return Check("keystore", False, f"{fix} is not a directory")
    if not os.access(directory, os.R_OK | os.X_OK | os.W_OK):
        return Check(
            "keystore",
            False,
            f"{fix} is not readable and writable by this user (uid {os.getuid()}): fix its owner",
        )
    store = FileKeyStore(directory)
    try:
        ids = store.key_ids()
    except OSError as exc:
        return Check("keystore", False, f"{fix} cannot be listed ({exc.strerror})")
    if keyring is not None and ids:
        probe = SIGNING_KEY_ID if SIGNING_KEY_ID in ids else ids[-1]
        try:
            keyring.check_key(probe)
        except KeyUnavailable:
            return Check(
                "keystore",
                False,
                f"{fix}: key {probe} does not unwrap under the configured master key: the key "
                "store belongs to another master key (wrong key, or a store from another "
                "instance or from before `alpr-guard keys rotate`)",
            )
        except OSError as exc:
            return Check("keystore", False, f"{fix}: key {probe} is not readable ({exc.strerror})")
    return Check("keystore", True, f"{len(ids)} keys readable")


def checkpoint_interval(schedule: str, now: datetime) -> timedelta:
    """The gap between the checkpoint schedule's next two runs (cron, UTC)."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(schedule, timezone="UTC")
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    if first is None or second is None:
        return timedelta(days=1)
    gap: timedelta = second - first
    return gap


def newest_checkpoint_seq(directory: Path) -> int | None:
    """The newest sequence number any checkpoint file in ``directory`` pins: the hourly files by
    name, the head file by its body (readiness reads it; ``audit verify`` checks signatures)."""
    newest: int | None = None
    for path in directory.glob("checkpoint-*.json"):
        match = _CHECKPOINT_NAME.match(path.name)
        if match and (newest is None or int(match.group(1)) > newest):
            newest = int(match.group(1))
    head = directory / HEAD_NAME
    if head.is_file():
        try:
            seq = int(read_signed(head)[1]["seq"])
        except (ValueError, KeyError, TypeError, OSError):
            seq = None
        if seq is not None and (newest is None or seq > newest):
            newest = seq
    return newest


def check_checkpoints(settings: Settings, engine: Engine | None, now: datetime) -> Check:
    """Every directory is usable, and no audit event has waited too long for a checkpoint."""
    audit = settings.audit
    if not audit.checkpoint_dirs:
        return Check(
            "checkpoints",
            False,
            "audit.checkpoint_dirs is not set: add it under [audit] (serve, the scheduler, the "
            "purge and `alpr-guard audit checkpoint` write signed checkpoints there)",
        )
    for index, directory in enumerate(audit.checkpoint_dirs):
        key = audit.dir_key(index)
        if directory.exists():
            if not directory.is_dir() or not os.access(directory, os.R_OK | os.W_OK | os.X_OK):
                return Check(
                    "checkpoints",
                    False,
                    f"{key} ({directory}) is not a directory this user "
                    f"(uid {os.getuid()}) can read and write",
                )
        else:
            parent = next((p for p in directory.parents if p.exists()), None)
            if parent is None or not os.access(parent, os.W_OK | os.X_OK):
                return Check(
                    "checkpoints",
                    False,
                    f"{key} ({directory}) does not exist and cannot be created here: "
                    "create it, or mount its volume",
                )
    directory = audit.checkpoint_dirs[0]
    if engine is None:
        return Check("checkpoints", True, f"{directory} usable")
    seqs = [newest_checkpoint_seq(d) for d in audit.checkpoint_dirs if d.is_dir()]
    pinned = max((seq for seq in seqs if seq is not None), default=None)
    # The head is pinned every checkpoint_interval_seconds (serve and the scheduler), the
    # permanent checkpoints on their schedule: whichever comes sooner bounds the wait.
    interval = min(
        checkpoint_interval(audit.checkpoint_schedule, now),
        timedelta(seconds=audit.checkpoint_interval_seconds),
    )
    limit = 2 * interval + CHECKPOINT_GRACE
    try:
        with _reading(engine) as conn:
            oldest_unpinned = conn.execute(
                select(AuditEvent.occurred_at)
                .where(AuditEvent.seq > (pinned or 0))
                .order_by(AuditEvent.seq)
                .limit(1)
            ).scalar()
    except SQLAlchemyError:
        return Check("checkpoints", False, "could not read the audit chain's head")
    if oldest_unpinned is not None:
        if oldest_unpinned.tzinfo is None:
            oldest_unpinned = oldest_unpinned.replace(tzinfo=UTC)
        age = now - oldest_unpinned
        if age > limit:
            return Check(
                "checkpoints",
                False,
                f"audit events have waited {_minutes(age)} for a signed checkpoint (limit "
                f"{_minutes(limit)} for the schedule '{settings.audit.checkpoint_schedule}'): "
                "is `alpr-guard scheduler` running and able to write the checkpoint directory?",
            )
    return Check(
        "checkpoints",
        True,
        f"newest checkpoint at seq {pinned}" if pinned is not None else "no checkpoint needed yet",
    )


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} min"


def readiness(
    settings: Settings, engine: Engine, keyring: KeyRing | None, now: datetime | None = None
) -> list[Check]:
    """Every check, in order; schema and checkpoints are skipped when the database is down."""
    now = now or datetime.now(UTC)
    checks = [check_database(engine, settings.database.url)]
    database_up = checks[0].ok
    if database_up:
        checks.append(check_schema(engine))
    else:
        checks.append(Check("schema", False, "not checked: the database is unreachable"))
    checks.append(check_keystore(settings, keyring))
    schema_ok = database_up and checks[1].ok
    checks.append(
        check_checkpoints(settings, engine if schema_ok else None, now)
        if schema_ok or not database_up
        else Check("checkpoints", False, "not checked: the schema is not at head")
    )
    return checks


def summary(checks: list[Check]) -> str:
    return json.dumps({c.name: c.as_json() for c in checks})
