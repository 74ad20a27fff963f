"""Lockout (CJIS AC-7), flood limits, bearer tokens for people, and secrets kept out of
logs and records: against the real provider."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from flask_limiter import Limiter
from sqlalchemy import func, select

from alpr_guard.clock import FixedClock
from alpr_guard.models import AuditEvent
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import add_user
from tests.auth.conftest import BASE_URL, CLIENT_SECRET, sign_in
from tests.conftest import OPERATING_ORI, auth


def events(rt: Runtime, kind: str) -> list[AuditEvent]:
    with rt.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).all())


def cli(rt: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alpr_guard", "--config", str(rt.settings.source), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_sixth_failed_sign_in_in_15_minutes_is_locked_and_recorded(
    client: FlaskClient, rt: Runtime, clock: FixedClock
) -> None:
    for n in range(5):
        outcome = sign_in(client, "bob", otp=None)
        assert outcome.body["error"]["code"] == "mfa_required", n
        clock.advance(timedelta(minutes=3))  # the fifth is 12 minutes after the first
    sixth = sign_in(client, "bob", otp=None)
    assert sixth.status == 403 and sixth.body["error"]["code"] == "locked_source"
    # Locked means locked: the right person with a second factor, from the same address,
    # is refused too, until an admin unlocks it.
    alice = sign_in(client, "alice")
    assert alice.body["error"]["code"] == "locked_source"
    assert len(events(rt, "auth.failed")) == 5
    locks = events(rt, "auth.locked")
    assert {'"locked":"source"' in e.details for e in locks} == {True, False}  # and username
    assert len(events(rt, "auth.refused_locked")) == 2
    clock.advance(timedelta(hours=24))  # time alone does not unlock
    assert sign_in(client, "alice").body["error"]["code"] == "locked_source"
    unlocked = cli(rt, "users", "unlock", "--source", "127.0.0.1", "--operator", "sgt.admin")
    assert unlocked.returncode == 0, unlocked.stderr
    [event] = events(rt, "auth.unlocked")
    assert event.actor == "cli:sgt.admin"
    assert sign_in(client, "alice").status == 303
    # bob's username is locked as well, from any address.
    assert sign_in(client, "bob", otp=None, source="10.9.9.9").body["error"]["code"] == (
        "locked_account"
    )


def test_failures_spread_over_more_than_15_minutes_do_not_lock(
    client: FlaskClient, clock: FixedClock
) -> None:
    for _ in range(7):
        assert sign_in(client, "bob", otp=None).body["error"]["code"] == "mfa_required"
        clock.advance(timedelta(minutes=4))  # never 5 within 15 minutes


def test_failures_from_many_addresses_lock_the_username(client: FlaskClient, rt: Runtime) -> None:
    """Hostile path: a guesser rotating addresses is stopped by the username count."""
    for n in range(5):
        outcome = sign_in(client, "carol", otp="111111", source=f"10.0.0.{n + 1}")
        assert outcome.body["error"]["code"] == "mfa_required"
    locked = sign_in(client, "carol", source="10.0.0.99")  # right second factor, new address
    assert locked.body["error"]["code"] == "locked_account"
    listing = cli(rt, "users", "locks")
    assert "username\tcarol" in listing.stdout
    assert cli(rt, "users", "unlock", "--username", "carol").returncode == 0
    assert sign_in(client, "carol", source="10.0.0.99").status == 303
    # Failures before the unlock do not count towards the next lock.
    assert sign_in(client, "carol", otp="1", source="10.0.0.1").body["error"]["code"] == (
        "mfa_required"
    )
    assert cli(rt, "users", "unlock", "--username", "carol").returncode == 1  # nothing locked


def test_bad_bearer_tokens_lock_the_source_and_then_good_ones_are_refused(
    client: FlaskClient, rt: Runtime, tokens: dict[str, str]
) -> None:
    env = {"REMOTE_ADDR": "192.0.2.7"}
    for n in range(5):
        bad = client.get("/auth/me", headers=auth(f"alprg_guess{n}"), environ_base=env)
        assert bad.status_code == 401
    good = client.get("/api/v1/shares", headers=auth(tokens["supervisor"]), environ_base=env)
    assert good.status_code == 403 and good.get_json()["error"]["code"] == "locked_source"
    elsewhere = client.get("/api/v1/shares", headers=auth(tokens["supervisor"]))
    assert elsewhere.status_code == 200
    failed = events(rt, "auth.failed")
    assert len(failed) == 5 and all('"reason_code":"bad_token"' in e.details for e in failed)
    assert all("alprg_guess" not in e.details for e in failed)  # never the token itself


def test_human_bearer_tokens_off_refuses_hand_issued_tokens_of_people(
    client: FlaskClient, rt: Runtime, tokens: dict[str, str]
) -> None:
    # The `auth_extra` fixture of this module's second half turns the setting off; here it
    # is on (the default): a person's hand-issued token still works.
    assert client.get("/api/v1/shares", headers=auth(tokens["supervisor"])).status_code == 200


class TestHumanBearerTokensOff:
    @pytest.fixture
    def auth_extra(self) -> str:
        return "human_bearer_tokens = false"

    def test_people_must_sign_in_cameras_keep_tokens(
        self, client: FlaskClient, rt: Runtime, tokens: dict[str, str]
    ) -> None:
        refused = client.get("/api/v1/shares", headers=auth(tokens["supervisor"]))
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "bearer_not_allowed_for_role"
        assert len(events(rt, "auth.refused_bearer")) == 1
        camera = client.post("/api/v1/reads", json={"reads": []}, headers=auth(tokens["ingest"]))
        assert camera.get_json().get("error", {}).get("code") != "bearer_not_allowed_for_role"
        # A personal token minted from a (multi-factor) session is accepted.
        assert sign_in(client, "carol").status == 303
        me = client.get("/auth/me", base_url=BASE_URL, headers={"Accept": "application/json"})
        minted = client.post(
            "/auth/tokens",
            base_url=BASE_URL,
            headers={"X-CSRF-Token": me.get_json()["csrf_token"]},
        )
        script = client.application.test_client()
        shares = script.get("/api/v1/shares", headers=auth(minted.get_json()["token"]))
        assert shares.status_code == 200

    def test_a_token_issued_by_the_cli_for_a_person_is_refused(
        self, client: FlaskClient, rt: Runtime
    ) -> None:
        with rt.sessions.begin() as db:
            issued = add_user(
                db, rt, username="cli-officer", role="auditor", agency_ori=OPERATING_ORI
            )
        response = client.get("/api/v1/audit/verify", headers=auth(issued.token))
        assert response.get_json()["error"]["code"] == "bearer_not_allowed_for_role"


class TestFloods:
    @pytest.fixture
    def auth_extra(self) -> str:
        return 'rate_limit = "3 per minute"'

    def test_sign_in_floods_get_429_with_retry_after(self, client: FlaskClient) -> None:
        for _ in range(3):
            assert client.get("/auth/login", base_url=BASE_URL).status_code == 302
        flood = client.get("/auth/login", base_url=BASE_URL)
        assert flood.status_code == 429
        assert flood.get_json()["error"]["code"] == "rate_limited"
        assert 1 <= int(flood.headers["Retry-After"]) <= 60
        # Per source: another address is not held back.
        other = client.get(
            "/auth/login", base_url=BASE_URL, environ_base={"REMOTE_ADDR": "10.1.1.1"}
        )
        assert other.status_code == 302

    def test_only_the_sign_in_routes_are_counted(self, client: FlaskClient) -> None:
        """The limiter runs for the sign-in blueprint alone: its headers come with a sign-in
        answer, and no other route is counted or held back by a flood of them."""
        for _ in range(3):
            signed = client.get("/auth/login", base_url=BASE_URL)
            assert signed.headers["X-RateLimit-Limit"] == "3"
        assert client.get("/auth/login", base_url=BASE_URL).status_code == 429
        for _ in range(5):
            health = client.get("/healthz", base_url=BASE_URL)
            assert health.status_code == 200
            assert "X-RateLimit-Limit" not in health.headers
        # Its hooks run for that blueprint only, not on every request of the app.
        hooks = client.application.before_request_funcs
        assert not [h for h in hooks[None] if isinstance(getattr(h, "__self__", None), Limiter)]
        assert [h for h in hooks["signin"] if isinstance(getattr(h, "__self__", None), Limiter)]

    def test_the_count_is_shared_by_every_worker(self, client: FlaskClient, rt: Runtime) -> None:
        """Two apps over one database (two gunicorn workers) share one count."""
        from alpr_guard.api import build_app

        other_worker = build_app(rt).test_client()
        assert client.get("/auth/login", base_url=BASE_URL).status_code == 302
        assert other_worker.get("/auth/login", base_url=BASE_URL).status_code == 302
        assert client.get("/auth/login", base_url=BASE_URL).status_code == 302
        assert other_worker.get("/auth/login", base_url=BASE_URL).status_code == 429


def test_secrets_never_reach_logs_or_the_audit_chain(
    client: FlaskClient, rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outcome = sign_in(client, "alice")
    session_id = next(c for c in outcome.cookies if c.startswith("__Host-alprg_session=")).split(
        ";"
    )[0]
    session_id = session_id.split("=", 1)[1]
    me = client.get("/auth/me", base_url=BASE_URL, headers={"Accept": "application/json"})
    csrf = me.get_json()["csrf_token"]
    minted = client.post("/auth/tokens", base_url=BASE_URL, headers={"X-CSRF-Token": csrf})
    token = minted.get_json()["token"]
    sign_in(client, "bob", otp=None)
    with rt.sessions() as db:
        chain = " ".join(
            f"{e.actor} {e.subject} {e.details}" for e in db.scalars(select(AuditEvent)).all()
        )
        from alpr_guard.models import WebSession

        stored = " ".join(db.scalars(select(WebSession.id_hash)).all())
    for secret in (CLIENT_SECRET, session_id, csrf, token):
        assert secret not in caplog.text
        assert secret not in chain
        assert secret not in stored
    assert CLIENT_SECRET not in rt.settings.policy_json
    assert CLIENT_SECRET not in repr(rt.settings)


def test_housekeeping_removes_what_can_no_longer_act(
    client: FlaskClient, rt: Runtime, clock: FixedClock
) -> None:
    from alpr_guard.jobs.scheduler import run_auth_housekeeping
    from alpr_guard.models import AuthFailure, WebSession

    assert sign_in(client, "alice").status == 303
    sign_in(client, "bob", otp=None)
    clock.advance(timedelta(minutes=14))
    run_auth_housekeeping(rt)
    with rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AuthFailure)) == 2  # still counting
        assert db.scalar(select(func.count()).select_from(WebSession)) == 1
    clock.advance(timedelta(hours=13))
    assert sign_in(client, "carol").status == 303  # a live session stays
    clock.advance(timedelta(days=1))
    assert sign_in(client, "carol").status == 303
    run_auth_housekeeping(rt)
    with rt.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AuthFailure)) == 0
        # alice's, past its limit a day ago, is gone; carol's live one and the one her second
        # sign-in ended just now (kept a day) stay
        assert db.scalar(select(func.count()).select_from(WebSession)) == 2
        assert db.scalar(select(func.count(func.distinct(WebSession.user_id)))) == 1


def test_forged_session_cookies_count_as_failures(
    client: FlaskClient, rt: Runtime, tokens: dict[str, str]
) -> None:
    """Hostile path: guessing session ids is guessing tokens by another door."""
    env = {"REMOTE_ADDR": "192.0.2.44"}
    for n in range(5):
        client.set_cookie("__Host-alprg_session", f"guess-{n}", domain="alpr.test")
        guess = client.get("/auth/me", base_url=BASE_URL, environ_base=env)
        assert guess.status_code == 401
    client.delete_cookie("__Host-alprg_session", domain="alpr.test")
    good = client.get("/api/v1/shares", headers=auth(tokens["supervisor"]), environ_base=env)
    assert good.get_json()["error"]["code"] == "locked_source"
    failed = events(rt, "auth.failed")
    assert len(failed) == 5 and all('"reason_code":"bad_session"' in e.details for e in failed)
    assert all("guess-" not in e.details for e in failed)
