"""Console fixtures: a small instance with findings of every severity, searched by plates the
redacted pages must never show."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from alpr_guard.auth.client import client
from alpr_guard.auth.sessions import SESSION_COOKIE, StartedSession, start_session
from alpr_guard.clock import FixedClock
from alpr_guard.jobs.review import review_access
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import authenticate
from alpr_guard.services.review import _insert_camera_findings
from tests.conftest import auth, read, search_body

# Plates typed into searches, justifications and case numbers: none may appear on a redacted page.
PLATES = ("7ABC123", "8XYZ987", "5LMN456")


@pytest.fixture
def seeded(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> dict[str, str]:
    """Reads, searches (allowed, refused, vague, protected activity) and the review's findings."""
    ingest, officer = tokens["ingest"], tokens["officer"]
    reads = [read(plate=p, camera=f"cam-{k}") for k, p in enumerate(PLATES)]
    assert client.post(
        "/api/v1/reads", json={"reads": reads}, headers=auth(ingest)
    ).status_code in (
        200,
        201,
    )
    bodies = [
        # prohibited purpose (refused at search time: a high finding)
        search_body(plate=PLATES[0], justification="ICE asked us to find 7ABC123"),
        # vague
        search_body(plate=PLATES[1], justification="inv"),
        # protected activity, the plate typed into the reason too
        search_body(
            plate=PLATES[2],
            purpose="criminal_investigation",
            justification="No Kings rally vehicles, 5LMN456 seen there",
        ),
        # an honest one
        search_body(plate=PLATES[0]),
    ]
    for body in bodies:
        client.post("/api/v1/searches", json=body, headers=auth(officer))
    clock.advance(timedelta(minutes=10))
    review_access(rt)
    return tokens


def sign_in(rt: Runtime, token: str) -> StartedSession:
    """A signed-in browser session for the token's user, started by the same function the
    identity provider's callback ends with (``auth.sessions.start_session``)."""
    with rt.sessions.begin() as db:
        who = authenticate(db, rt, token)
        return start_session(db, rt, who, client("127.0.0.1", "console-tests"), replaces=None)


def cookie_client(app: Flask, rt: Runtime, token: str) -> tuple[FlaskClient, str]:
    """A test client carrying a signed-in session's cookie; returns it and the CSRF token."""
    started = sign_in(rt, token)
    browser = app.test_client()
    browser.set_cookie(SESSION_COOKIE, started.session_id)
    return browser, started.csrf_token


def add_findings(rt: Runtime, n: int, *, severity: str = "medium") -> None:
    """``n`` open findings about cameras, written and stated in the chain as the review writes
    them (so the chain still verifies)."""
    now = rt.clock.now()
    with rt.sessions.begin() as db:
        for start in range(0, n, 1000):
            rows = [
                {
                    "search_id": None,
                    "camera_id": f"cam-bulk-{k}",
                    "rule": "hit_rate_anomaly",
                    "severity": severity,
                    "matched": json.dumps({"hits": 9, "reads": 10}),
                    "status": "open",
                    "created_at": now,
                }
                for k in range(start, min(start + 1000, n))
            ]
            _insert_camera_findings(db, rt, rows)
