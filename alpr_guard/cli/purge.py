"""``alpr-guard purge``: the retention purge (or its dry run)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    State,
    progress_for,
    progress_option,
)
from alpr_guard.errors import AlprGuardError
from alpr_guard.vocabulary import RetentionClass

if TYPE_CHECKING:
    pass


@click.command("purge")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be deleted and destroyed; change nothing."
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan or receipt as JSON.")
@progress_option
@click.pass_obj
def purge(state: State, dry_run: bool, as_json: bool, show_progress: bool | None) -> None:
    """Delete reads past their retention window and crypto-shred fully expired keys.

    The same job the scheduler runs, under the same database lease: if another
    process is purging, this exits 3 without touching anything. A purge killed mid-run is
    finished by the next one.
    """
    import json

    from alpr_guard.checkpoints import ensure_dirs
    from alpr_guard.db import read_only_session
    from alpr_guard.jobs.purge import purge_expired
    from alpr_guard.progress import SILENT
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.retention import plan_purge

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
            progress = progress_for(show_progress)
            if progress is not SILENT:
                with read_only_session(rt.sessions) as session:
                    due = sum(plan_purge(session, rt).deleted_by_class.values())
                progress.start("purge: deleting expired reads", due, "reads")
            try:
                receipt = purge_expired(rt, trigger="cli", progress=progress)
            except AlprGuardError as exc:
                if exc.code != "conflict":
                    raise
                progress.finish()
                click.echo(f"purge not started: {exc.message}", err=True)
                sys.exit(3)
            progress.finish()
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
    for cls in (RetentionClass.UNMATCHED, RetentionClass.HIT):
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
