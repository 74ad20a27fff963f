"""``alpr-guard users``: accounts, their tokens, and revoking them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    State,
    runtime_session,
)
from alpr_guard.services.principals import ROLES

if TYPE_CHECKING:
    pass


@click.group("users")
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
def users_add(state: State, username: str, role: str, agency: str | None) -> None:
    """Create a user; the new token is the last line of output (shown once)."""
    from alpr_guard.services.principals import add_user

    with runtime_session(state) as (rt, session):
        issued = add_user(
            session,
            rt,
            username=username,
            role=role,
            agency_ori=agency or state.settings.instance.operating_agency,
            actor=state.actor(),
        )
    expiry = issued.expires_at.isoformat() if issued.expires_at else "never (service account)"
    click.echo(
        f"created {issued.username} ({issued.role}, {issued.agency_ori}); token expires {expiry}"
    )
    click.echo(issued.token)


@users_group.command("token")
@click.option("--username", required=True)
@click.pass_obj
def users_token(state: State, username: str) -> None:
    """Issue a new token for an existing user; the token is the last line of output."""
    from alpr_guard.services.principals import issue_token

    with runtime_session(state) as (rt, session):
        issued = issue_token(session, rt, username=username, actor=state.actor())
    expiry = issued.expires_at.isoformat() if issued.expires_at else "never (service account)"
    click.echo(f"token for {issued.username} expires {expiry}")
    click.echo(issued.token)


@users_group.command("revoke")
@click.option("--username", required=True)
@click.option("--disable", is_flag=True, help="Also disable the account.")
@click.pass_obj
def users_revoke(state: State, username: str, disable: bool) -> None:
    """Revoke every live token of a user."""
    from alpr_guard.services.principals import revoke_tokens

    with runtime_session(state) as (rt, session):
        count = revoke_tokens(session, rt, username=username, disable=disable, actor=state.actor())
    click.echo(f"revoked {count} token(s) of {username}{' and disabled it' if disable else ''}")


@users_group.command("list")
@click.pass_obj
def users_list(state: State) -> None:
    from alpr_guard.services.principals import list_users

    with runtime_session(state) as (_rt, session):
        for user in list_users(session):
            click.echo(
                f"{user.username}\t{user.role}\t{user.agency_ori}\t"
                f"{'disabled' if user.disabled else 'active'}"
            )


@users_group.command("unlock")
@click.option("--username", default=None, help="Lift the lock on this account.")
@click.option("--source", default=None, help="Lift the lock on this source address.")
@click.option(
    "--operator",
    default=None,
    help="Who is unlocking (recorded; default: the operating-system user).",
)
@click.pass_obj
def users_unlock(
    state: State, username: str | None, source: str | None, operator: str | None
) -> None:
    """Lift a lockout (after too many failed sign-ins or bad tokens); recorded."""
    from alpr_guard.auth.lockout import SOURCE, USERNAME, unlock

    if (username is None) == (source is None):
        raise click.UsageError("give exactly one of --username or --source")
    if operator is not None:
        state.operator_given = operator
    actor = state.actor()
    kind, key = (USERNAME, username) if username is not None else (SOURCE, source)
    assert key is not None
    with runtime_session(state) as (rt, session):
        unlock(session, rt, kind=kind, key=key, actor=actor)
    click.echo(f"unlocked {kind} {key}")


@users_group.command("locks")
@click.pass_obj
def users_locks(state: State) -> None:
    """The lockouts in force."""
    from alpr_guard.auth.lockout import list_locks

    with runtime_session(state) as (_rt, session):
        for lock in list_locks(session):
            click.echo(f"{lock.kind}\t{lock.key}\tlocked {lock.locked_at.isoformat()}")
