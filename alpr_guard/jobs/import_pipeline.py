"""The import's pipeline: the file's rows read and checked in a forked reader process while
the importer stores the batches before them.

Parsing, checking and the CSV reader take about a third of an import's CPU time; SQLite's
inserts, the encryption and the commits the rest. With a core to spare the two overlap; on a
busy machine the second process only competes with the first (see the CLI's ``--pipeline``).
The reader inherits the settings and the row parser through fork and touches no database.
"""

from __future__ import annotations

import csv
import multiprocessing
import signal
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from queue import Empty
from typing import Any

from alpr_guard.errors import ValidationError
from alpr_guard.policy.plates import Plate
from alpr_guard.services.requests import ReadIn


@dataclass(frozen=True)
class Screened:
    """One batch of the file, checked: its storable reads (with their lines), its refused
    rows, and how far into the file it ends."""

    rows: int
    good: list[ReadIn]
    lines: list[int]
    refused: list[tuple[int, str, str]]
    bytes_read: int


CAN_FORK = "fork" in multiprocessing.get_all_start_methods()
# Batches in flight between the reader and the store: enough to keep both busy, and memory
# flat (a few batches, whatever the file's size).
_PIPELINE_DEPTH = 2
_POLL_SECONDS = 0.5
# Exceptions whose messages name no value of the file (a plate never appears in an error).
_SAFE_MESSAGES = (UnicodeError, csv.Error, OSError)


def _read_fields(read: ReadIn) -> tuple[Any, ...]:
    """A ReadIn as plain values, in its fields' order: pickled several times faster than the
    dataclasses (the plate travels as its normalised text, between our own two processes)."""
    return (
        read.plate.value,
        read.observed_at,
        read.camera_id,
        read.plate_state,
        read.latitude,
        read.longitude,
        read.confidence,
        read.client_read_id,
        read.hit,
        read.hit_ref,
    )


def _reader_main(produce: Callable[[], Iterator[Screened]], queue: Any) -> None:
    """The reader process: every batch into ``queue``, then ("done",), or the reason it
    stopped. Ctrl-C is the parent's to handle: it stops this process itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for batch in produce():
            good = [_read_fields(read) for read in batch.good]
            queue.put(("batch", batch.rows, good, batch.lines, batch.refused, batch.bytes_read))
        queue.put(("done",))
    except ValidationError as exc:
        queue.put(("invalid", exc.fields))
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}" if isinstance(exc, _SAFE_MESSAGES) else None
        queue.put(("failed", why or type(exc).__name__))


def pipelined(produce: Callable[[], Iterator[Screened]]) -> Generator[Screened, None, None]:
    """``produce()``'s batches, made in a forked reader process while this process stores the
    ones before: parsing, checking and the CSV reader take about a third of an import's time,
    and SQLite's inserts and commits most of the rest. The child inherits the settings and
    the row parser and touches no database; the queue is bounded, so memory stays flat. The
    reader is stopped when this generator is closed: at the end, on an error, on Ctrl-C."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=_PIPELINE_DEPTH)
    reader = context.Process(target=_reader_main, args=(produce, queue), daemon=True)
    reader.start()
    try:
        while True:
            try:
                item = queue.get(timeout=_POLL_SECONDS)
            except Empty:
                if reader.is_alive():
                    continue
                try:
                    item = queue.get(timeout=_POLL_SECONDS)  # what it sent just before leaving
                except Empty:
                    raise ValidationError(
                        {"file": f"the reader process stopped (exit code {reader.exitcode})"}
                    ) from None
            kind = item[0]
            if kind == "done":
                return
            if kind == "invalid":
                raise ValidationError(item[1])
            if kind == "failed":
                raise ValidationError({"file": f"could not be read ({item[1]})"})
            _, rows, good, lines, refused, bytes_read = item
            reads = [ReadIn(Plate(fields[0]), *fields[1:]) for fields in good]
            yield Screened(rows, reads, lines, refused, bytes_read)
    finally:
        if reader.is_alive():
            reader.terminate()
        reader.join()
        queue.close()
