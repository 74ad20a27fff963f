"""A short unpinned tail and outside witnesses: the chain head is signed every interval and at
shutdown into every checkpoint directory; verification compares the directories and counts the
events after the last checkpoint; purge receipts are signed files a third party checks with the
public key alone."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from alpr_guard.audit import Actor, VerifyResult, canonical_json
from alpr_guard.checkpoints import (
    HEAD_NAME,
    ensure_dirs,
    verify_with_checkpoints,
    write_checkpoint,
)
from alpr_guard.crypto import key_fingerprint
from alpr_guard.errors import ConfigError, ValidationError
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.jobs.scheduler import run_head_checkpoint
from alpr_guard.models import AuditEvent, PurgeRun
from alpr_guard.runtime import Runtime
from alpr_guard.settings import Settings, load_settings
from tests.conftest import Backend, auth, read, write_config
from tests.servers import free_port


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    """Two checkpoint directories (the second stands for a mounted remote), head every 1 s."""
    path = write_config(tmp_path / "cfg", backend.fresh_url(tmp_path))
    path.write_text(
        path.read_text().replace(
            'checkpoint_dir = "checkpoints"',
            'checkpoint_dirs = ["checkpoints", "witness"]\ncheckpoint_interval_seconds = 1',
        )
    )
    return load_settings(path)


def dirs(rt: Runtime) -> tuple[Path, Path]:
    first, second = rt.settings.audit.checkpoint_dirs
    return first, second


def append(rt: Runtime, n: int) -> int:
    with rt.sessions.begin() as session:
        for i in range(n):
            event = rt.audit.append(session, "test.event", Actor("tester", None), details={"i": i})
    return event.seq


def last_seq(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.max(AuditEvent.seq))) or 0


def verify(rt: Runtime) -> VerifyResult:
    with rt.sessions() as session:
        return verify_with_checkpoints(session, rt)


def head(directory: Path) -> dict[str, object]:
    body: dict[str, object] = json.loads((directory / HEAD_NAME).read_text())["checkpoint"]
    return body


def delete_from(rt: Runtime, seq: int) -> None:
    with rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq >= :s"), {"s": seq})


def test_the_head_is_pinned_in_every_directory_and_only_when_events_were_written(
    rt: Runtime,
) -> None:
    top = append(rt, 3)
    run_head_checkpoint(rt)
    first, second = dirs(rt)
    assert head(first)["seq"] == head(second)["seq"] == top
    assert head(first)["kind"] == "head"
    before = [(d / HEAD_NAME).read_bytes() for d in (first, second)]
    # The head checkpoint is not itself an event (it would always be an unpinned tail) ...
    assert last_seq(rt) == top
    # ... and nothing is rewritten while no event is written.
    run_head_checkpoint(rt)
    assert [(d / HEAD_NAME).read_bytes() for d in (first, second)] == before
    top = append(rt, 2)
    run_head_checkpoint(rt)
    assert head(first)["seq"] == head(second)["seq"] == top
    # Atomic writes leave no temporary files behind.
    assert not [p for d in (first, second) for p in d.iterdir() if p.name.startswith(".")]


def test_events_after_the_last_checkpoint_are_counted(
    rt: Runtime, tokens: dict[str, str], client: FlaskClient
) -> None:
    pinned = append(rt, 4)
    run_head_checkpoint(rt)
    result = verify(rt)
    assert result.ok and result.events_after_checkpoint == 0
    assert result.last_checkpoint_seq == pinned
    append(rt, 3)
    result = verify(rt)
    assert result.ok and (result.last_checkpoint_seq, result.events_after_checkpoint) == (pinned, 3)
    assert f"3 events after the last checkpoint (seq {pinned})" in result.describe()
    body = client.get("/api/v1/audit/verify", headers=auth(tokens["auditor"])).get_json()
    assert body["ok"] is True
    # tokens wrote events of their own (users added) after the checkpoint, as did nothing else.
    assert body["last_checkpoint_seq"] == pinned
    assert body["events_after_checkpoint"] == last_seq(rt) - 1 - pinned  # minus audit.verified
    assert body["checkpoint_dir_problems"] == []


def test_without_any_checkpoint_every_event_is_counted_as_unpinned(rt: Runtime) -> None:
    top = append(rt, 2)
    result = verify(rt)
    assert result.ok and result.last_checkpoint_seq is None
    assert result.events_after_checkpoint == top
    assert "no signed checkpoint covers the chain" in result.describe()


def test_deleting_the_tail_is_detected_once_the_interval_has_passed(rt: Runtime) -> None:
    append(rt, 5)
    run_head_checkpoint(rt)  # the interval passed: the scheduler or serve pinned the head
    pinned = last_seq(rt)
    delete_from(rt, pinned - 1)
    result = verify(rt)
    assert (result.ok, result.bad_seq, result.problem) == (False, pinned, "truncated")
    # The next run does not move the head back over the cut: it is kept as the evidence.
    evidence = (dirs(rt)[0] / HEAD_NAME).read_bytes()
    run_head_checkpoint(rt)
    assert (dirs(rt)[0] / HEAD_NAME).read_bytes() == evidence
    # Nor forward over a rewritten chain that reuses the deleted sequence numbers.
    append(rt, 4)
    run_head_checkpoint(rt)
    assert (dirs(rt)[0] / HEAD_NAME).read_bytes() == evidence
    result = verify(rt)
    assert (result.ok, result.bad_seq, result.problem) == (False, pinned, "checkpoint_mismatch")


def test_a_directory_removed_emptied_or_behind_is_reported(
    rt: Runtime, tokens: dict[str, str], client: FlaskClient
) -> None:
    append(rt, 2)
    with rt.sessions.begin() as session:
        write_checkpoint(session, rt, Actor("tester", None))
    run_head_checkpoint(rt)
    first, second = dirs(rt)
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir())
    assert verify(rt).ok and verify(rt).directory_problems == ()

    saved = second.with_name("saved")
    shutil.copytree(second, saved)
    shutil.rmtree(second)
    result = verify(rt)
    assert not result.ok and result.problem == "checkpoint_dirs_disagree"
    assert result.bad_seq is None and result.events_after_checkpoint == 0  # the chain is whole
    assert result.directory_problems == (f"audit.checkpoint_dirs[1] ({second}): is missing",)
    body = client.get("/api/v1/audit/verify", headers=auth(tokens["auditor"])).get_json()
    assert body["ok"] is False and body["checkpoint_dir_problems"] == list(
        result.directory_problems
    )
    assert "checkpoint directory: audit.checkpoint_dirs[1]" in body["message"]

    shutil.copytree(saved, second)
    (permanent,) = second.glob("checkpoint-0*.json")
    permanent.unlink()
    (problem,) = verify(rt).directory_problems
    assert problem.startswith("audit.checkpoint_dirs[1]") and permanent.name in problem

    shutil.copy(first / permanent.name, second / permanent.name)
    old_head = (second / HEAD_NAME).read_bytes()
    append(rt, 1)
    run_head_checkpoint(rt)
    (second / HEAD_NAME).write_bytes(old_head)  # the remote witness lost its newest head
    (problem,) = verify(rt).directory_problems
    assert problem.startswith("audit.checkpoint_dirs[1]") and "head checkpoint is behind" in problem


def test_an_edited_checkpoint_in_one_directory_is_named(rt: Runtime) -> None:
    append(rt, 2)
    run_head_checkpoint(rt)
    target = dirs(rt)[1] / HEAD_NAME
    document = json.loads(target.read_text())
    document["checkpoint"]["seq"] -= 1
    target.write_text(json.dumps(document))
    with pytest.raises(ValidationError, match="signature does not verify") as info:
        verify(rt)
    assert str(target) in info.value.message


def test_an_unusable_directory_fails_closed_naming_its_key(rt: Runtime) -> None:
    append(rt, 2)
    second = dirs(rt)[1]
    second.parent.mkdir(parents=True, exist_ok=True)
    second.write_text("not a directory")
    with pytest.raises(ConfigError, match=r"audit\.checkpoint_dirs\[1\]"):
        ensure_dirs(rt)
    before = last_seq(rt)
    with (
        pytest.raises(ConfigError, match=r"audit\.checkpoint_dirs\[1\]"),
        rt.sessions.begin() as session,
    ):
        write_checkpoint(session, rt, Actor("tester", None))
    assert last_seq(rt) == before  # no audit.checkpoint event for a checkpoint not written
    with pytest.raises(ConfigError, match=r"audit\.checkpoint_dirs\[1\]"):
        run_head_checkpoint(rt)


# -- purge receipts and third-party verification --------------------------------------------


def verify_receipt(cwd: Path, path: Path, public_key: str) -> subprocess.CompletedProcess[str]:
    """`alpr-guard audit verify-receipt` with a fresh environment: no config, no master key."""
    command = ["audit", "verify-receipt", str(path), "--public-key", public_key]
    return subprocess.run(
        [sys.executable, "-m", "alpr_guard", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONWARNINGS": "error"},
    )


def test_a_purge_leaves_a_signed_receipt_anyone_can_check(rt: Runtime, tmp_path: Path) -> None:
    receipt = purge_expired(rt, trigger="test")
    name = f"receipt-purge-{receipt.run_id}.json"
    first, second = dirs(rt)
    assert (first / name).read_bytes() == (second / name).read_bytes()
    document = json.loads((first / name).read_text())
    body = document["receipt"]
    with rt.sessions() as session:
        event = session.get_one(AuditEvent, receipt.audit_seq)
    assert (body["seq"], body["hash"], body["run_id"]) == (
        receipt.audit_seq,
        event.hash,
        str(receipt.run_id),
    )
    assert body["receipt"] == json.loads(event.details)
    # The receipt pins the chain at its event, like a checkpoint.
    result = verify(rt)
    assert result.ok and result.checkpoints == 1 and result.events_after_checkpoint == 0

    outsider = tmp_path / "third-party"
    outsider.mkdir()
    public = base64.b64encode(rt.keyring.public_key_raw()).decode()
    genuine = verify_receipt(outsider, first / name, public)
    assert genuine.returncode == 0, genuine.stdout + genuine.stderr
    assert genuine.stdout.startswith(f"valid: purge receipt {receipt.run_id}")
    assert len(genuine.stdout.strip().splitlines()) == 1

    edited = outsider / "edited.json"
    document["receipt"]["receipt"]["deleted_by_class"]["unmatched"] += 1
    edited.write_text(json.dumps(document))
    refused = verify_receipt(outsider, edited, public)
    assert refused.returncode == 1
    assert refused.stdout.strip() == "invalid: the signature does not verify (the file was altered)"

    # A receipt signed by another key: named as such, or (key id copied) not verifying.
    mallory = Ed25519PrivateKey.generate()
    mallory_public = mallory.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    forged_body = json.loads((first / name).read_text())["receipt"]
    forged = outsider / "forged.json"
    for key_id, expected in (
        (key_fingerprint(mallory_public), "invalid: signed by another key"),
        (key_fingerprint(rt.keyring.public_key_raw()), "invalid: the signature does not verify"),
    ):
        signature = mallory.sign(canonical_json(forged_body).encode())
        forged.write_text(
            json.dumps(
                {
                    "receipt": forged_body,
                    "signature": {
                        "algorithm": "Ed25519",
                        "key_id": key_id,
                        "value": base64.b64encode(signature).decode(),
                    },
                }
            )
        )
        out = verify_receipt(outsider, forged, public)
        assert out.returncode == 1 and out.stdout.startswith(expected), out.stdout
        assert len(out.stdout.strip().splitlines()) == 1


def test_verify_receipt_accepts_checkpoints_and_explains_every_refusal(
    rt: Runtime, tmp_path: Path
) -> None:
    append(rt, 2)
    with rt.sessions.begin() as session:
        written = write_checkpoint(session, rt, Actor("tester", None))
    assert written is not None
    run_head_checkpoint(rt)
    public = base64.b64encode(rt.keyring.public_key_raw()).decode()
    for path in (written.path, dirs(rt)[1] / HEAD_NAME):
        out = verify_receipt(tmp_path, path, public)
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.startswith("valid: ") and "checkpoint of instance CA0199900" in out.stdout
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    cases = [
        (junk, public, "invalid: junk.json is not JSON"),
        (tmp_path / "absent.json", public, "invalid: absent.json cannot be read"),
        (written.path, "***", "invalid: --public-key is not base64"),
        (written.path, base64.b64encode(b"short").decode(), "invalid: --public-key is not a 32"),
    ]
    for path, key, expected in cases:
        out = verify_receipt(tmp_path, path, key)
        assert out.returncode == 1 and out.stdout.startswith(expected), out.stdout + out.stderr


# -- serve and scheduler: every interval and at shutdown ------------------------------------


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``alpr-guard --config CONFIG ARGS...``, output to a file (a full pipe would block
    it); anything still running at the end is killed."""
    started: list[subprocess.Popen[bytes]] = []

    def start(config: Path, *args: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"process-{len(started)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "alpr_guard", "--config", str(config), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONWARNINGS": "error"},
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def output(tmp_path: Path, index: int = 0) -> str:
    return (tmp_path / f"process-{index}.log").read_text()


