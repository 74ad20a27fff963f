"""``alpr-guard report``: auditors' reports to a file, from the command line.

``report access`` writes the access-justification record (Civil Code 1798.90.52(a)) for a period,
streamed row by row with a progress bar (a long export never sits in memory); redacted for
release unless ``--full``. ``report summary`` writes the compliance summary. Each pull is an
audit event by the actor ``cli`` of the operating agency, committed before the first row is
written.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import runtime_session
from alpr_guard.vocabulary import Outcome

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from alpr_guard.cli.common import State
    from alpr_guard.services.reports import AccessRow

PROGRESS_STEP = 1000


def _when(value: str, hint: str) -> datetime:
    from alpr_guard.schemas import parse_datetime

    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def _ticking(rows: Iterable[AccessRow], bar: ProgressBar[int]) -> Iterator[AccessRow]:
    """Advance the bar every PROGRESS_STEP rows: rendering per row would cost more than the row."""
    pending = 0
    for row in rows:
        yield row
        pending += 1
        if pending == PROGRESS_STEP:
            bar.update(pending)
            pending = 0
    bar.update(pending)


def _target(out: Path) -> None:
    """Refuse a path that cannot be written before the pull is put on the record."""
    folder = out.parent if str(out.parent) else Path()
    if not folder.is_dir():
        raise click.BadParameter(
            f"the folder {folder} does not exist (create it, or choose another path)",
            param_hint="--out",
        )


@click.group("report")
def report() -> None:
    """Auditors' reports: the access-justification record and the compliance summary."""


@report.command("access")
@click.option("--from", "since", required=True, help="Start, ISO 8601 with a timezone.")
@click.option("--to", "until", required=True, help="End (exclusive), ISO 8601 with a timezone.")
@click.option(
    "--format", "fmt", type=click.Choice(("csv", "json", "html")), default="csv", show_default=True
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write.",
)
@click.option("--user", "username", default=None, help="Only this username.")
@click.option("--agency", default=None, help="Only users of this agency (ORI).")
@click.option("--purpose", default=None, help="Only this purpose code.")
@click.option("--outcome", type=click.Choice([o.value for o in Outcome]), default=None)
@click.option(
    "--full",
    is_flag=True,
    help="Decrypt the plates used to query (not for release; recorded as report.access_full).",
)
@click.pass_obj
def report_access(
    state: State,
    since: str,
    until: str,
    fmt: str,
    out: Path,
    username: str | None,
    agency: str | None,
    purpose: str | None,
    outcome: str | None,
    full: bool,
) -> None:
    """Write the access-justification report for a period (redacted unless --full)."""
    from alpr_guard.services.reports import (
        ReportFilter,
        count_access_rows,
        iter_access_rows,
        record_report_access,
        render_access_html,
        report_meta,
        write_csv,
        write_json,
    )

    _target(out)
    filters = ReportFilter(
        since=_when(since, "--from"),
        until=_when(until, "--to"),
        username=username,
        agency=agency,
        purpose=purpose,
        outcome=outcome,
    )
    # A full export decrypts plates: it names a person, never only an account of the machine.
    actor = state.actor(state.settings.instance.operating_agency, named=full)
    with runtime_session(state) as (rt, session):
        matching = count_access_rows(session, filters)
        record_report_access(session, rt, actor, filters, full, fmt, matching=matching)
        session.commit()  # the pull is on the record before a row is written
        generated_at = rt.clock.now()
        rows = iter_access_rows(session, rt, filters, full=full, release_between_pages=True)
        with (
            out.open("w", encoding="utf-8", newline="") as fh,
            click.progressbar(
                length=matching,
                label=f"access report ({matching} records)",
                file=sys.stderr,
            ) as bar,
        ):
            ticking = _ticking(rows, bar)
            if fmt == "csv":
                write_csv(ticking, fh, full=full)
            elif fmt == "json":
                meta = report_meta(filters, full=full, generated_at=generated_at)
                write_json(ticking, fh, full=full, meta=meta)
            else:
                fh.writelines(
                    render_access_html(ticking, filters, full=full, generated_at=generated_at)
                )
    form = "FULL (plates decrypted)" if full else "redacted"
    click.echo(f"wrote {matching} access records ({form}, {fmt}) to {out}")


@report.command("summary")
@click.option("--from", "since", required=True, help="Start, ISO 8601 with a timezone.")
@click.option("--to", "until", required=True, help="End (exclusive), ISO 8601 with a timezone.")
@click.option(
    "--format", "fmt", type=click.Choice(("json", "html")), default="json", show_default=True
)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path)
)
@click.pass_obj
def report_summary(state: State, since: str, until: str, fmt: str, out: Path) -> None:
    """Write the compliance summary for a period (JSON, or an HTML page with charts)."""
    import json

    from alpr_guard.errors import ValidationError
    from alpr_guard.services.reports import (
        compliance_summary,
        record_summary_access,
        render_summary_html,
        summary_json,
    )

    _target(out)
    start, end = _when(since, "--from"), _when(until, "--to")
    if start >= end:
        raise ValidationError({"--to": "must be after --from"})
    actor = state.actor(state.settings.instance.operating_agency)
    with runtime_session(state) as (rt, session):
        summary = compliance_summary(session, rt, start, end)
        record_summary_access(session, rt, actor, start, end, fmt)
        session.commit()
    text = (
        json.dumps(summary_json(summary), indent=2, ensure_ascii=False) + "\n"
        if fmt == "json"
        else render_summary_html(summary)
    )
    out.write_text(text, encoding="utf-8")
    state_word = "ok" if summary.chain.ok else "BROKEN"
    click.echo(
        f"wrote compliance summary ({fmt}) to {out}: {summary.searches_total} searches, "
        f"{summary.past_window} reads past their window, audit chain {state_word}"
    )
