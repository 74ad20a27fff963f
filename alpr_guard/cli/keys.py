"""``alpr-guard keys``: the master key (create it, rotate it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    CliFailure,
    State,
)
from alpr_guard.errors import ConfigError
from alpr_guard.vocabulary import AuditKind

if TYPE_CHECKING:
    pass


@click.group("keys")
def keys_group() -> None:
    """Master key management."""


@keys_group.command("init")
@click.option("--if-missing", is_flag=True, help="Do nothing if the key file exists.")
@click.pass_obj
def keys_init(state: State, if_missing: bool) -> None:
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
def keys_rotate(state: State, new_key_file: Path | None, new_key_env: str | None) -> None:
    """Re-wrap every key in the key store under a new master key (stop the API and scheduler).

    The audit keys move into the key store, so the chain, sealed terms and redacted plate
    tokens stay valid. Idempotent: run it again with the same keys to finish an interrupted
    run. Afterwards point keys.master_key_file (or _env) at the new key and start again.
    """
    from alpr_guard import readiness
    from alpr_guard.audit import AuditLog
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
                AuditKind.KEYS_ROTATED,
                state.actor(s.instance.operating_agency),
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
