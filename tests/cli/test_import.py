"""Bulk import: formats, refusals by reason, reject file without plates, resuming, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from alpr_guard.api.parsing import parse_one_read, parse_search_request
from alpr_guard.jobs import importer
from alpr_guard.jobs.importer import ImportSummary, Progress
from alpr_guard.models import AuditEvent, DataKeyRecord, PlateRead
from alpr_guard.runtime import Runtime
from alpr_guard.services.search import find_reads
from tests.conftest import NOW, OPERATING_ORI, write_config


def import_reads_(rt: Runtime, path: Path, fmt: str, **options: Any) -> ImportSummary:
    """The service as the CLI calls it: rows checked by the wire layer's read parser."""
    return importer.import_reads(rt, path, fmt, parse_row=parse_one_read, **options)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendors"
DAY = (NOW - timedelta(days=1)).isoformat()
HEADER = "plate,observed_at,camera_id,plate_state,latitude,longitude,confidence,client_read_id\n"


def stored(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(PlateRead)) or 0


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(row + "\n" for row in rows))
    return path


def test_csv_import_counts_accepted_duplicate_and_refused_by_reason(
    rt: Runtime, tmp_path: Path
) -> None:
    old = (NOW - timedelta(days=61)).isoformat()
    future = (NOW + timedelta(days=1)).isoformat()
    source = write_csv(
        tmp_path / "export.csv",
        [
            f"7ABC123,{DAY},cam-1,ca,37.1,-122.2,91,r-1",
            f"8XYZ999,{DAY},cam-2,,,,0.5,r-2",
            f"7ABC123,{DAY},cam-1,ca,37.1,-122.2,91,r-1",  # the same read twice: a duplicate
            f"5BAD#1X,{DAY},cam-1,,,,,r-3",  # not a plate
            f"6OLD000,{old},cam-1,,,,,r-4",  # already past the 60-day window
            f"9FUT000,{future},cam-1,,,,,r-5",  # from the future
            f"4NOC000,{DAY},,,,,,r-6",  # no camera
            f"3LAT000,{DAY},cam-1,,91,10,,r-7",  # latitude out of range
        ],
    )
    updates: list[Progress] = []
    summary = import_reads_(
        rt, source, "csv", batch_size=3, progress=updates.append, progress_every=0
    )
    assert (summary.rows, summary.accepted, summary.duplicates) == (8, 2, 1)
    assert dict(summary.refused) == {"invalid": 3, "past_retention": 1, "in_future": 1}
    assert stored(rt) == 2
    assert updates and updates[-1].bytes_read == updates[-1].bytes_total
    rejects = (tmp_path / "export.csv.rejects.csv").read_text()
    lines = rejects.splitlines()
    assert lines[0] == "line,reason,fields"
    assert {line.split(",")[1] for line in lines[1:]} == {"invalid", "past_retention", "in_future"}
    assert "5,invalid,plate" in rejects and "9,invalid,latitude" in rejects
    for plate in ("7ABC123", "8XYZ999", "5BAD", "6OLD000", "9FUT000", "4NOC000", "3LAT000"):
        assert plate not in rejects
    # Finished: no state left behind, and the import is on the record (counts only).
    assert not (tmp_path / "export.csv.import-state.json").exists()
    with rt.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "reads.imported")).one()
        ingested = session.scalars(
            select(AuditEvent.details).where(AuditEvent.kind == "reads.ingested")
        ).all()
    assert json.loads(event.details)["accepted"] == 2
    assert "7ABC123" not in event.details
    assert all(json.loads(d)["source"] == "import:csv" for d in ingested)
    # Imported reads are found like any other: normalised and encrypted by the same service.
    with rt.sessions() as session:
        found = find_reads(
            session,
            rt,
            parse_search_request(
                {
                    "plate": "7abc-123",
                    "from": (NOW - timedelta(days=2)).isoformat(),
                    "to": NOW.isoformat(),
                    "purpose": "stolen_vehicle",
                    "justification": "x",
                },
                100,
            ),
        )
    assert [(r.plate_state, r.confidence) for r in found] == [("CA", 0.91)]


def test_rows_of_a_destroyed_day_and_of_the_wrong_width_are_refused(
    rt: Runtime, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "first.csv", [f"7ABC123,{DAY},cam-1,,,,,a-1"])
    assert import_reads_(rt, first, "csv").accepted == 1
    with rt.sessions.begin() as session:
        # As if the purge had shredded that day (an insider back-filling into it after).
        session.execute(
            update(DataKeyRecord).where(DataKeyRecord.key_id.like("day-%")).values(destroyed_at=NOW)
        )
    other_day = (NOW - timedelta(days=3)).isoformat()
    second = write_csv(
        tmp_path / "second.csv",
        [f"8XYZ999,{DAY},cam-1,,,,,a-2", f"9QRS111,{other_day},cam-1,,,,,a-3", "1AAA111,x"],
    )
    summary = import_reads_(rt, second, "csv")
    assert summary.accepted == 1
    assert dict(summary.refused) == {"period_destroyed": 1, "wrong_column_count": 1}
    assert stored(rt) == 2
    rejects = (tmp_path / "second.csv.rejects.csv").read_text()
    assert "2,period_destroyed,observed_at" in rejects and "4,wrong_column_count,line" in rejects
    assert "8XYZ999" not in rejects