def wait_until(condition: object, seconds: float = 90.0) -> None:
    # A bound on "eventually", not a performance figure: a server starting on a loaded 2-core
    # machine (compiling the screening rules alone took 10 s there) once missed 30 s.
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def http_ok(url: str, token: str | None = None) -> bool:
    request = urllib.request.Request(url, headers=auth(token) if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_serve_pins_the_head_every_interval_while_running(
    rt: Runtime, processes: Callable[..., subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    process = processes(rt.settings.source, "serve", "--port", str(port))
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"))
    first, second = dirs(rt)
    # serve recorded its policy at start-up; within an interval or two the head pins it.
    wait_until(lambda: (second / HEAD_NAME).exists() and head(second)["seq"] == last_seq(rt))
    assert head(first) == head(second)
    assert process.poll() is None


@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_serve_and_scheduler_pin_the_head_when_they_stop(
    rt: Runtime,
    tokens: dict[str, str],
    processes: Callable[..., subprocess.Popen[bytes]],
    tmp_path: Path,
    command: str,
) -> None:
    config = rt.settings.source
    config.write_text(
        config.read_text().replace(
            "checkpoint_interval_seconds = 1", "checkpoint_interval_seconds = 3600"
        )
    )
    port = free_port()
    process = processes(config, command, *(["--port", str(port)] if command == "serve" else []))
    if command == "serve":
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"))
        # A request that writes an event: a camera's read (ingest tokens do not expire; the
        # server runs on the real clock).
        at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/reads",
            data=json.dumps({"reads": [read(at=at)]}).encode(),
            headers={**auth(tokens["ingest"]), "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
    else:
        wait_until(lambda: "scheduler:" in output(tmp_path))
    first, second = dirs(rt)
    assert not (first / HEAD_NAME).exists()  # an hour away
    written = last_seq(rt)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, output(tmp_path)
    assert head(first)["seq"] == head(second)["seq"] == written == last_seq(rt)


@pytest.mark.parametrize("command", [("purge",), ("serve", "--port", "0"), ("scheduler",)])
def test_an_unusable_directory_stops_serve_scheduler_and_purge_before_they_start(
    rt: Runtime, command: tuple[str, ...]
) -> None:
    second = dirs(rt)[1]
    second.parent.mkdir(parents=True, exist_ok=True)
    second.write_text("not a directory")
    before = last_seq(rt)
    result = subprocess.run(
        [sys.executable, "-m", "alpr_guard", "--config", str(rt.settings.source), *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "audit.checkpoint_dirs[1]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    # Nothing ran: no purge run, no start-up event.
    assert last_seq(rt) == before
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PurgeRun)) == 0


def test_cli_verify_prints_the_unpinned_tail_and_a_bad_directory(rt: Runtime) -> None:
    def cli_verify() -> subprocess.CompletedProcess[str]:
        config = str(rt.settings.source)
        return subprocess.run(
            [sys.executable, "-m", "alpr_guard", "--config", config, "audit", "verify"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )

    pinned = append(rt, 3)
    run_head_checkpoint(rt)
    append(rt, 2)
    out = cli_verify()
    assert out.returncode == 0, out.stdout + out.stderr
    headline, tail = out.stdout.strip().splitlines()
    assert headline.startswith("audit chain verified")
    assert tail == f"2 events after the last checkpoint (seq {pinned})"
    shutil.rmtree(dirs(rt)[1])
    out = cli_verify()
    assert out.returncode == 1
    assert out.stdout.strip().splitlines()[-1] == (
        f"checkpoint directory: audit.checkpoint_dirs[1] ({dirs(rt)[1]}): is missing"
    )


def test_export_receipt_signs_a_completed_purge_again_and_never_an_edited_one(
    rt: Runtime, tmp_path: Path
) -> None:
    receipt = purge_expired(rt, trigger="test")

    def export(run_id: str, out: Path) -> subprocess.CompletedProcess[str]:
        config = str(rt.settings.source)
        command = ["audit", "export-receipt", run_id, "--out", str(out)]
        return subprocess.run(
            [sys.executable, "-m", "alpr_guard", "--config", config, *command],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )

    out = tmp_path / "handed-over.json"
    done = export(str(receipt.run_id), out)
    assert done.returncode == 0, done.stdout + done.stderr
    exported = json.loads((dirs(rt)[0] / f"receipt-purge-{receipt.run_id}.json").read_text())
    again = json.loads(out.read_text())
    for body in (exported["receipt"], again["receipt"]):
        body.pop("created_at")
    assert again["receipt"] == exported["receipt"]
    public = base64.b64encode(rt.keyring.public_key_raw()).decode()
    assert verify_receipt(tmp_path, out, public).returncode == 0

    unknown = export("6f1c0d0e-0000-4000-8000-000000000001", tmp_path / "x.json")
    assert unknown.returncode == 1 and "no completed purge run" in unknown.stderr
    assert export("not-a-uuid", tmp_path / "x.json").returncode == 2
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET details = :d WHERE seq = :s"),
            {"d": '{"deleted_by_class":{"unmatched":0,"hit":0}}', "s": receipt.audit_seq},
        )
    edited = export(str(receipt.run_id), tmp_path / "edited.json")
    assert edited.returncode == 1 and "does not verify: it was edited" in edited.stderr
    assert not (tmp_path / "edited.json").exists()
