"""The ``alpr-guard`` command: admins run the system from here and from config files.

Every command loads the configuration first and fails closed: a bad config prints one line that
names the file and the key, and the command exits 2.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from alpr_guard.errors import AlprGuardError, ConfigError
from alpr_guard.readiness import Check
from alpr_guard.services.principals import ROLES
from alpr_guard.settings import Settings, load_settings

if TYPE_CHECKING:
    from alpr_guard.crypto import KeyRing
    from alpr_guard.runtime import Runtime


class CliFailure(Exception):
    """A failure the operator can fix: ``main`` prints its one line and exits ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


# The state of the running command, so ``main`` can diagnose a database error against the
# config the command used.
_current: list[_State] = []


class _State:
    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings


@contextmanager
def _runtime_session(state: _State) -> Iterator[tuple[Runtime, Session]]:
    from alpr_guard.db import session_scope
    from alpr_guard.runtime import build_runtime

    rt = build_runtime(state.settings)
    try:
        with session_scope(rt.sessions) as session:
            yield rt, session
    finally:
        rt.dispose()


@click.group()
@click.version_option(package_name="alpr_guard", prog_name="alpr-guard")
@click.option(
    "--config",
    "config",
    envvar="ALPR_GUARD_CONFIG",
    default=None,
    help="TOML config file (default: $ALPR_GUARD_CONFIG or config/alpr_guard.toml).",
)
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """alpr_guard: encrypted ALPR storage with justified, recorded access."""
    # Files this process creates (the SQLite database and its WAL, keys, checkpoints, reports)
    # hold locations and times even where plates are encrypted: owner-only by default.
    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Alembic 1.16+ announces each of its plugins at INFO on every upgrade: noise, not news.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Alembic's per-step chatter would bury a failure's one line; `db upgrade` says what it did.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    ctx.obj = _State(config)
    _current[:] = [ctx.obj]


# -- config ---------------------------------------------------------------------------------


@cli.group("config")
def config_group() -> None:
    """Check the configuration."""


@config_group.command("check")
@click.option(
    "--record",
    is_flag=True,
    help="Also record the enforced policy in the audit chain if it changed, printing the diff.",
)
@click.pass_obj
def config_check(state: _State, record: bool) -> None:
    """Validate everything a command will need, and report every fault in one run.

    The config and its profile and rule files, the master key, the key store (every key must
    unwrap under the master key), the checkpoint directory, the registry file, and the
    database: reachable and at this version's schema revision. Exit 2 if anything is wrong.
    """
    from sqlalchemy import create_engine

    from alpr_guard import readiness
    from alpr_guard.crypto import KeyRing
    from alpr_guard.keystore import FileKeyStore, read_master_key
    from alpr_guard.settings import config_faults

    settings, faults = config_faults(state.config)
    lines = [f"config error: {fault.message}" for fault in faults]
    if settings is not None:
        keyring = None
        try:
            master = read_master_key(
                settings.keys.master_key_file, settings.keys.master_key_env, str(settings.source)
            )
        except ConfigError as exc:
            lines.append(f"config error: {exc.message}")
        else:
            store = FileKeyStore(settings.keys.keystore_dir)
            try:
                keyring = KeyRing(master, store)
            except AlprGuardError:
                lines.append(
                    f"keystore: {settings.keys.keystore_dir}: its audit keys do not unwrap "
                    "under the configured master key (wrong key, or a key store from before "
                    "`alpr-guard keys rotate`)"
                )
        checks = [readiness.check_keystore(settings, keyring)]
        if checks[0].ok and keyring is not None:
            checks.append(_check_every_key(settings, keyring))
        checks.append(readiness.check_checkpoints(settings, None, _now()))
        if settings.registry_file is not None and not settings.registry_file.is_file():
            lines.append(
                f"config error: {settings.source}: registry.file: {settings.registry_file} "
                "does not exist"
            )
        url = settings.database.url
        engine = create_engine(url, **_connect_timeout(url))
        try:
            checks.append(readiness.check_database(engine, url))
            if checks[-1].ok:
                checks.append(readiness.check_schema(engine))
        finally:
            engine.dispose()
        lines += [f"{c.name}: {c.detail}" for c in checks if not c.ok]
    if lines:
        for line in lines:
            click.echo(line, err=True)
        sys.exit(2)
    assert settings is not None
    click.echo(
        f"{settings.source}: ok (profile {settings.profile.name if settings.profile else 'none'}, "
        f"{len(settings.purposes)} purposes, home state {settings.jurisdiction.home_state}; "
        f"database at revision {readiness.head_revision()}; key store and checkpoints usable)"
    )
    if record:
        _record_policy(state)


