"""``alpr-guard db``: migrations are the schema; upgrade and downgrade them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from alpr_guard.cli.common import (
    CliFailure,
    State,
    connect_timeout,
)
from alpr_guard.errors import ConfigError

if TYPE_CHECKING:
    pass


@click.group("db")
def db_group() -> None:
    """Database migrations (the migrations are the schema)."""


def _sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(state: State, revision: str) -> None:

    from sqlalchemy import create_engine

    from alpr_guard.db import migrate
    from alpr_guard.services.partitions import ensure_partitions

    url = state.settings.database.url
    _sqlite_dir(url)
    before = _revision_now(url)
    with _revision_errors(revision):
        migrate.upgrade(url, revision)
    click.echo(f"database at {revision} ({_revision_now(url)}; was {before or 'empty'})")
    if revision == "head":
        engine = create_engine(url)
        try:
            with Session(engine) as session, session.begin():
                created = ensure_partitions(session, datetime.now(UTC))
        finally:
            engine.dispose()
        if created:
            click.echo(f"created {len(created)} plate_reads partitions ahead of time")
        _rekey_legacy_hits(state)


def _rekey_legacy_hits(state: State) -> None:
    """Hits stored under day keys before revision 0005 move to their month key now, so that
    searches find them under it (the purge would otherwise do it on its next run)."""
    from alpr_guard.db import session_scope
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.rekey import rekey_legacy_hits

    try:
        rt = build_runtime(state.settings)
    except ConfigError as exc:
        click.echo(f"note: hits under day keys not re-keyed yet ({exc.message})")
        return
    moved, total = 1, 0
    try:
        while moved:
            with session_scope(rt.sessions) as session:
                moved = rekey_legacy_hits(session, rt)
            total += moved
    finally:
        rt.dispose()
    if total:
        click.echo(f"moved {total} hit reads from day keys to their month keys")


@db_group.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(state: State, revision: str) -> None:
    from alpr_guard.db import migrate

    with _revision_errors(revision):
        migrate.downgrade(state.settings.database.url, revision)
    click.echo(f"database at {revision}")


def _revision_now(url: str) -> str | None:
    from sqlalchemy import create_engine

    from alpr_guard.readiness import current_revision

    engine = create_engine(url, **connect_timeout(url))
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


@contextmanager
def _revision_errors(revision: str) -> Iterator[None]:
    """Alembic's refusal of a revision as one line that lists the revisions there are."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from alpr_guard.db.migrate import MIGRATIONS

    try:
        yield
    except CommandError as exc:
        known = [r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions()]
        raise CliFailure(
            f"cannot migrate to revision {revision!r}: {str(exc).splitlines()[0]} "
            f"(revisions: base, {', '.join(reversed(known))}, head)"
        ) from None


# -- users ----------------------------------------------------------------------------------
