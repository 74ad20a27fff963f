"""Bulk import of reads from an old system: CSV, JSON Lines, or Plate Recognizer Stream's CSV.

The file is read as a stream, batch by batch; each batch is one transaction through the same
ingest service as the API (``record_reads``: normalisation, encryption, blind index, replay
rule, retention class and expiry, one ``reads.ingested`` event), so a batch is stored whole or
not at all. After each commit the position (rows done, counts so far) is written to a state
file; a run stopped at any point resumes after the last committed batch, and never stores a
row twice. A row that cannot be stored is refused on its own, not with its batch: it is
counted by reason and written to the reject file as its line number, reason and field names,
never its plate. A read already past its retention window is refused (``past_retention``) and
never stored, as the API would.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.db import WRITE_WAIT_MS
from alpr_guard.errors import NotFound, ValidationError
from alpr_guard.models import Agency
from alpr_guard.runtime import Runtime
from alpr_guard.services.ingest import record_reads
from alpr_guard.services.principals import Principal
from alpr_guard.services.requests import ReadIn
from alpr_guard.vocabulary import AuditKind

FORMATS = ("csv", "jsonl", "plate-recognizer-csv")
IMPORT_ACTOR = "system:import"
NUMERIC = frozenset({"latitude", "longitude", "confidence"})
CSV_COLUMNS = frozenset(
    {
        "plate",
        "observed_at",
        "camera_id",
        "plate_state",
        "latitude",
        "longitude",
        "confidence",
        "client_read_id",
        "hit_list",
        "hit_entry",
    }
)
_PR_REGION = re.compile(r"""['"]code['"]\s*:\s*['"]([A-Za-z-]*)['"]""")
_PR_CAMERA = re.compile(r"/?([^/]+)_screenshots/")
STATE_VERSION = 1
# Rows per transaction. Each commit writes every index page its batch changed, and a read's
# blind index and expiry land on pages all over their indexes: at a million stored reads a
# 5,000-row batch rewrote most of those pages for a quarter of the rows a 20,000-row one did
# (a 1M-row CSV import's commits took 21-22 s against 8-10 s). 10,000 keeps most of that gain
# (commits 13-15 s, the whole import 15-20% faster than at 5,000 in two alternating runs) within
# the 150 MB the import's memory is held to (peak RSS 118 MB at 5,000, 132 MB at 10,000, 146 MB
# at 20,000).
BATCH_SIZE = 10_000


# Checks one row as the wire layer checks a read; ValidationError names the bad fields.
RowParser = Callable[[object, str], ReadIn]


@dataclass
class ImportSummary:
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    resumed_at_row: int = 0
    seconds: float = 0.0

    @staticmethod
    def resumed(saved: Mapping[str, Any]) -> ImportSummary:
        rows = int(saved["rows"])
        return ImportSummary(
            rows=rows,
            accepted=int(saved["accepted"]),
            duplicates=int(saved["duplicates"]),
            refused=Counter(saved["refused"]),
            batches=int(saved["batches"]),
            resumed_at_row=rows,
        )

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    def as_json(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "refused": self.refused_total,
            "refused_by_reason": dict(sorted(self.refused.items())),
            "batches": self.batches,
            "resumed_at_row": self.resumed_at_row,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows / self.seconds) if self.seconds else None,
        }


@dataclass(frozen=True)
class Progress:
    rows: int
    bytes_read: int
    bytes_total: int
    elapsed: float
    summary: ImportSummary


class Row(NamedTuple):
    """A tuple, not a dataclass: one is made per row of the file (a frozen dataclass's
    ``__init__`` cost a tenth of the CSV reader's time)."""

    line: int  # 1-based line (or record) number in the file, for the reject file
    raw: dict[str, Any] | None  # the native read object; None when the row could not be read
    problem: tuple[str, str] | None = None  # (reason, field) when raw is None


# -- readers: one native read object per row ------------------------------------------------


