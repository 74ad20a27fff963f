"""``alpr-guard audit``: verify the chain, write checkpoints, export and check receipts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    State,
    progress_for,
    progress_option,
    runtime_session,
)

if TYPE_CHECKING:
    pass


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@progress_option
@click.pass_obj
def audit_verify(state: State, show_progress: bool | None) -> None:
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
            result = verify_with_checkpoints(session, rt, progress_for(show_progress))
    finally:
        rt.dispose()
    click.echo(result.describe())
    if not result.ok:
        sys.exit(1)


@audit_group.command("checkpoint")
@click.pass_obj
def audit_checkpoint(state: State) -> None:
    """Sign the chain's head and write it to every audit.checkpoint_dirs directory."""
    from alpr_guard.checkpoints import write_checkpoint

    with runtime_session(state) as (rt, session):
        checkpoint = write_checkpoint(session, rt, state.actor())
    if checkpoint is None:
        click.echo("the audit log is empty; nothing to checkpoint")
    else:
        where = ", ".join(str(p) for p in checkpoint.paths)
        click.echo(f"checkpoint at seq {checkpoint.seq}: {where}")


@audit_group.command("export-receipt")
@click.argument("run_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def audit_export_receipt(state: State, run_id: str, out: Path) -> None:
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