def _record_policy(state: _State) -> None:
    """Put the configuration in force on the record now, not only at the next start-up."""
    from alpr_guard.audit import Actor
    from alpr_guard.services.config_audit import record_policy

    with _runtime_session(state) as (rt, session):
        change = record_policy(session, rt, Actor("cli", rt.settings.instance.operating_agency))
    if not change.changed:
        click.echo(f"policy {change.digest[:12]}: unchanged, nothing recorded")
        return
    click.echo(f"policy {change.digest[:12]}: recorded (was {(change.previous or 'none')[:12]})")
    for item in change.diff:
        click.echo(f"  {item['key']}: {json_short(item['from'])} -> {json_short(item['to'])}")


def json_short(value: object, limit: int = 80) -> str:
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_every_key(settings: Settings, keyring: KeyRing) -> Check:
    from alpr_guard.errors import KeyUnavailable

    ids = keyring.store.key_ids()
    bad = []
    for key_id in ids:
        try:
            keyring.check_key(key_id)
        except KeyUnavailable:
            bad.append(key_id)
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        return Check(
            "keystore",
            False,
            f"{len(bad)} of {len(ids)} keys in {settings.keys.keystore_dir} do not unwrap under "
            f"the configured master key ({shown}): a wrong master key, or an interrupted "
            "`alpr-guard keys rotate` (run it again)",
        )
    return Check("keystore", True, f"{len(ids)} keys unwrap")


def _now() -> datetime:
    return datetime.now(UTC)


def _connect_timeout(url: str) -> dict[str, object]:
    """Diagnostics give up on an unreachable PostgreSQL after a few seconds, not minutes."""
    return {"connect_args": {"connect_timeout": 5}} if url.startswith("postgresql") else {}


# -- keys -----------------------------------------------------------------------------------


@cli.group("keys")
def keys_group() -> None:
    """Master key management."""


@keys_group.command("init")
@click.option("--if-missing", is_flag=True, help="Do nothing if the key file exists.")
@click.pass_obj
def keys_init(state: _State, if_missing: bool) -> None:
    """Write a new master key file (0600) for development. Never overwrites a key."""
    from alpr_guard.keystore import write_master_key_file

    keys = state.settings.keys
    if keys.master_key_file is None:
        raise ConfigError(
            f"{state.settings.source}: keys.master_key_env is set; the master "
            "key comes from the environment, not a file"
        )
    if keys.master_key_file.exists():
        if if_missing:
            click.echo(f"master key exists: {keys.master_key_file}")
            return
        raise ConfigError(
            f"{keys.master_key_file}: already exists; refusing to overwrite a "
            "master key (every data key is wrapped by it)"
        )
    write_master_key_file(keys.master_key_file)
    keys.keystore_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    click.echo(f"wrote new master key: {keys.master_key_file} (mode 0600)")


