"""``alpr-guard import reads``: back-fill reads from an old system's export."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import click

from alpr_guard.api.parsing import parse_one_read
from alpr_guard.cli.common import State
from alpr_guard.jobs.importer import BATCH_SIZE, FORMATS, Progress

_YOUNG_THRESHOLD = 100_000  # allocations between young-generation collections


@click.group("import")
def import_group() -> None:
    """Bulk imports."""


def _progress(update: Progress) -> None:
    """One line on stderr, rewritten in place: rows, share of the file, rate, ETA."""
    done = update.bytes_read / update.bytes_total if update.bytes_total else 1.0
    rate = update.rows / update.elapsed if update.elapsed > 0 else 0.0
    eta = update.elapsed * (1 - done) / done if done > 0 else 0.0
    s = update.summary
    width = 24
    bar = "#" * int(done * width) + "-" * (width - int(done * width))
    sys.stderr.write(
        f"\r[{bar}] {done:6.1%} {update.rows:,} rows {rate:,.0f} rows/s ETA {eta:,.0f}s "
        f"(accepted {s.accepted:,}, duplicate {s.duplicates:,}, refused {s.refused_total:,})"
    )
    sys.stderr.flush()


@import_group.command("reads")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option(
    "--camera-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSON object or two-column CSV (source,camera_id): the old system's camera names to "
    "camera ids; rows of cameras it does not name are refused.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 50_000),
    default=BATCH_SIZE,
    show_default=True,
    help="Rows per transaction: each batch is stored whole or not at all.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the resumable position is kept (default: FILE.import-state.json).",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Refused rows: line, reason, field names; never a plate (default: FILE.rejects.csv).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def import_reads_command(
    state: State,
    file: Path,
    fmt: str,
    camera_map: Path | None,
    batch_size: int,
    state_path: Path | None,
    rejects: Path | None,
    quiet: bool,
) -> None:
    """Import reads from FILE; each batch is stored whole or not at all, and a stopped import
    resumes where it stopped. The summary (JSON) is the last line of output."""
    from alpr_guard.jobs.importer import import_reads, load_camera_map
    from alpr_guard.runtime import build_runtime

    mapping = load_camera_map(camera_map) if camera_map is not None else None
    rt = build_runtime(state.settings)
    # The process's long-lived objects (config, rules, metadata) out of the collector's reach:
    # full collections triggered by a million rows' allocations no longer walk them (two fifths
    # more rows per CPU second in a 30,000-row import: 26,700 against 18,500).
    gc.freeze()
    # A batch's rows, reads and insert tuples are tens of thousands of containers that live
    # until the batch commits, none in a cycle: at the default threshold (700) the young
    # generation is collected every few dozen rows and walks them each time. Collected every
    # 100,000 allocations instead, cycles are still found, sooner than a batch ends (1M-row CSV
    # import, two alternating runs each: 48.8 and 48.8 s against 49.8 and 50.0 s, RSS the same).
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, _YOUNG_THRESHOLD), middle, old)
    try:
        summary = import_reads(
            rt,
            file,
            fmt,
            camera_map=mapping,
            batch_size=batch_size,
            state_path=state_path,
            rejects_path=rejects,
            progress=None if quiet else _progress,
            parse_row=parse_one_read,
        )
    finally:
        gc.set_threshold(young, middle, old)
        rt.dispose()
    if not quiet:
        sys.stderr.write("\n")
    click.echo(
        f"imported {file.name}: {summary.accepted:,} accepted, {summary.duplicates:,} duplicate, "
        f"{summary.refused_total:,} refused of {summary.rows:,} rows "
        f"in {summary.seconds:.1f}s"
    )
    click.echo(json.dumps(summary.as_json()))
