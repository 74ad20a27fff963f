"""``alpr-guard policy render``: the published usage and privacy policy, from the config in force.

Reads only: the document's effective date comes from the ``config.policy`` audit event that
recorded this configuration's hash (``serve`` and ``scheduler`` record it at start-up).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from alpr_guard.cli.common import State


@click.group("policy")
def policy() -> None:
    """The published usage and privacy policy."""


@policy.command("render")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "pdf"]),
    default="html",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write here instead of standard output (required for pdf on a terminal).",
)
@click.pass_obj
def render(state: State, fmt: str, output: Path | None) -> None:
    """Render the usage and privacy policy from the configuration in force."""
    from alpr_guard.db import read_only_session
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.policy_document import build_policy, render_policy

    rt = build_runtime(state.settings)
    try:
        with read_only_session(rt.sessions) as session:
            data = render_policy(build_policy(session, rt), fmt)
    finally:
        rt.dispose()
    if output is not None:
        # A published document: readable by others, unlike the process's private files.
        output.write_bytes(data)
        output.chmod(0o644)
        click.echo(f"wrote {output} ({len(data)} bytes, {fmt})", err=True)
    elif fmt == "pdf" and sys.stdout.isatty():
        raise click.UsageError("refusing to write a PDF to a terminal; use --output FILE")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
