"""Crash safety and crypto-shredding of the purge (issue #3).

* A purge killed with SIGKILL mid-run is finished by the next run, whose receipt still counts
  every row the killed run deleted (progress is committed with each batch).
* A crash after keys are marked destroyed but before the key store forgets them is finished
  by the next run.
* A copy of the database (file and WAL) taken before a purge yields, with the current key
  store and master key, zero expired plates and zero index links after it; its unexpired and
  held rows still decrypt (the control).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text

from alpr_guard.audit import verify_chain
from alpr_guard.clock import FixedClock
from alpr_guard.crypto import KeyRing
from alpr_guard.db import read_only_session
from alpr_guard.errors import KeyUnavailable
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.keystore import FileKeyStore
from alpr_guard.models import AuditEvent, PlateRead, PurgeRun
from alpr_guard.policy.plates import Plate
from alpr_guard.runtime import Runtime, build_runtime
from alpr_guard.services.requests import SearchRequest
from alpr_guard.services.sealed_reads import read_aad
from alpr_guard.services.search import find_reads
from alpr_guard.settings import load_settings
from tests.conftest import REPO, auth, read, write_config


def _ingest(client: FlaskClient, token: str, reads: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for start in range(0, len(reads), 1000):
        response = client.post(
            "/api/v1/reads", json={"reads": reads[start : start + 1000]}, headers=auth(token)
        )
        assert response.status_code == 201, response.get_json()
        ids.extend(response.get_json()["ids"])
    return ids


def _count(rt: Runtime) -> int:
    with read_only_session(rt.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(PlateRead)) or 0)


def _kill_a_purge_mid_run(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock, tmp_path: Path
) -> tuple[Path, datetime, datetime, int]:
    """Ingest reads that really expired ten days ago, start ``alpr-guard purge`` in a real
    process, SIGKILL it after a few committed batches. Returns (config, real now, the reads'
    time, how many were ingested)."""
    # The CLI runs on the real clock: make reads that really expired ten days ago.
    real_now = datetime.now(UTC)
    clock.set(real_now - timedelta(days=70))
    observed = clock.now() - timedelta(hours=2)
    total = 20_000
    _ingest(
        client,
        tokens["ingest"],
        [
            read(plate=f"K{n:06d}", at=(observed + timedelta(milliseconds=n)).isoformat())
            for n in range(total)
        ],
    )
    assert _count(rt) == total
    # Tiny batches, so the run lasts long enough to be killed in the middle of it.
    config = write_config(
        tmp_path / "cfg",
        rt.settings.database.url,
        extra="[purge]\nmax_batch_ms = 10\nlease_seconds = 60\n",
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "alpr_guard", "--config", str(config), "purge"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    watcher = create_engine(rt.settings.database.url)
    try:
        deadline = time.monotonic() + 60
        batches = 0
        while batches < 3 and time.monotonic() < deadline and process.poll() is None:
            with watcher.connect() as conn:
                batches = conn.execute(
                    text("SELECT coalesce(max(batches), 0) FROM purge_runs")
                ).scalar_one()
            time.sleep(0.005)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        watcher.dispose()
        if process.stderr:
            process.stderr.close()
    return config, real_now, observed, total


def test_a_purge_killed_mid_run_is_finished_by_the_next(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    config, real_now, observed, total = _kill_a_purge_mid_run(client, tokens, rt, clock, tmp_path)
    left = _count(rt)
    assert 0 < left < total, "the kill should land in the middle of the run"
    with read_only_session(rt.sessions) as session:
        killed = session.execute(
            select(PurgeRun.id, PurgeRun.status, PurgeRun.deleted_unmatched)
        ).one()
    assert killed.status == "deleting"
    assert killed.deleted_unmatched == total - left  # progress committed with each batch

    # The next run (after the dead holder's lease lapsed) finishes the job under the same run.
    later = build_runtime(load_settings(config), clock=FixedClock(real_now + timedelta(hours=1)))
    try:
        receipt = purge_expired(later, trigger="test")
        assert receipt.run_id == killed.id
        assert receipt.resumed == 1
        assert dict(receipt.deleted_by_class) == {"unmatched": total, "hit": 0}
        day = f"day-{observed.date().isoformat()}"
        assert day in receipt.keys_destroyed
        assert later.keyring.store.get(day) is None
        assert _count(later) == 0
        with read_only_session(later.sessions) as session:
            assert (
                session.scalar(select(func.count()).where(AuditEvent.kind == "purge.completed"))
                == 1
            )
            assert verify_chain(session, later.keyring).ok
    finally:
        later.dispose()


def test_a_rerun_right_after_a_kill_resumes_the_run_instead_of_waiting_for_the_lease(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    """kill -9, then at once the CLI again, on the real clock: the dead holder ran on this host
    and its process is gone, so its lease (60 s) is no obstacle: no exit 3, the run resumes."""
    config, _, observed, total = _kill_a_purge_mid_run(client, tokens, rt, clock, tmp_path)
    killed_at = time.monotonic()
    with read_only_session(rt.sessions) as session:
        lease_until = session.scalar(text("SELECT expires_at FROM leases WHERE name = 'purge'"))
        killed = session.execute(select(PurgeRun.id, PurgeRun.status)).one()
    assert lease_until is not None and killed.status == "deleting"
    rerun = subprocess.run(
        [sys.executable, "-m", "alpr_guard", "--config", str(config), "purge", "--json"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert time.monotonic() - killed_at < 60  # within a minute of the kill, lease unexpired
    receipt = json.loads(rerun.stdout)
    assert receipt["run_id"] == str(killed.id)
    assert receipt["resumed"] == 1
    assert receipt["deleted_by_class"] == {"unmatched": total, "hit": 0}
    assert f"day-{observed.date().isoformat()}" in receipt["keys_destroyed"]
    assert _count(rt) == 0


def test_a_crash_between_marking_and_destroying_keys_is_finished_by_the_next_run(
    client: FlaskClient,
    tokens: dict[str, str],
    rt: Runtime,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    observed = clock.now() - timedelta(hours=1)
    _ingest(client, tokens["ingest"], [read(at=observed.isoformat())])
    clock.set(datetime.combine(observed.date(), datetime.min.time(), UTC) + timedelta(days=61))
    day = f"day-{observed.date().isoformat()}"

    def crash(self: FileKeyStore, key_id: str) -> bool:
        raise SystemExit("simulated crash")

    monkeypatch.setattr(FileKeyStore, "destroy", crash)
    with pytest.raises(SystemExit):
        purge_expired(rt, trigger="test")
    assert rt.keyring.store.get(day) is not None  # the store still holds it...
    with read_only_session(rt.sessions) as session:
        run = session.execute(select(PurgeRun.id, PurgeRun.status)).one()
    assert run.status == "shredding"  # ...but the database already marks it destroyed
    monkeypatch.undo()
    rt.keyring.forget(day)

    clock.advance(timedelta(hours=1))
    receipt = purge_expired(rt, trigger="test")
    assert receipt.run_id == run.id
    assert receipt.keys_destroyed == (day,)
    assert rt.keyring.store.get(day) is None


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_backup_taken_before_the_purge_yields_no_expired_plate(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    old = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
    clock.set(old + timedelta(hours=1))
    expired_ids = _ingest(
        client,
        tokens["ingest"],
        [read(plate=f"OLD{n:03d}", at=(old + timedelta(minutes=n)).isoformat()) for n in range(20)],
    )
    hit_id, held_id = _ingest(
        client,
        tokens["ingest"],
        [
            read(plate="HIT001", at=old.isoformat(), hit=True),
            read(plate="HELD01", at=old.isoformat()),
        ],
    )
    with rt.sessions.begin() as session:
        from alpr_guard.services.principals import issue_token

        supervisor = issue_token(session, rt, username="t-supervisor").token
    placed = client.post(
        "/api/v1/holds",
        json={
            "case_number": "26-1",
            "reason": "evidence",
            "read_ids": [held_id],
            "review_by": (clock.now() + timedelta(days=200)).isoformat(),
        },
        headers=auth(supervisor),
    )
    assert placed.status_code == 201
    clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    (recent_id,) = _ingest(
        client, tokens["ingest"], [read(plate="NEW001", at="2026-11-20T08:00:00+00:00")]
    )

    # The backup: database file and WAL, copied while nothing writes.
    db_file = Path(rt.settings.database.url.removeprefix("sqlite:///"))
    backup = tmp_path / "backup"
    backup.mkdir()
    for suffix in ("", "-wal"):
        source = Path(f"{db_file}{suffix}")
        if source.exists():
            shutil.copyfile(source, backup / f"{db_file.name}{suffix}")

    receipt = purge_expired(rt, trigger="test")
    assert receipt.deleted_by_class["unmatched"] == 20
    assert "day-2026-09-01" in receipt.keys_destroyed

    copy_engine = create_engine(f"sqlite:///{backup / db_file.name}")
    try:
        with copy_engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, key_id, plate_ct, observed_at, camera_id FROM plate_reads")
            ).all()
    finally:
        copy_engine.dispose()
    assert len(rows) == 23  # the copy still has every row, expired ones included
    keyring = KeyRing(_master(rt), FileKeyStore(rt.settings.keys.keystore_dir))
    opened: dict[str, bytes] = {}
    for read_id, key_id, blob, observed_at, camera in rows:
        rid = uuid.UUID(hex=read_id)
        at = datetime.fromisoformat(observed_at).replace(tzinfo=UTC)
        try:
            key = keyring.data_key(key_id)
            opened[str(rid)] = KeyRing.decrypt(key, blob, read_aad(rid, key_id, at, camera))
        except KeyUnavailable:
            continue
    assert not set(expired_ids) & set(opened), "an expired plate decrypted from the backup"
    assert opened[hit_id] == b"HIT001"  # the controls: unexpired and held rows still decrypt
    assert opened[held_id] == b"HELD01"
    assert opened[recent_id] == b"NEW001"
    # Zero index links: without the day key no token for that day can be computed, so a search
    # of the copy cannot link any expired row to a plate.
    with pytest.raises(KeyUnavailable):
        keyring.data_key("day-2026-09-01")
    copy_settings = dataclasses.replace(
        rt.settings,
        database=dataclasses.replace(
            rt.settings.database, url=f"sqlite:///{backup / db_file.name}"
        ),
    )
    # Searching the copy as of when its rows were all still within retention.
    copy_rt = build_runtime(copy_settings, clock=FixedClock(old + timedelta(days=2)))
    try:
        with read_only_session(copy_rt.sessions) as session:

            def search(plate: str) -> list[str]:
                request = SearchRequest(
                    plate=Plate(plate),
                    window_from=old - timedelta(days=1),
                    window_to=old + timedelta(days=1),
                    purpose="stolen_vehicle",
                    justification="x",
                )
                return [str(r.id) for r in find_reads(session, copy_rt, request)]

            assert search("OLD001") == []
            assert search("HELD01") == [held_id]
            assert search("HIT001") == [hit_id]
    finally:
        copy_rt.dispose()


def _master(rt: Runtime) -> bytes:
    from alpr_guard.keystore import read_master_key

    return read_master_key(
        rt.settings.keys.master_key_file, rt.settings.keys.master_key_env, "test"
    )