@keys_group.command("rotate")
@click.option(
    "--new-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File of the new master key; created (mode 0600) if it does not exist.",
)
@click.option(
    "--new-key-env", default=None, help="Environment variable holding the new master key."
)
@click.pass_obj
def keys_rotate(state: _State, new_key_file: Path | None, new_key_env: str | None) -> None:
    """Re-wrap every key in the key store under a new master key (stop the API and scheduler).

    The audit keys move into the key store, so the chain, sealed terms and redacted plate
    tokens stay valid. Idempotent: run it again with the same keys to finish an interrupted
    run. Afterwards point keys.master_key_file (or _env) at the new key and start again.
    """
    from alpr_guard import readiness
    from alpr_guard.audit import Actor, AuditLog
    from alpr_guard.clock import SystemClock
    from alpr_guard.crypto import KeyRing
    from alpr_guard.db import make_engine, make_session_factory, session_scope
    from alpr_guard.keystore import (
        FileKeyStore,
        decode_master_key,
        read_master_key,
        write_master_key_file,
    )
    from alpr_guard.services.rotation import rotate_master_key

    if (new_key_file is None) == (new_key_env is None):
        raise click.UsageError("give exactly one of --new-key-file or --new-key-env")
    s = state.settings
    old = read_master_key(s.keys.master_key_file, s.keys.master_key_env, str(s.source))
    if new_key_env is not None:
        value = os.environ.get(new_key_env)
        if not value:
            raise CliFailure(f"environment variable {new_key_env} is not set", 2)
        new = decode_master_key(value, f"environment variable {new_key_env}")
    else:
        assert new_key_file is not None
        if not new_key_file.exists():
            write_master_key_file(new_key_file)
            click.echo(f"wrote new master key: {new_key_file} (mode 0600)")
        new = read_master_key(new_key_file, None, "--new-key-file")
    engine = make_engine(s.database.url, audit_timeout_ms=s.database.audit_timeout_ms)
    try:
        # The rotation is recorded in the chain: the database must take the event first.
        reachable = readiness.check_database(engine, s.database.url)
        for check in (reachable, readiness.check_schema(engine) if reachable.ok else reachable):
            if not check.ok:
                raise CliFailure(f"{check.detail}; nothing was rotated")
        store = FileKeyStore(s.keys.keystore_dir)
        result = rotate_master_key(store, old, new)
        keyring = KeyRing(new, store)
        with session_scope(make_session_factory(engine)) as session:
            event = AuditLog(keyring, SystemClock(), s.database.audit_timeout_ms).append(
                session,
                "keys.rotated",
                Actor("cli", s.instance.operating_agency),
                details=result.as_json(),
            )
    finally:
        engine.dispose()
    click.echo(
        f"re-wrapped {result.rewrapped} keys under the new master key "
        f"({result.already_new} already were; audit seq {event.seq}); now point "
        f"keys.master_key_file or keys.master_key_env at the new key and restart"
    )


# -- db -------------------------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Database migrations (the migrations are the schema)."""


def _sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(state: _State, revision: str) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from alpr_guard import schema
    from alpr_guard.services.partitions import ensure_partitions

    url = state.settings.database.url
    _sqlite_dir(url)
    before = _revision_now(url)
    with _revision_errors(revision):
        schema.upgrade(url, revision)
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


def _rekey_legacy_hits(state: _State) -> None:
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
def db_downgrade(state: _State, revision: str) -> None:
    from alpr_guard import schema

    with _revision_errors(revision):
        schema.downgrade(state.settings.database.url, revision)
    click.echo(f"database at {revision}")


def _revision_now(url: str) -> str | None:
    from sqlalchemy import create_engine

    from alpr_guard.readiness import current_revision

    engine = create_engine(url, **_connect_timeout(url))
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


