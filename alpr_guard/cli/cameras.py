"""``alpr-guard cameras``: per-camera ingest credentials (add, list, rotate, disable)."""

from __future__ import annotations

import json

import click

from alpr_guard.cli.common import State, runtime_session


@click.group("cameras")
def cameras_group() -> None:
    """Camera and agent credentials for the vendor webhooks."""


@cameras_group.command("add")
@click.argument("name")
@click.option(
    "--camera-id",
    "camera_ids",
    multiple=True,
    required=True,
    help="A camera id this credential may post reads for (repeat for an agent's cameras).",
)
@click.option(
    "--auth",
    type=click.Choice(["token", "hmac"]),
    default="token",
    show_default=True,
    help="token: sent as 'Authorization: Bearer'; hmac: the camera signs each body.",
)
@click.option("--agency", default=None, help="ORI (default and only choice: the operating agency).")
@click.pass_obj
def cameras_add(
    state: State, name: str, camera_ids: tuple[str, ...], auth: str, agency: str | None
) -> None:
    """Register a credential; its secret is the last line of output (shown once)."""
    from alpr_guard.services.cameras import add_camera

    with runtime_session(state) as (rt, session):
        issued = add_camera(
            session, rt, name=name, camera_ids=camera_ids, agency_ori=agency, auth=auth
        )
    click.echo(f"added camera credential {issued.name} ({issued.auth}) for {len(camera_ids)} id(s)")
    click.echo(issued.secret)


@cameras_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def cameras_list(state: State, as_json: bool) -> None:
    """Every credential, its cameras, and when it last posted."""
    from alpr_guard.services.cameras import list_cameras

    with runtime_session(state) as (_rt, session):
        for camera in list_cameras(session):
            if as_json:
                click.echo(json.dumps(camera.as_json()))
                continue
            seen = camera.last_seen_at.isoformat() if camera.last_seen_at else "never"
            status = "disabled" if camera.disabled else "active"
            if camera.rotation_pending:
                status += " (rotation pending: two live secrets)"
            click.echo(
                f"{camera.name}\t{camera.auth}\t{camera.agency_ori}\t"
                f"{','.join(camera.camera_ids)}\tlast seen {seen}\t{status}"
            )


@cameras_group.command("rotate")
@click.argument("name")
@click.option(
    "--finish",
    is_flag=True,
    help="Retire the previous secret (once every agent has the new one).",
)
@click.pass_obj
def cameras_rotate(state: State, name: str, finish: bool) -> None:
    """Issue a new secret (the old one stays live until --finish); the secret is the last line."""
    from alpr_guard.services.cameras import rotate_camera

    with runtime_session(state) as (rt, session):
        issued = rotate_camera(session, rt, name=name, finish=finish)
    if issued is None:
        click.echo(f"{name}: previous secret retired; only the current one is live")
        return
    click.echo(f"{issued.name}: new secret issued; the previous one stays live until --finish")
    click.echo(issued.secret)


@cameras_group.command("disable")
@click.argument("name")
@click.pass_obj
def cameras_disable(state: State, name: str) -> None:
    """Disable a credential: both of its secrets stop working at once."""
    from alpr_guard.services.cameras import disable_camera

    with runtime_session(state) as (rt, session):
        disable_camera(session, rt, name=name)
    click.echo(f"disabled camera credential {name}")
