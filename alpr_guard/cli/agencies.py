"""``alpr-guard agencies``: the registry of agencies data may be shared with."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    State,
    runtime_session,
)

if TYPE_CHECKING:
    pass


@click.group("agencies")
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
    state: State, ori: str, name: str, kind: str, jurisdiction: str, vetted: bool
) -> None:
    from alpr_guard.services.agencies import AgencyInput, upsert_agency

    with runtime_session(state) as (rt, session):
        agency = upsert_agency(
            session, rt, AgencyInput(ori, name, kind, jurisdiction, vetted), state.actor()
        )
    click.echo(
        f"{agency.ori}\t{agency.kind}\t{agency.jurisdiction}\t"
        f"{'vetted' if agency.vetted else 'not vetted'}\t{agency.name}"
    )


@agencies_group.command("import")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def agencies_import(state: State, file: Path | None) -> None:
    """Load the registry file (TOML or CSV; default: registry.file from the config)."""
    from alpr_guard.services.agencies import import_registry

    path = file or state.settings.registry_file
    if path is None:
        raise click.UsageError("give a FILE or set registry.file in the config")
    with runtime_session(state) as (rt, session):
        result = import_registry(session, rt, path, state.actor())
    click.echo(
        f"{path}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )


@agencies_group.command("vet")
@click.argument("ori")
@click.pass_obj
def agencies_vet(state: State, ori: str) -> None:
    """Mark an agency vetted (an audit event)."""
    _set_vetted(state, ori, vetted=True)


@agencies_group.command("unvet")
@click.argument("ori")
@click.pass_obj
def agencies_unvet(state: State, ori: str) -> None:
    """Withdraw an agency's vetting: it can no longer receive data (an audit event)."""
    _set_vetted(state, ori, vetted=False)


def _set_vetted(state: State, ori: str, *, vetted: bool) -> None:
    from alpr_guard.services.agencies import set_vetted

    with runtime_session(state) as (rt, session):
        agency = set_vetted(session, rt, ori, vetted, state.actor())
    click.echo(f"{agency.ori}\t{'vetted' if agency.vetted else 'not vetted'}\t{agency.name}")


@agencies_group.command("list")
@click.pass_obj
def agencies_list(state: State) -> None:
    from alpr_guard.services.agencies import list_agencies

    with runtime_session(state) as (_rt, session):
        for a in list_agencies(session):
            click.echo(
                f"{a.ori}\t{a.kind}\t{a.jurisdiction}\t"
                f"{'vetted' if a.vetted else 'not vetted'}\t{a.name}"
            )


# -- demo -----------------------------------------------------------------------------------