@contextmanager
def _revision_errors(revision: str) -> Iterator[None]:
    """Alembic's refusal of a revision as one line that lists the revisions there are."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from alpr_guard.schema import MIGRATIONS

    try:
        yield
    except CommandError as exc:
        known = [r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions()]
        raise CliFailure(
            f"cannot migrate to revision {revision!r}: {str(exc).splitlines()[0]} "
            f"(revisions: base, {', '.join(reversed(known))}, head)"
        ) from None


# -- users ----------------------------------------------------------------------------------


@cli.group("users")
def users_group() -> None:
    """Users and bearer tokens."""


@users_group.command("add")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--agency",
    "agency",
    default=None,
    help="ORI of the user's agency (default: the operating agency).",
)
@click.pass_obj
def users_add(state: _State, username: str, role: str, agency: str | None) -> None:
    """Create a user; the new token is the last line of output (shown once)."""
    from alpr_guard.services.principals import add_user

    with _runtime_session(state) as (rt, session):
        issued = add_user(
            session,
            rt,
            username=username,
            role=role,
            agency_ori=agency or state.settings.instance.operating_agency,
        )
    expiry = issued.expires_at.isoformat() if issued.expires_at else "never (service account)"
    click.echo(
        f"created {issued.username} ({issued.role}, {issued.agency_ori}); token expires {expiry}"
    )
    click.echo(issued.token)


@users_group.command("token")
@click.option("--username", required=True)
@click.pass_obj
def users_token(state: _State, username: str) -> None:
    """Issue a new token for an existing user; the token is the last line of output."""
    from alpr_guard.services.principals import issue_token

    with _runtime_session(state) as (rt, session):
        issued = issue_token(session, rt, username=username)
    expiry = issued.expires_at.isoformat() if issued.expires_at else "never (service account)"
    click.echo(f"token for {issued.username} expires {expiry}")
    click.echo(issued.token)


@users_group.command("revoke")
@click.option("--username", required=True)
@click.option("--disable", is_flag=True, help="Also disable the account.")
@click.pass_obj
def users_revoke(state: _State, username: str, disable: bool) -> None:
    """Revoke every live token of a user."""
    from alpr_guard.services.principals import revoke_tokens

    with _runtime_session(state) as (rt, session):
        count = revoke_tokens(session, rt, username=username, disable=disable)
    click.echo(f"revoked {count} token(s) of {username}{' and disabled it' if disable else ''}")


@users_group.command("list")
@click.pass_obj
def users_list(state: _State) -> None:
    from alpr_guard.services.principals import list_users

    with _runtime_session(state) as (_rt, session):
        for user in list_users(session):
            click.echo(
                f"{user.username}\t{user.role}\t{user.agency_ori}\t"
                f"{'disabled' if user.disabled else 'active'}"
            )


# -- agencies -------------------------------------------------------------------------------


@cli.group("agencies")
def agencies_group() -> None:
    """The agency registry (kind and jurisdiction decide sharing, never the ORI prefix)."""


@agencies_group.command("add")
@click.option("--ori", required=True)
@click.option("--name", required=True)
@click.option(
    "--kind", required=True, type=click.Choice(("state", "local", "tribal", "federal", "private"))
)
@click.option("--jurisdiction", required=True, help="Two-letter state code.")
@click.option("--vetted/--not-vetted", default=False, show_default=True)
@click.pass_obj
def agencies_add(
    state: _State, ori: str, name: str, kind: str, jurisdiction: str, vetted: bool
) -> None:
    from alpr_guard.services.agencies import AgencyInput, upsert_agency
    from alpr_guard.services.principals import SYSTEM

    with _runtime_session(state) as (rt, session):
        agency = upsert_agency(
            session, rt, AgencyInput(ori, name, kind, jurisdiction, vetted), SYSTEM
        )
    click.echo(
        f"{agency.ori}\t{agency.kind}\t{agency.jurisdiction}\t"
        f"{'vetted' if agency.vetted else 'not vetted'}\t{agency.name}"
    )


@agencies_group.command("import")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def agencies_import(state: _State, file: Path | None) -> None:
    """Load the registry file (TOML or CSV; default: registry.file from the config)."""
    from alpr_guard.services.agencies import import_registry
    from alpr_guard.services.principals import SYSTEM

    path = file or state.settings.registry_file
    if path is None:
        raise click.UsageError("give a FILE or set registry.file in the config")
    with _runtime_session(state) as (rt, session):
        result = import_registry(session, rt, path, SYSTEM)
    click.echo(
        f"{path}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )


@agencies_group.command("vet")
@click.argument("ori")
@click.pass_obj
def agencies_vet(state: _State, ori: str) -> None:
    """Mark an agency vetted (an audit event)."""
    _set_vetted(state, ori, vetted=True)


@agencies_group.command("unvet")
@click.argument("ori")
@click.pass_obj
def agencies_unvet(state: _State, ori: str) -> None:
    """Withdraw an agency's vetting: it can no longer receive data (an audit event)."""
    _set_vetted(state, ori, vetted=False)


def _set_vetted(state: _State, ori: str, *, vetted: bool) -> None:
    from alpr_guard.services.agencies import set_vetted
    from alpr_guard.services.principals import SYSTEM

    with _runtime_session(state) as (rt, session):
        agency = set_vetted(session, rt, ori, vetted, SYSTEM)
    click.echo(f"{agency.ori}\t{'vetted' if agency.vetted else 'not vetted'}\t{agency.name}")


@agencies_group.command("list")
@click.pass_obj
def agencies_list(state: _State) -> None:
    from alpr_guard.services.agencies import list_agencies

    with _runtime_session(state) as (_rt, session):
        for a in list_agencies(session):
            click.echo(
                f"{a.ori}\t{a.kind}\t{a.jurisdiction}\t"
                f"{'vetted' if a.vetted else 'not vetted'}\t{a.name}"
            )


# -- demo -----------------------------------------------------------------------------------


