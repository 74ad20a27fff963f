"""``alpr-guard demo``: development users and agencies for ``make run``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    State,
    runtime_session,
)
from alpr_guard.errors import ConfigError
from alpr_guard.services.principals import ROLES

if TYPE_CHECKING:
    pass


@click.command("demo")
@click.option("--if-missing", is_flag=True, help="Do nothing if the demo users exist.")
@click.pass_obj
def demo(state: State, if_missing: bool) -> None:
    """Create the operating agency, a small registry and one user per role; print tokens once."""
    from sqlalchemy import select

    from alpr_guard.models import User
    from alpr_guard.services.agencies import AgencyInput, import_registry, upsert_agency
    from alpr_guard.services.principals import SYSTEM, add_user

    s = state.settings
    with runtime_session(state) as (rt, session):
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
