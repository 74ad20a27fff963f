"""The root ``alpr-guard`` group and every command group under it, one module per group."""

from __future__ import annotations

import logging
import os

import click

from alpr_guard.cli import (
    agencies,
    audit,
    cameras,
    config,
    database,
    demo,
    importer,
    keys,
    policy,
    purge,
    report,
    review,
    serve,
    shares,
    users,
)
from alpr_guard.cli.common import State, current


@click.group()
@click.version_option(package_name="alpr_guard", prog_name="alpr-guard")
@click.option(
    "--config",
    "config",
    envvar="ALPR_GUARD_CONFIG",
    default=None,
    help="TOML config file (default: $ALPR_GUARD_CONFIG or config/alpr_guard.toml).",
)
@click.option(
    "--operator",
    "operator",
    envvar="ALPR_GUARD_OPERATOR",
    default=None,
    help="Who is running the command, recorded in the audit chain by every command that "
    "changes state or exports data (default: the operating-system user).",
)
@click.pass_context
def cli(ctx: click.Context, config: str | None, operator: str | None) -> None:
    """alpr_guard: encrypted ALPR storage with justified, recorded access."""
    # Files this process creates (the SQLite database and its WAL, keys, checkpoints, reports)
    # hold locations and times even where plates are encrypted: owner-only by default.
    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Alembic 1.16+ announces each of its plugins at INFO on every upgrade: noise, not news.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Alembic's per-step chatter would bury a failure's one line; `db upgrade` says what it did.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    ctx.obj = State(config, operator)
    current[:] = [ctx.obj]


for command in (
    config.config_group,
    keys.keys_group,
    database.db_group,
    users.users_group,
    cameras.cameras_group,
    importer.import_group,
    agencies.agencies_group,
    demo.demo,
    serve.serve,
    audit.audit_group,
    shares.shares_group,
    review.review_group,
    purge.purge,
    serve.scheduler,
    report.report,
    policy.policy,
):
    cli.add_command(command)
