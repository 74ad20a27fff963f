"""The real server's request log: one JSON line per request whatever the path holds, and the
client address taken from X-Forwarded-For only when it comes from the configured proxy."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from tests.conftest import write_config
from tests.servers import migrate_in_child, served


def serve_and_log(config: Path, *extra: str) -> list[str]:
    """Start the server, send a forged-line path through a 'proxy', stop it; its log lines.
    (``served`` has asked for /healthz once already.)"""
    with served(config, *extra) as (_server, port, log_path):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request(
            "GET",
            "/api/v1/x%0AINFO%20alpr_guard.api%20forged%E2%80%A8%0D",
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        assert conn.getresponse().read()
        conn.close()
    return log_path.read_text().splitlines()


def test_the_served_log_has_one_escaped_line_and_the_proxied_client(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", f"sqlite:///{tmp_path / 'alpr_guard.db'}")
    migrate_in_child(config)

    for extra, client in (
        ((), "127.0.0.1"),
        (("--trusted-proxy", "127.0.0.1"), "203.0.113.7"),
        (("--trusted-proxy", "127.0.0.1", "--log-format", "text"), "203.0.113.7"),
    ):
        lines = serve_and_log(config, *extra)
        assert not any(line.startswith("forged") or line.startswith("INFO") for line in lines)
        if "text" in extra:
            requests = [line for line in lines if " alpr_guard.api {" in line]
            fields = json.loads(requests[-1].split(" alpr_guard.api ", 1)[1])
        else:
            # JSON logs: every line the server writes after its banner is one JSON object,
            # gunicorn's own lines included.
            logged = [json.loads(line) for line in lines[1:]]
            assert all({"time", "level", "logger"} <= set(entry) for entry in logged), lines
            assert any(entry["logger"] == "gunicorn.error" for entry in logged), lines
            requests = [entry for entry in logged if entry["logger"] == "alpr_guard.api"]
            fields = requests[-1]
        assert len(requests) == 2, lines  # /healthz and the forged path, one line each
        assert fields["status"] == 404 and fields["route"] is None
        assert fields["client"] == client
        assert "forged" not in "\n".join(lines)
