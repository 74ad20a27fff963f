"""The vendors' sample bodies through the real server (``alpr-guard serve``, gunicorn), as a
deployment following the README would receive them: a Rekor Scout group with its images, a
Plate Recognizer Stream multipart post with its frame, a Verkada LPR webhook; then a justified
search returns the read with its images."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OPERATING_ORI, write_config
from tests.servers import cli_in_child, migrate_in_child, served

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendors"
HOST = "127.0.0.1"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    config = write_config(tmp_path / "cfg", f"sqlite:///{tmp_path / 'server.db'}")
    migrate_in_child(config)
    cli_in_child(
        config, "agencies", "add", "--ori", OPERATING_ORI, "--name", "Test City PD",
        "--kind", "local", "--jurisdiction", "CA", "--vetted",
    )  # fmt: skip
    secrets = {
        "rekor": cli_in_child(config, "cameras", "add", "scout-agent-1", "--camera-id", "1234"),
        "stream": cli_in_child(config, "cameras", "add", "stream-1", "--camera-id", "camera-1"),
        "verkada": cli_in_child(
            config,
            "cameras",
            "add",
            "verkada-lot",
            "--camera-id",
            "38718198-8a78-4718-a60f-68e1a8de30ac",
        ),
        "officer": cli_in_child(
            config, "users", "add", "--username", "officer-1", "--role", "officer"
        ),
    }
    with served(config, "--host", HOST, threads=4) as (_process, port, log_path):
        yield port, secrets
    server_log = log_path.read_text(errors="replace")
    assert "D2651BF" not in server_log and "ABCD123" not in server_log


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None
    finally:
        conn.close()


def post_json(port: int, path: str, secret: str, body: object) -> tuple[int, Any]:
    return request(
        port,
        "POST",
        path,
        json.dumps(body).encode(),
        {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )


def multipart(fields: dict[str, tuple[str | None, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, (filename, content) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        kind = "image/jpeg" if filename else "text/plain"
        parts.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: {kind}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


@pytest.mark.slow
def test_vendor_samples_through_the_real_server(server: tuple[int, dict[str, str]]) -> None:
    port, secrets = server
    now = datetime.now(UTC) - timedelta(minutes=30)
    ms = int(now.timestamp() * 1000)

    group = json.loads((FIXTURES / "rekor_alpr_group.json").read_text())
    group["epoch_start"], group["epoch_end"] = ms, ms + 3000
    group["vehicle_crop_jpeg"] = base64.b64encode(JPEG + b"vehicle").decode()
    group["best_plate"]["plate_crop_jpeg"] = base64.b64encode(JPEG + b"crop").decode()
    status, answer = post_json(port, "/api/v1/webhooks/rekor", secrets["rekor"], group)
    assert (status, answer["accepted"], answer["images"]) == (201, 1, 2), answer
    read_id = answer["ids"][0]

    stream = json.loads((FIXTURES / "platerecognizer_stream.json").read_text())
    stream["data"]["timestamp"] = now.isoformat()
    body, boundary = multipart(
        {"json": (None, json.dumps(stream).encode()), "upload": ("frame.jpg", JPEG)}
    )
    status, answer = request(
        port,
        "POST",
        "/api/v1/webhooks/platerecognizer",
        body,
        {
            "Authorization": f"Bearer {secrets['stream']}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert (status, answer["accepted"], answer["images"]) == (201, 1, 1), answer

    verkada = json.loads((FIXTURES / "verkada_lpr.json").read_text())
    verkada["data"]["created"] = int(now.timestamp())
    verkada["data"]["detected"] = ms
    status, answer = post_json(port, "/api/v1/webhooks/verkada", secrets["verkada"], verkada)
    assert (status, answer["accepted"]) == (201, 1), answer

    # A camera of another credential: refused, nothing stored.
    verkada["data"]["camera_id"] = "1234"
    status, answer = post_json(port, "/api/v1/webhooks/verkada", secrets["verkada"], verkada)
    assert (status, answer["error"]["code"]) == (403, "camera_not_bound")

    status, found = post_json(
        port,
        "/api/v1/searches",
        secrets["officer"],
        {
            "plate": "D2651BF",
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
            "purpose": "stolen_vehicle",
            "justification": "Vehicle reported stolen from Main St lot, owner report filed",
            "case_number": "26-004512",
            "include_images": True,
        },
    )
    assert status == 200, found
    (result,) = found["results"]
    assert result["id"] == read_id and result["plate_state"] == "MO"
    images = {i["kind"]: base64.b64decode(i["data"]) for i in result["images"]}
    assert images == {"vehicle": JPEG + b"vehicle", "plate": JPEG + b"crop"}
