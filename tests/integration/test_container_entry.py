"""The Docker image's start-up, without Docker: the wheel in a clean venv, the image's files and
environment, its entry commands against a real PostgreSQL, and its HEALTHCHECK.

The Dockerfile is read, not restated: the files it copies into /etc/alpr_guard, its ENV, its
ENTRYPOINT and CMD and its HEALTHCHECK command are what this test lays out and runs, with the
image's absolute paths moved under a temporary directory. The venv gets the wheel with the
``postgres`` extra only (what the image installs): no test or lint tool is in it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from alpr_guard.keystore import encode_master_key, generate_master_key
from tests.conftest import PG_URL, _pg_reachable
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _json_instruction(name: str) -> list[str]:
    match = re.search(rf"^{name}\s+(\[.*\])\s*$", DOCKERFILE, re.MULTILINE)
    assert match, f"Dockerfile has no {name} in JSON form"
    value: list[str] = json.loads(match.group(1))
    return value


def _healthcheck() -> list[str]:
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", DOCKERFILE, re.MULTILINE)
    assert match, "Dockerfile has no HEALTHCHECK CMD in JSON form"
    value: list[str] = json.loads(match.group(1))
    return value


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", DOCKERFILE, re.MULTILINE):
        for pair in line.split():
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def _etc_copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY from the repository into /etc/alpr_guard."""
    copies = []
    joined = DOCKERFILE.replace("\\\n", " ")  # continuation lines make one instruction
    for line in re.findall(r"^COPY (?!--from)(.+)$", joined, re.MULTILINE):
        *sources, dest = line.split()
        if dest.startswith("/etc/alpr_guard"):
            copies.append((sources, dest))
    return copies


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from this checkout, in a venv of its own with the runtime extra only."""
    problem = _pg_reachable()
    if problem is not None and not os.environ.get("CI"):
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({problem}); nothing to serve against")
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy of what the Dockerfile's build stage copies: the checkout stays clean
    # (no build/ or egg-info left behind to leak into a later wheel).
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "alpr_guard", source / "alpr_guard", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(work),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = work.glob("alpr_guard-*.whl")
    env_dir = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=300)
    subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[postgres]"],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return env_dir


@pytest.fixture
def empty_pg() -> Iterator[str]:
    problem = _pg_reachable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {PG_URL} ({problem})")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({problem})")
    name = f"alpr_guard_image_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _image_root(root: Path) -> dict[str, str]:
    """Lay out /etc/alpr_guard and the volumes under ``root``; the image's environment."""
    etc, var = root / "etc" / "alpr_guard", root / "var" / "lib" / "alpr_guard"
    witness = root / "mnt" / "audit-witness"
    etc.mkdir(parents=True)
    for directory in (var / "keystore", var / "checkpoints", witness / "alpr_guard"):
        directory.mkdir(parents=True, mode=0o700)
    for sources, dest in _etc_copies():
        for source in sources:
            target = etc / Path(dest).name if not dest.endswith("/") else etc / Path(source).name
            content = (REPO / source).read_text()
            content = content.replace("/var/lib/alpr_guard", str(var))
            content = content.replace("/mnt/audit-witness", str(witness))
            target.write_text(content.replace("/etc/alpr_guard", str(etc)))
    env = {**_env()}
    env["ALPR_GUARD_CONFIG"] = env["ALPR_GUARD_CONFIG"].replace("/etc/alpr_guard", str(etc))
    return env


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _post(port: int, path: str, token: str, body: dict[str, object]) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _ingest_and_search_across_workers(entry: list[str], env: dict[str, str], port: int) -> None:
    """Searches on every worker's own connections: each prepares its statements on its own
    connection (several workers, several threads each, concurrent requests)."""
    demo = subprocess.run(
        [*entry, "demo"], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    tokens = {
        line.split()[0]: line.split()[-1]
        for line in demo.stdout.splitlines()
        if line.strip().split()[-1].startswith("alprg_")
    }
    now = datetime.now(UTC)
    status, body = _post(
        port,
        "/api/v1/reads",
        tokens["ingest"],
        {"reads": [{"plate": "7ABC123", "observed_at": now.isoformat(), "camera_id": "cam-1"}]},
    )
    assert status == 201, body
    search = {
        "plate": "7ABC123",
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
        "purpose": "stolen_vehicle",
        "justification": "Vehicle reported stolen from the Main St lot, owner report filed",
    }
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda _: _post(port, "/api/v1/searches", tokens["officer"], search), range(24)
            )
        )
    assert [status for status, _ in answers] == [200] * 24, answers[0]
    assert {body["result_count"] for _, body in answers} == {1}
    # The metrics page: whichever worker answers, it counts every worker's requests.
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        metrics = response.read().decode()
    assert 'alpr_guard_reads_ingested_total{outcome="stored"} 1.0' in metrics
    assert (
        'alpr_guard_http_requests_total{method="POST",route="/api/v1/searches",status="200"} 24.0'
    ) in metrics
    assert "7ABC123" not in metrics