def test_import_resumes_after_the_last_committed_batch(rt: Runtime, tmp_path: Path) -> None:
    rows = [f"7ABC{n:03d},{DAY},cam-1,,,,," for n in range(10)]  # no client ids
    source = write_csv(tmp_path / "big.csv", rows)
    state = tmp_path / "big.csv.import-state.json"
    first = import_reads_(rt, source, "csv", batch_size=3, stop_after_batches=2)
    assert (first.rows, first.accepted) == (6, 6)
    assert json.loads(state.read_text())["rows"] == 6
    resumed = import_reads_(rt, source, "csv", batch_size=3)
    assert resumed.resumed_at_row == 6
    assert (resumed.rows, resumed.accepted, resumed.duplicates) == (10, 10, 0)
    assert stored(rt) == 10
    # A crash after a commit but before the state file was written: the rows come again
    # (here: the whole file), and are recognised as the same reads, never stored twice.
    again = import_reads_(rt, source, "csv", batch_size=3)
    assert (again.accepted, again.duplicates) == (0, 10)
    assert stored(rt) == 10


def test_state_of_another_file_is_refused(rt: Runtime, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "a.csv", [f"7ABC{n:03d},{DAY},cam-1,,,,," for n in range(4)])
    import_reads_(rt, source, "csv", batch_size=2, stop_after_batches=1)
    source.write_text(source.read_text() + f"7ZZZ999,{DAY},cam-1,,,,,\n")
    with pytest.raises(Exception, match="another file"):
        import_reads_(rt, source, "csv", batch_size=2)


def test_jsonl_and_camera_map(rt: Runtime, tmp_path: Path) -> None:
    source = tmp_path / "reads.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps({"plate": "7ABC123", "observed_at": DAY, "camera_id": "Main St"}),
                json.dumps({"plate": "8XYZ999", "observed_at": DAY, "camera_id": "Elm St"}),
                json.dumps({"plate": "9QRS111", "observed_at": DAY, "camera_id": "unknown"}),
                "not json",
                "[1, 2]",
            ]
        )
        + "\n"
    )
    summary = import_reads_(
        rt, source, "jsonl", camera_map={"Main St": "cam-main", "Elm St": "cam-elm"}
    )
    assert summary.accepted == 2
    assert dict(summary.refused) == {"camera_not_in_map": 1, "not_json": 1, "not_an_object": 1}
    with rt.sessions() as session:
        assert set(session.scalars(select(PlateRead.camera_id))) == {"cam-main", "cam-elm"}


def test_plate_recognizer_csv_sample(rt: Runtime, tmp_path: Path) -> None:
    sample = (FIXTURES / "platerecognizer_stream.csv").read_text()
    # The sample's frames are from 2021: move them to the test clock's day.
    source = tmp_path / "stream.csv"
    source.write_text(sample.replace("2021-10-27", DAY[:10]))
    summary = import_reads_(rt, source, "plate-recognizer-csv")
    assert (summary.accepted, summary.refused_total) == (2, 0)
    with rt.sessions() as session:
        rows = session.execute(
            select(PlateRead.camera_id, PlateRead.plate_state, PlateRead.confidence)
        ).all()
    assert sorted((c, s or "-", conf) for c, s, conf in rows) == [
        ("camera-1", "-", 0.781),
        ("camera-1", "CA", 0.902),
    ]
    again = import_reads_(rt, source, "plate-recognizer-csv")
    assert again.duplicates == 2


def test_cli_import_prints_progress_and_summary(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", f"sqlite:///{tmp_path / 'cli.db'}")
    env = {**os.environ, "PYTHONWARNINGS": "error"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alpr_guard", "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )

    assert run("db", "upgrade").returncode == 0
    added = run(
        "agencies", "add", "--ori", OPERATING_ORI, "--name", "Test City PD",
        "--kind", "local", "--jurisdiction", "CA", "--vetted",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    today = datetime.now(UTC) - timedelta(hours=1)
    source = write_csv(
        tmp_path / "export.csv",
        [f"7ABC{n:03d},{today.isoformat()},cam-1,,,,," for n in range(25)]
        + [f"BAD#PLATE,{today.isoformat()},cam-1,,,,,"],
    )
    result = run("import", "reads", str(source), "--format", "csv", "--batch-size", "10")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["accepted"], summary["refused"], summary["rows"]) == (25, 1, 26)
    assert "rows/s" in result.stderr and "ETA" in result.stderr
    assert "BAD#PLATE" not in result.stdout + result.stderr
    assert "BAD#PLATE" not in (tmp_path / "export.csv.rejects.csv").read_text()
