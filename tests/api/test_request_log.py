"""The request log cannot be forged: whatever a client puts in a path, one request is one line.

A ``%0A`` in a path used to be decoded into the logged path and wrote a second, forged line.
The line is now JSON with every client-supplied character escaped, and names the route
template, never the raw path (a path may carry a plate).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpr_guard import logs
from alpr_guard.api.request_log import logged_path
from tests.conftest import OPERATING_ORI, auth

# Every character str.splitlines() breaks on, plus the other C0 controls and DEL.
LINE_BREAKERS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
CONTROLS = "".join(map(chr, range(32))) + "\x7f"


@pytest.fixture(params=logs.FORMATS)
def log_lines(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """The API logger's output through a real handler, as a server writes it (either format)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter(request.param))
    logger = logging.getLogger("alpr_guard.api")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def take(stream: io.StringIO) -> str:
    text = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    return text


def one_line(stream: io.StringIO) -> dict[str, object]:
    text = take(stream)
    lines = text.splitlines()
    assert len(lines) == 1, lines
    assert text.endswith("\n") and text.count("\n") == 1
    return parse_line(lines[0])


def parse_line(line: str) -> dict[str, object]:
    if line.startswith("{"):  # JSON logs: the fields at the top level
        fields: dict[str, object] = json.loads(line)
        assert fields.pop("logger") == "alpr_guard.api" and fields.pop("level") == "INFO"
        assert fields.pop("time")
        return fields
    text_fields: dict[str, object] = json.loads(line.split(" alpr_guard.api ", 1)[1])
    return text_fields


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reads%0AINFO alpr_guard.api forged",
        "/x%0D%0AINFO forged",
        "/x\rforged",
        "/x%E2%80%A8forged",  # U+2028 LINE SEPARATOR
        "/x%E2%80%A9forged",  # U+2029 PARAGRAPH SEPARATOR
        "/x%C2%85forged",  # U+0085 NEXT LINE
        "/x%0B%0C%1C%1D%1E%00%1B[2Jforged",
    ],
)
def test_a_line_break_in_a_path_yields_exactly_one_log_line(
    client: FlaskClient, log_lines: io.StringIO, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    fields = one_line(log_lines)
    assert fields["status"] == 404
    assert fields["route"] is None


def test_every_control_character_in_a_matched_route_is_one_line(
    client: FlaskClient, tokens: dict[str, str], log_lines: io.StringIO
) -> None:
    for char in sorted(set(CONTROLS + LINE_BREAKERS)):
        response = client.get(
            "/api/v1/holds/" + quote(f"a{char}b", safe=""), headers=auth(tokens["auditor"])
        )
        assert response.status_code == 422
        fields = one_line(log_lines)
        assert fields["route"] == "/api/v1/holds/*", repr(char)


def test_the_line_names_the_route_and_the_caller_never_the_raw_path(
    client: FlaskClient, tokens: dict[str, str], log_lines: io.StringIO
) -> None:
    # A plate typed where an id belongs, and a token: neither reaches the log.
    response = client.get("/api/v1/holds/7ABC123", headers=auth(tokens["supervisor"]))
    assert response.status_code == 422
    text = take(log_lines)
    assert "7ABC123" not in text and tokens["supervisor"] not in text
    fields = parse_line(text.splitlines()[0])
    assert fields["route"] == "/api/v1/holds/*"
    assert (fields["user"], fields["agency"], fields["role"]) == (
        "t-supervisor",
        OPERATING_ORI,
        "supervisor",
    )
    assert fields["method"] == "GET" and fields["status"] == 422
    assert isinstance(fields["duration_ms"], float) and fields["client"] == "127.0.0.1"
    assert len(str(fields["request_id"])) == 32

    hold_id = "0193A2B4-0000-7000-8000-000000000001"
    client.get(f"/api/v1/holds/{hold_id}", headers=auth(tokens["supervisor"]))
    assert one_line(log_lines)["route"] == f"/api/v1/holds/{hold_id.lower()}"


def test_logged_path_keeps_ids_only() -> None:
    assert logged_path(None, None) is None
    assert logged_path("/a/<int:n>/b", {"n": 12}) == "/a/12/b"
    assert logged_path("/a/<x>", {"x": "7ABC123\n"}) == "/a/*"
    assert logged_path("/a/<x>", {}) == "/a/*"


@given(st.text(max_size=40))
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_path_yields_exactly_one_log_line(
    client: FlaskClient, log_lines: io.StringIO, segment: str
) -> None:
    take(log_lines)
    client.get("/api/v1/" + quote(segment, safe="/"))
    text = take(log_lines)
    assert len(text.splitlines()) == 1, text
    assert text.count("\n") == 1
    assert all(ch.isprintable() or ch == "\n" for ch in text)
