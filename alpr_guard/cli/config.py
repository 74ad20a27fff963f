"""``alpr-guard config check``: everything a command will need, every fault in one run."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    State,
    connect_timeout,
    json_short,
    now,
    runtime_session,
)
from alpr_guard.errors import AlprGuardError, ConfigError
from alpr_guard.readiness import Check
from alpr_guard.settings import Settings

if TYPE_CHECKING:
    from alpr_guard.crypto import KeyRing


@click.group("config")
def config_group() -> None:
    """Check the configuration."""


@config_group.command("check")
@click.option(
    "--record",
    is_flag=True,
    help="Also record the enforced policy in the audit chain if it changed, printing the diff.",
)
@click.pass_obj
def config_check(state: State, record: bool) -> None:
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
        checks.append(readiness.check_checkpoints(settings, None, now()))
        if settings.registry_file is not None and not settings.registry_file.is_file():
            lines.append(
                f"config error: {settings.source}: registry.file: {settings.registry_file} "
                "does not exist"
            )
        url = settings.database.url
        engine = create_engine(url, **connect_timeout(url))
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


def _record_policy(state: State) -> None:
    """Put the configuration in force on the record now, not only at the next start-up."""
    from alpr_guard.services.config_audit import record_policy

    with runtime_session(state) as (rt, session):
        change = record_policy(session, rt, state.actor(rt.settings.instance.operating_agency))
    if not change.changed:
        click.echo(f"policy {change.digest[:12]}: unchanged, nothing recorded")
        return
    click.echo(f"policy {change.digest[:12]}: recorded (was {(change.previous or 'none')[:12]})")
    for item in change.diff:
        click.echo(f"  {item['key']}: {json_short(item['from'])} -> {json_short(item['to'])}")


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