class _Counting(io.RawIOBase):
    """A binary file that counts the bytes read from it (progress by bytes: the row count of
    a 1 GB file is not known until it is read)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def _number(value: str) -> object:
    try:
        return float(value)
    except ValueError:
        return value  # the parser names the field


def read_csv(text: IO[str], camera_map: Mapping[str, str] | None) -> Iterator[Row]:
    reader = csv.reader(text)
    header = next(reader, [])
    missing = {"plate", "observed_at", "camera_id"} - set(header)
    if missing:
        raise ValidationError(
            {f"header.{name}": "is a required column" for name in sorted(missing)}
        )
    # (position, name, converts to a number) of the columns a read takes; others are ignored.
    columns = [(i, name, name in NUMERIC) for i, name in enumerate(header) if name in CSV_COLUMNS]
    width = len(header)
    hits = "hit_list" in header or "hit_entry" in header
    for record in reader:
        line = reader.line_num
        if len(record) != width:
            yield Row(line, None, ("wrong_column_count", "line"))
            continue
        raw: dict[str, Any] = {}
        for i, name, numeric in columns:
            value = record[i]
            if value:
                raw[name] = _number(value) if numeric else value
        if hits and ("hit_list" in raw or "hit_entry" in raw):
            raw["hit"] = {"list": raw.pop("hit_list", None), "entry": raw.pop("hit_entry", None)}
        yield Row(line, raw) if camera_map is None else _mapped(line, raw, camera_map)


def read_jsonl(text: IO[str], camera_map: Mapping[str, str] | None) -> Iterator[Row]:
    for line, content in enumerate(text, start=1):
        if not content.strip():
            continue
        try:
            raw = json.loads(content)
        except ValueError:
            yield Row(line, None, ("not_json", "line"))
            continue
        if not isinstance(raw, dict):
            yield Row(line, None, ("not_an_object", "line"))
            continue
        yield _mapped(line, raw, camera_map)


def read_plate_recognizer_csv(text: IO[str], camera_map: Mapping[str, str] | None) -> Iterator[Row]:
    """Stream's CSV output: ``timestamp, plate, score, file, region, ...``. The camera is the
    directory Stream names after it (``<camera>_screenshots/``), unless the camera map says
    otherwise; the region is the US state of ``us-xx`` codes; the replay id is the timestamp
    and the row's place among the plates of that frame (never the plate)."""
    reader = csv.DictReader(text)
    missing = {"timestamp", "plate", "file"} - set(reader.fieldnames or ())
    if missing:
        raise ValidationError(
            {f"header.{name}": "is a required column" for name in sorted(missing)}
        )
    last_stamp, nth = None, 0
    for record in reader:
        line = reader.line_num
        stamp = record.get("timestamp") or ""
        nth = nth + 1 if stamp == last_stamp else 0
        last_stamp = stamp
        found = _PR_CAMERA.search(record.get("file") or "")
        raw: dict[str, Any] = {
            "plate": record.get("plate") or None,
            # Stream writes "2021-10-27 06:20:43.970337+00:00": ISO 8601 with a space.
            "observed_at": stamp.replace(" ", "T", 1) if stamp else None,
            "camera_id": found.group(1) if found else None,
            "client_read_id": f"pr:{stamp.replace(' ', 'T', 1)}#{nth}" if stamp else None,
        }
        if record.get("score"):
            raw["confidence"] = _number(record["score"])
        region = _PR_REGION.search(record.get("region") or "")
        if region and region.group(1).lower().startswith("us-"):
            raw["plate_state"] = region.group(1)[3:].upper()
        yield _mapped(line, {k: v for k, v in raw.items() if v is not None}, camera_map)


def _mapped(line: int, raw: dict[str, Any], camera_map: Mapping[str, str] | None) -> Row:
    if camera_map is not None:
        camera = raw.get("camera_id")
        if not isinstance(camera, str) or camera not in camera_map:
            return Row(line, None, ("camera_not_in_map", "camera_id"))
        raw["camera_id"] = camera_map[camera]
    return Row(line, raw)


READERS: dict[str, Callable[[IO[str], Mapping[str, str] | None], Iterator[Row]]] = {
    "csv": read_csv,
    "jsonl": read_jsonl,
    "plate-recognizer-csv": read_plate_recognizer_csv,
}


def load_camera_map(path: Path) -> dict[str, str]:
    """A JSON object ``{"old name": "camera id"}`` or a two-column CSV ``source,camera_id``."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise ValidationError({"camera_map": "must be a JSON object of strings"})
        return dict(data)
    out = {}
    for i, row in enumerate(csv.reader(io.StringIO(text))):
        if not row or (i == 0 and row[:2] == ["source", "camera_id"]):
            continue
        if len(row) != 2:
            raise ValidationError({f"camera_map[{i + 1}]": "must have two columns"})
        out[row[0].strip()] = row[1].strip()
    return out


# -- the state file ------------------------------------------------------------------------


def fingerprint(path: Path) -> str:
    """The file's identity for resuming: its size and the hash of its first 64 KiB."""
    with path.open("rb") as f:
        head = f.read(65536)
    return f"{path.stat().st_size}:{hashlib.sha256(head).hexdigest()[:32]}"


