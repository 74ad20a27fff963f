"""``alpr-guard review``: run the access review and list its findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    State,
    page_line,
    progress_for,
    progress_option,
    runtime_session,
)
from alpr_guard.vocabulary import FindingStatus

if TYPE_CHECKING:
    pass


@click.group("review")
def review_group() -> None:
    """The access review: flag misuse after the fact."""


@review_group.command("run")
@click.option("--since", default=None, help="ISO 8601 time (default: where the last run ended).")
@progress_option
@click.pass_obj
def review_run(state: State, since: str | None, show_progress: bool | None) -> None:
    """Scan access records for misuse and write findings."""
    from alpr_guard.jobs.review import review_access
    from alpr_guard.schemas import parse_datetime

    start = None
    if since is not None:
        try:
            start = parse_datetime(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    with runtime_session(state) as (rt, _session):
        result = review_access(rt, since=start, progress=progress_for(show_progress))
    click.echo(
        f"reviewed {result.searches_scanned} searches from {result.since.isoformat()} "
        f"to {result.until.isoformat()} in {result.seconds:.1f}s: "
        f"{result.new_findings} new findings"
    )
    for rule, count in sorted(result.by_rule.items()):
        click.echo(f"  {rule}: {count}")


@review_group.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in FindingStatus]),
    default=FindingStatus.OPEN.value,
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--offset", default=0, show_default=True, type=click.IntRange(0), help="Findings to skip."
)
@click.pass_obj
def review_list(state: State, status: str, limit: int, offset: int) -> None:
    """List findings, newest first, a page at a time (the listing is itself an audit event).

    The last line says which findings these are of how many ("findings 51-100 of 352") and
    how to see the next page.
    """
    from alpr_guard.services.principals import Principal
    from alpr_guard.services.review import FindingFilter, count_findings, list_findings

    cli_user = Principal(
        user_id=0,
        username="cli",
        role="auditor",
        agency_id=0,
        agency_ori=state.settings.instance.operating_agency,
    )
    filters = FindingFilter(status=status, limit=limit, offset=offset)
    with runtime_session(state) as (rt, session):
        findings = list_findings(session, rt, cli_user, filters)
        total = count_findings(session, filters)
    for f in findings:
        # A camera's finding (hit_rate_anomaly) names the camera where a search names its user,
        # and the configuration's (config_drift) the running policy's hash.
        if f.username is not None:
            who = f.username
        elif f.config_ref is not None:
            who = f"config:{f.config_ref.split('/', 1)[0][:16]}"
        else:
            who = f"camera:{f.camera_id}"
        at = (f.searched_at or f.created_at).isoformat()
        click.echo(f"{f.id}\t{f.severity}\t{f.rule}\t{who}\t{at}\t{f.status}")
    click.echo(page_line(f"{status} findings", offset, len(findings), total))


# -- retention ------------------------------------------------------------------------------