@cli.command("demo")
@click.option("--if-missing", is_flag=True, help="Do nothing if the demo users exist.")
@click.pass_obj
def demo(state: _State, if_missing: bool) -> None:
    """Create the operating agency, a small registry and one user per role; print tokens once."""
    from sqlalchemy import select

    from alpr_guard.models import User
    from alpr_guard.services.agencies import AgencyInput, import_registry, upsert_agency
    from alpr_guard.services.principals import SYSTEM, add_user

    s = state.settings
    with _runtime_session(state) as (rt, session):
        if session.scalar(select(User.id).where(User.username == "demo-officer")):
            if if_missing:
                click.echo(
                    "demo users exist; new token: alpr-guard users token --username demo-officer"
                )
                return
            raise ConfigError("demo users exist already")
        upsert_agency(
            session,
            rt,
            AgencyInput(
                s.instance.operating_agency,
                s.instance.operating_agency_name,
                "local",
                s.jurisdiction.home_state,
                True,
            ),
            SYSTEM,
        )
        if s.registry_file is not None:
            import_registry(session, rt, s.registry_file, SYSTEM)
        issued = [
            add_user(
                session,
                rt,
                username=f"demo-{role}",
                role=role,
                agency_ori=s.instance.operating_agency,
            )
            for role in ROLES
        ]
    click.echo("Demo tokens (shown once; `alpr-guard users token --username NAME` issues more):")
    for token in issued:
        click.echo(f"  {token.role:<10} {token.username:<16} {token.token}")


# -- serve ----------------------------------------------------------------------------------


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="ALPR_GUARD_HOST")
@click.option("--port", default=8080, show_default=True, type=int, envvar="ALPR_GUARD_PORT")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    envvar="ALPR_GUARD_WORKERS",
    help="Worker processes (default: 1 on SQLite, 2 per CPU up to 8 on PostgreSQL).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="ALPR_GUARD_THREADS",
    help="Threads per worker.",
)
@click.option(
    "--trusted-proxy",
    default=None,
    envvar="ALPR_GUARD_TRUSTED_PROXY",
    help="Address of the reverse proxy whose X-Forwarded-For names the client in the request "
    "log; from anyone else the header is ignored.",
)
@click.pass_obj
def serve(
    state: _State,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    trusted_proxy: str | None = None,
) -> None:
    """Serve the HTTP API under gunicorn (gthread workers; see docs/deployment.md).

    Each worker checkpoints the chain head every audit.checkpoint_interval_seconds while
    requests write events, and once more when it stops (SIGINT or SIGTERM to the server).
    """
    from alpr_guard import readiness, server
    from alpr_guard.audit import Actor
    from alpr_guard.checkpoints import ensure_dirs
    from alpr_guard.db import session_scope
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.config_audit import record_policy

    _check_port(host, port)
    settings = state.settings
    rt = build_runtime(settings)
    try:
        ensure_dirs(rt)
        # Before any worker forks: one line for the operator instead of a traceback per worker.
        reachable = readiness.check_database(rt.engine, settings.database.url)
        schema_ok = readiness.check_schema(rt.engine) if reachable.ok else reachable
        for check in (reachable, schema_ok, readiness.check_keystore(settings, rt.keyring)):
            if not check.ok:
                raise CliFailure(check.detail)
        with session_scope(rt.sessions) as session:
            record_policy(session, rt, Actor("system:startup", settings.instance.operating_agency))
    finally:
        rt.dispose()
    count = workers or server.default_workers(settings)
    click.echo(
        f"alpr_guard serving on http://{host}:{port} with {count} worker(s) x {threads} "
        f"threads (config {settings.source})"
    )
    server.run(
        settings,
        host=host,
        port=port,
        workers=count,
        threads=threads,
        trusted_proxy=trusted_proxy,
    )