def _load_state(state: Path, path: Path, fmt: str) -> dict[str, Any] | None:
    if not state.exists():
        return None
    saved = json.loads(state.read_text())
    if saved.get("fingerprint") != fingerprint(path) or saved.get("format") != fmt:
        raise ValidationError(
            {"state": "belongs to another file or format; remove it to import from the start"}
        )
    return dict(saved)


def _save_state(state: Path, data: Mapping[str, Any]) -> None:
    tmp = state.with_name(state.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, state)


# -- the run -------------------------------------------------------------------------------


def _principal(session: Session, rt: Runtime) -> Principal:
    ori = rt.settings.instance.operating_agency
    agency_id = session.scalar(select(Agency.id).where(Agency.ori == ori))
    if agency_id is None:
        raise NotFound(f"the operating agency {ori} is not in the registry")
    return Principal(
        user_id=0, username=IMPORT_ACTOR, role="ingest", agency_id=agency_id, agency_ori=ori
    )


class _Rejects:
    """The reject file: line, reason, field names. Never a value: a value may be a plate."""

    def __init__(self, path: Path, append: bool) -> None:
        new = not append or not path.exists()
        self._file = path.open("a" if append else "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        if new:
            self._writer.writerow(["line", "reason", "fields"])

    def add(self, line: int, reason: str, fields: str) -> None:
        self._writer.writerow([line, reason, fields])

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _reason(why: str) -> str:
    if "retention window" in why:
        return "past_retention"
    if "in the future" in why:
        return "in_future"
    if "destroyed" in why:
        return "period_destroyed"
    return "invalid"


def import_reads(
    rt: Runtime,
    path: Path,
    fmt: str,
    *,
    camera_map: Mapping[str, str] | None = None,
    batch_size: int = BATCH_SIZE,
    state_path: Path | None = None,
    rejects_path: Path | None = None,
    progress: Callable[[Progress], None] | None = None,
    progress_every: float = 1.0,
    stop_after_batches: int | None = None,
    parse_row: RowParser,
) -> ImportSummary:
    """Import ``path``; resumes from ``state_path`` if a previous run left one. ``parse_row``
    checks one row as the wire layer checks a read (the same rules as ``POST /reads``)."""
    if fmt not in READERS:
        raise ValidationError({"format": f"must be one of {', '.join(FORMATS)}"})
    state_path = state_path or path.with_name(path.name + ".import-state.json")
    rejects_path = rejects_path or path.with_name(path.name + ".rejects.csv")
    saved = _load_state(state_path, path, fmt)
    summary = ImportSummary.resumed(saved) if saved is not None else ImportSummary()
    skip = summary.resumed_at_row
    rejects = _Rejects(rejects_path, append=saved is not None)
    with rt.sessions() as session:
        principal = _principal(session, rt)
    started = time.monotonic()
    last_report = started
    total = path.stat().st_size
    source = f"import:{fmt}"
    file_id = fingerprint(path).split(":")[1][:16]
    try:
        with path.open("rb") as binary:
            counting = _Counting(binary)
            text = io.TextIOWrapper(
                io.BufferedReader(counting, 1 << 20), encoding="utf-8-sig", newline=""
            )
            rows = READERS[fmt](text, camera_map)
            batch: list[Row] = []
            seen = 0
            for row in rows:
                seen += 1
                if seen <= skip:
                    continue
                batch.append(row)
                if len(batch) >= batch_size:
                    _commit_batch(
                        rt, principal, batch, summary, rejects, source, file_id, parse_row
                    )
                    _save_state(state_path, _state(path, fmt, summary))
                    batch = []
                    now = time.monotonic()
                    if progress is not None and now - last_report >= progress_every:
                        last_report = now
                        progress(
                            Progress(summary.rows, counting.count, total, now - started, summary)
                        )
                    if stop_after_batches is not None and summary.batches >= stop_after_batches:
                        return summary
            if batch:
                _commit_batch(rt, principal, batch, summary, rejects, source, file_id, parse_row)
                _save_state(state_path, _state(path, fmt, summary))
    finally:
        rejects.close()
        summary.seconds = time.monotonic() - started
    if progress is not None:
        progress(Progress(summary.rows, total, total, summary.seconds, summary))
    with rt.sessions.begin() as session:
        rt.audit.append(
            session,
            AuditKind.READS_IMPORTED,
            Actor(IMPORT_ACTOR, principal.agency_ori),
            details={"file": path.name, "format": fmt, **summary.as_json()},
        )
    state_path.unlink(missing_ok=True)  # finished: a new run starts from the beginning
    return summary


def _state(path: Path, fmt: str, summary: ImportSummary) -> dict[str, Any]:
    return {
        "version": STATE_VERSION,
        "file": str(path),
        "format": fmt,
        "fingerprint": fingerprint(path),
        "rows": summary.rows,
        "accepted": summary.accepted,
        "duplicates": summary.duplicates,
        "refused": dict(summary.refused),
        "batches": summary.batches,
    }


def _commit_batch(
    rt: Runtime,
    principal: Principal,
    batch: list[Row],
    summary: ImportSummary,
    rejects: _Rejects,
    source: str,
    file_id: str,
    parse_row: RowParser,
) -> None:
    """Check each row; store the good ones in one transaction; refuse the rest."""
    rows = len(batch)
    good, lines, refused = _screen(rt, batch, file_id, parse_row)
    # The rows as read are not needed once checked: emptied before the store builds its own
    # copies of the reads (the caller's reference would otherwise keep them), they do not add
    # to the import's peak memory.
    batch.clear()
    _store(rt, principal, good, lines, refused, summary, source)
    for line, reason, names in sorted(refused):
        rejects.add(line, reason, names)
        summary.refused[reason] += 1
    rejects.flush()
    summary.rows += rows
    summary.batches += 1


def _screen(
    rt: Runtime, batch: list[Row], file_id: str, parse_row: RowParser
) -> tuple[list[ReadIn], list[int], list[tuple[int, str, str]]]:
    """The batch's storable reads (with their lines) and its refused rows.

    A row without a client read id gets one made of the file's fingerprint and its line, so
    that a batch committed just before a crash (and before the state file recorded it) is
    recognised as a replay when the import resumes, never stored twice."""
    now = rt.clock.now()
    retention = rt.settings.retention
    latest = now + timedelta(seconds=rt.settings.ingest.max_future_skew_seconds)
    oldest = {hit: now - timedelta(days=retention.read_window(hit).days) for hit in (False, True)}
    good: list[ReadIn] = []
    lines: list[int] = []
    refused: list[tuple[int, str, str]] = []
    for row in batch:
        if row.raw is None:
            assert row.problem is not None
            refused.append((row.line, *row.problem))
            continue
        if "client_read_id" not in row.raw:
            row.raw["client_read_id"] = f"import:{file_id}:{row.line}"
        try:
            read = parse_row(row.raw, "row")
        except ValidationError as exc:
            names = ";".join(sorted(k.removeprefix("row.") for k in exc.fields))
            refused.append((row.line, "invalid", names))
            continue
        if read.observed_at <= oldest[read.hit]:
            refused.append((row.line, "past_retention", "observed_at"))
        elif read.observed_at > latest:
            refused.append((row.line, "in_future", "observed_at"))
        else:
            good.append(read)
            lines.append(row.line)
    return good, lines, refused


def _store(
    rt: Runtime,
    principal: Principal,
    good: list[ReadIn],
    lines: list[int],
    refused: list[tuple[int, str, str]],
    summary: ImportSummary,
    source: str,
) -> None:
    while good:
        session = rt.sessions()
        try:
            session.connection(execution_options={WRITE_WAIT_MS: rt.settings.ingest.write_wait_ms})
            result = record_reads(session, rt, principal, good, source=source)
            session.commit()
        except ValidationError as exc:
            # A day whose key the purge destroyed: refuse those rows, store the others.
            session.rollback()
            bad = {
                int(k[6 : k.index("]")]): why
                for k, why in exc.fields.items()
                if k.startswith("reads[")
            }
            if not bad:
                raise
            for i in sorted(bad):
                refused.append((lines[i], _reason(bad[i]), "observed_at"))
            good = [r for i, r in enumerate(good) if i not in bad]
            lines = [n for i, n in enumerate(lines) if i not in bad]
            continue
        finally:
            session.close()
        summary.accepted += result.accepted
        summary.duplicates += result.duplicates
        return