def test_image_entry_commands_serve_ready_on_postgresql(
    venv: Path, empty_pg: str, tmp_path: Path
) -> None:
    bin_dir = venv / "bin"
    # Runtime only: the developer tool chain is not installed.
    for tool in ("pytest", "ruff", "mypy"):
        assert not (bin_dir / tool).exists(), f"{tool} is in the runtime venv"
    port = free_port()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        **_image_root(tmp_path),
        "ALPR_GUARD_DATABASE_URL": empty_pg,
        "ALPR_GUARD_MASTER_KEY": encode_master_key(generate_master_key()),
        "ALPR_GUARD_PORT": str(port),
        "ALPR_GUARD_HOST": "127.0.0.1",
        "PYTHONWARNINGS": "error",
    }
    entry = [shutil.which(_json_instruction("ENTRYPOINT")[0], path=env["PATH"]) or "missing"]
    serve = [*entry, *_json_instruction("CMD")]

    # Serving before the migration: one line saying what to run, exit 1, nothing listening.
    early = subprocess.run(serve, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert early.returncode == 1
    assert early.stderr.strip() == (
        "error: the database has no schema yet: run `alpr-guard db upgrade`"
    )

    # compose.yaml's one-shot service, then the image's command.
    assert 'command: ["db", "upgrade"]' in (REPO / "compose.yaml").read_text()
    upgraded = subprocess.run(
        [*entry, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert upgraded.returncode == 0, upgraded.stderr
    checked = subprocess.run(
        [*entry, "config", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    # The README's quick start, after `docker compose up`: each `docker compose run --rm api`
    # line is the image's entry point with those arguments.
    quick_start = re.findall(
        r"^docker compose run --rm api ([^#\n]+?)\s*(?:#.*)?$",
        (REPO / "README.md").read_text(),
        re.MULTILINE,
    )
    assert [line.split()[:2] for line in quick_start] == [
        ["agencies", "import"],
        ["users", "add"],
    ]
    for line in quick_start:
        done = subprocess.run(
            [*entry, *line.split()],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (line, done.stderr)
    assert done.stdout.strip().splitlines()[-1].startswith("alprg_")  # the admin's token

    server = subprocess.Popen(serve, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        status, body = 0, {}
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/readyz")
                break
            except OSError:  # not listening yet, or workers still booting (a read timeout)
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                time.sleep(0.5)
        assert status == 200, body
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert sorted(checks) == ["checkpoints", "database", "keystore", "schema"]
        assert all(c["ok"] for c in checks.values())
        assert make_url(empty_pg).password is None or str(make_url(empty_pg).password) not in (
            json.dumps(body)
        )
        # The image's HEALTHCHECK command, with the venv's python.
        health = _healthcheck()
        assert health[0] == "python"
        probe = subprocess.run(
            [str(bin_dir / "python"), *health[1:]], env=env, timeout=30, check=False
        )
        assert probe.returncode == 0
        _ingest_and_search_across_workers(entry, env, port)
        # A second server on the same port: one line naming the port.
        clash = subprocess.run(
            serve, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert clash.returncode == 1
        assert clash.stderr.strip().splitlines() == [
            f"error: port {port} on 127.0.0.1 is already in use: stop the process holding it, "
            "or choose another with --port (or ALPR_GUARD_PORT)"
        ]
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output
    assert "Booting worker" in output and "Traceback" not in output
    # JSON logs: after the banner, every line is one JSON object (gunicorn's own included).
    logged = [json.loads(line) for line in output.splitlines()[1:]]
    requests = [line for line in logged if line["logger"] == "alpr_guard.api"]
    assert {"request_id", "user", "agency", "role", "route", "status", "client"} <= set(
        requests[-1]
    )
    assert "7ABC123" not in output


def test_every_directory_the_shipped_config_writes_exists_for_the_image_user() -> None:
    """The image runs as a non-root user, who cannot create a directory under / at start-up:
    every directory the shipped config writes (the key store, each checkpoint directory) must
    be made in the image for that user, live on a declared VOLUME, and be mounted by
    compose.yaml (a test running as root would not notice a missing one)."""
    config = tomllib.loads((REPO / "config" / "production.example.toml").read_text())
    wanted = [config["keys"]["keystore_dir"], *config["audit"]["checkpoint_dirs"]]
    joined = DOCKERFILE.replace("\\\n", " ")
    user = re.search(r"^USER (\S+)", joined, re.MULTILINE)
    assert user is not None
    made = [
        path
        for match in re.findall(rf"install -d -o {user.group(1)} -g \S+ -m 0700 ([^&\n]+)", joined)
        for path in match.split()
    ]
    volumes = _json_instruction("VOLUME")
    compose = (REPO / "compose.yaml").read_text()
    mounted = re.findall(r"^\s+- \w+:(/\S+)$", compose, re.MULTILINE)
    for directory in wanted:
        assert directory in made, f"{directory} is not created for user {user.group(1)}"
        volume = [v for v in volumes if directory == v or directory.startswith(v + "/")]
        assert volume, f"{directory} is on no VOLUME"
        assert volume[0] in mounted, f"compose.yaml mounts nothing at {volume[0]}"