def _check_port(host: str, port: int) -> None:
    """A port in use is one line naming it, before anything starts."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliFailure(
                    f"port {port} on {host} is already in use: stop the process holding it, "
                    "or choose another with --port (or ALPR_GUARD_PORT)"
                ) from None
            raise CliFailure(
                f"cannot listen on {host}:{port}: {exc.strerror} (check --host)"
            ) from None


def _exit_on_signal(signum: int, _frame: object) -> None:
    # SystemExit unwinds the scheduler's loop cleanly, so the final checkpoint runs.
    raise SystemExit(0)


# -- audit ----------------------------------------------------------------------------------


@cli.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@click.pass_obj
def audit_verify(state: _State) -> None:
    """Walk the hash chain against the signed checkpoints; exit 1 naming the first bad event.

    After the audit log's retention the chain starts after seq 1, vouched for by a signed
    retention checkpoint; the output then names the first remaining seq. The second line says
    how many events follow the newest checkpoint; with several audit.checkpoint_dirs, a
    directory that lacks or disagrees with another's checkpoints is named (exit 1).
    """
    from alpr_guard.checkpoints import verify_with_checkpoints
    from alpr_guard.db import read_only_session
    from alpr_guard.runtime import build_runtime

    rt = build_runtime(state.settings)
    try:
        with read_only_session(rt.sessions) as session:
            result = verify_with_checkpoints(session, rt)
    finally:
        rt.dispose()
    click.echo(result.describe())
    if not result.ok:
        sys.exit(1)


@audit_group.command("checkpoint")
@click.pass_obj
def audit_checkpoint(state: _State) -> None:
    """Sign the chain's head and write it to every audit.checkpoint_dirs directory."""
    from alpr_guard.audit import Actor
    from alpr_guard.checkpoints import write_checkpoint

    with _runtime_session(state) as (rt, session):
        checkpoint = write_checkpoint(session, rt, Actor("cli", None))
    if checkpoint is None:
        click.echo("the audit log is empty; nothing to checkpoint")
    else:
        where = ", ".join(str(p) for p in checkpoint.paths)
        click.echo(f"checkpoint at seq {checkpoint.seq}: {where}")


@audit_group.command("export-receipt")
@click.argument("run_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def audit_export_receipt(state: _State, run_id: str, out: Path) -> None:
    """Write a completed purge's receipt, signed with the instance's key, to FILE.

    Every purge already exports its receipt into the checkpoint directories; this signs it
    again from the audit chain (refused if the receipt event was edited or removed).
    """
    import json
    import uuid

    from alpr_guard.checkpoints import purge_receipt_document
    from alpr_guard.db import read_only_session
    from alpr_guard.runtime import build_runtime

    try:
        run = uuid.UUID(run_id)
    except ValueError:
        raise click.BadParameter("not a purge run id", param_hint="RUN_ID") from None
    rt = build_runtime(state.settings)
    try:
        with read_only_session(rt.sessions) as session:
            document = purge_receipt_document(session, rt, run)
    finally:
        rt.dispose()
    out.write_text(json.dumps(document, indent=2), encoding="utf-8")
    click.echo(f"signed receipt of purge {run} written to {out}")


@audit_group.command("verify-receipt")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    required=True,
    help="Base64 Ed25519 public key of the instance (GET /api/v1/signing-key).",
)
def audit_verify_receipt(file: Path, public_key: str) -> None:
    """Check a signed checkpoint or purge receipt with the public key alone.

    Needs no master key, database or config. Exit 0 and one line describing the file if the
    signature verifies; exit 1 and one line saying why not otherwise.
    """
    from alpr_guard.checkpoints import verify_signed_file

    ok, message = verify_signed_file(file, public_key)
    click.echo(message)
    if not ok:
        sys.exit(1)


# -- shares ---------------------------------------------------------------------------------


@cli.group("shares")
def shares_group() -> None:
    """Signed share bundles."""


@shares_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    default=None,
    help="Base64 Ed25519 public key of the issuer (default: this instance's key).",
)
@click.pass_obj
def shares_verify(state: _State, file: Path, public_key: str | None) -> None:
    """Check a share bundle's signature; exit 1 if it was altered or forged."""
    import base64
    import binascii
    import json

    from alpr_guard.services.sharing import verify_bundle

    try:
        document = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"not a JSON file: {exc}", param_hint="FILE") from None
    if public_key is not None:
        try:
            key = base64.b64decode(public_key, validate=True)
        except (binascii.Error, ValueError):
            raise click.BadParameter("not base64", param_hint="--public-key") from None
    else:
        from alpr_guard.crypto import SIGNING_KEY_ID, KeyRing
        from alpr_guard.keystore import FileKeyStore, read_master_key

        s = state.settings
        master = read_master_key(s.keys.master_key_file, s.keys.master_key_env, str(s.source))
        store = FileKeyStore(s.keys.keystore_dir)
        if store.get(SIGNING_KEY_ID) is None:
            raise click.UsageError("this instance has no signing key yet; pass --public-key")
        key = KeyRing(master, store).public_key_raw()
    ok, message = verify_bundle(document, key)
    click.echo(message)
    if not ok:
        sys.exit(1)


# -- review ---------------------------------------------------------------------------------


@cli.group("review")
def review_group() -> None:
    """The access review: flag misuse after the fact."""


@review_group.command("run")
@click.option("--since", default=None, help="ISO 8601 time (default: where the last run ended).")
@click.pass_obj
def review_run(state: _State, since: str | None) -> None:
    """Scan access records for misuse and write findings."""
    from alpr_guard.schemas import parse_datetime
    from alpr_guard.services.review import review_searches

    start = None
    if since is not None:
        try:
            start = parse_datetime(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    with _runtime_session(state) as (rt, session):
        result = review_searches(session, rt, since=start)
    click.echo(
        f"reviewed {result.searches_scanned} searches from {result.since.isoformat()} "
        f"to {result.until.isoformat()} in {result.seconds:.1f}s: "
        f"{result.new_findings} new findings"
    )
    for rule, count in sorted(result.by_rule.items()):
        click.echo(f"  {rule}: {count}")


@review_group.command("list")
@click.option("--status", type=click.Choice(("open", "resolved")), default="open")
@click.option("--limit", default=50, show_default=True, type=int)
@click.pass_obj
def review_list(state: _State, status: str, limit: int) -> None:
    """List findings (the listing is itself an audit event)."""
    from alpr_guard.services.principals import Principal
    from alpr_guard.services.review import FindingFilter, list_findings

    cli_user = Principal(
        user_id=0,
        username="cli",
        role="auditor",
        agency_id=0,
        agency_ori=state.settings.instance.operating_agency,
    )
    with _runtime_session(state) as (rt, session):
        findings = list_findings(session, rt, cli_user, FindingFilter(status=status, limit=limit))
    for f in findings:
        # A camera's finding (hit_rate_anomaly) names the camera where a search names its user.
        who = f.username if f.username is not None else f"camera:{f.camera_id}"
        at = (f.searched_at or f.created_at).isoformat()
        click.echo(f"{f.id}\t{f.severity}\t{f.rule}\t{who}\t{at}\t{f.status}")


# -- retention ------------------------------------------------------------------------------


@cli.command("purge")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be deleted and destroyed; change nothing."
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan or receipt as JSON.")
@click.pass_obj
def purge(state: _State, dry_run: bool, as_json: bool) -> None:
    """Delete reads past their retention window and crypto-shred fully expired keys.

    The same service the scheduled job runs, under the same database lease: if another
    process is purging, this exits 3 without touching anything. A purge killed mid-run is
    finished by the next one.
    """
    import json

    from alpr_guard.checkpoints import ensure_dirs
    from alpr_guard.db import read_only_session
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.retention import plan_purge, purge_expired

    rt = build_runtime(state.settings)
    try:
        if dry_run:
            with read_only_session(rt.sessions) as session:
                plan = plan_purge(session, rt)
            body = plan.as_json()
            header = f"dry run at {plan.cutoff.isoformat()}: would delete"
            keys = plan.keys
        else:
            # The receipt goes to every checkpoint directory: check them before deleting.
            ensure_dirs(rt)
            try:
                receipt = purge_expired(rt, trigger="cli")
            except AlprGuardError as exc:
                if exc.code != "conflict":
                    raise
                click.echo(f"purge not started: {exc.message}", err=True)
                sys.exit(3)
            body = receipt.as_json()
            header = (
                f"purge {receipt.run_id} at {receipt.cutoff.isoformat()} "
                f"(receipt: audit seq {receipt.audit_seq}): deleted"
            )
            keys = receipt.keys_destroyed
    finally:
        rt.dispose()
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    by_class = body["deleted_by_class"]
    assert isinstance(by_class, dict)
    click.echo(header)
    for cls in ("unmatched", "hit"):
        click.echo(f"  {cls}: {by_class.get(cls, 0)} reads")
    click.echo(f"kept because held: {body['kept_held']} reads")
    records = body["records_expired"]
    assert isinstance(records, dict)
    click.echo(
        f"access records: {records.get('searches_deleted', 0)} searches, "
        f"{records.get('shares_deleted', 0)} shares, {records.get('findings_deleted', 0)} "
        f"findings ({records.get('searches_kept_open_finding', 0)} kept for open findings); "
        f"audit events: {records.get('audit_events_removed', 0)}"
    )
    verb = "would destroy" if dry_run else "destroyed"
    click.echo(f"{verb} {len(keys)} keys" + (f": {', '.join(keys)}" if keys else ""))


# -- scheduler ------------------------------------------------------------------------------


@cli.command("scheduler")
@click.pass_obj
def scheduler(state: _State) -> None:
    """Run the scheduled jobs (access review, retention purge, audit checkpoints) here."""
    import signal

    from alpr_guard.audit import Actor
    from alpr_guard.checkpoints import ensure_dirs
    from alpr_guard.db import session_scope
    from alpr_guard.jobs import build_scheduler, run_head_checkpoint
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.config_audit import record_policy

    rt = build_runtime(state.settings)
    ensure_dirs(rt)
    with session_scope(rt.sessions) as session:
        record_policy(session, rt, Actor("system:startup", rt.settings.instance.operating_agency))
    click.echo(
        f"scheduler: access review at '{state.settings.review.schedule}', purge at "
        f"'{state.settings.purge.schedule}', checkpoints at "
        f"'{state.settings.audit.checkpoint_schedule}' (UTC) and of the head every "
        f"{state.settings.audit.checkpoint_interval_seconds}s"
    )
    signal.signal(signal.SIGTERM, _exit_on_signal)
    jobs = build_scheduler(rt)
    try:
        jobs.start()
    finally:
        if jobs.running:
            jobs.shutdown(wait=True)  # a running job finishes first
        # The last events before shutdown are pinned too.
        if rt.settings.audit.checkpoint_dirs:
            run_head_checkpoint(rt)
        rt.dispose()


def _attach_report_commands() -> None:
    from alpr_guard.report_cli import report

    cli.add_command(report)
    from alpr_guard.policy_cli import policy

    cli.add_command(policy)


_attach_report_commands()


def main() -> None:
    """The entry point: every failure ends as one line naming the problem and the fix.

    Exit codes: 1 an operation failed, 2 the configuration or the command line is wrong,
    3 the purge lease is held elsewhere, 130 interrupted. ``ALPR_GUARD_TRACEBACK=1`` shows
    the traceback of an unexpected error.
    """
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.UsageError as exc:
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        click.echo(f"error: {' '.join(exc.format_message().split())}{where}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"config error: {exc.message}", err=True)
        sys.exit(2)
    except AlprGuardError as exc:
        click.echo(f"error: {exc.code}: {exc.message}", err=True)
        sys.exit(1)
    except CliFailure as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("ALPR_GUARD_TRACEBACK"):
            raise
        click.echo(f"error: {_explain(exc)}", err=True)
        sys.exit(1)


def _explain(exc: Exception) -> str:
    """One line for an exception no command caught: the database, a file, or a bug."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        return _explain_database(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        path = Path(str(exc.filename))
        if isinstance(exc, FileNotFoundError) and not path.parent.exists():
            return (
                f"cannot write {path}: the folder {path.parent} does not exist "
                "(create it, or choose another path)"
            )
        return f"{path}: {exc.strerror or type(exc).__name__} (check the path and its permissions)"
    return (
        f"unexpected {type(exc).__name__} (a bug: run again with ALPR_GUARD_TRACEBACK=1 and "
        "report the traceback)"
    )


def _explain_database(exc: Exception) -> str:
    """Is the database down, not migrated, or behind this version? Then say what to run."""
    from sqlalchemy import create_engine

    from alpr_guard import readiness

    settings = _current[0]._settings if _current else None
    orig = getattr(exc, "orig", None)
    reason = type(orig if orig is not None else exc).__name__
    if settings is None:
        return f"database error ({reason})"
    url = settings.database.url
    engine = create_engine(url, **_connect_timeout(url))
    try:
        reachable = readiness.check_database(engine, url)
        if not reachable.ok:
            return reachable.detail
        schema_check = readiness.check_schema(engine)
        if not schema_check.ok:
            return schema_check.detail
    finally:
        engine.dispose()
    first = str(orig if orig is not None else exc).strip().splitlines()
    return (
        f"the database refused the operation ({reason}: {first[0][:200] if first else ''}); "
        f"run `alpr-guard config check`"
    )
