"""Sign-in against a real OpenID Provider: MFA, provisioning, sessions, CSRF, sign-out."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from alpr_guard.clock import FixedClock
from alpr_guard.jobs.scheduler import build_scheduler, run_dormant_accounts
from alpr_guard.models import ApiToken, AuditEvent, OidcLogin, User
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import revoke_tokens
from tests.auth.conftest import BASE_URL, Provider, callback_query, sign_in
from tests.conftest import auth, search_body


def events(rt: Runtime, kind: str) -> list[AuditEvent]:
    with rt.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).all())


def test_mfa_sign_in_provisions_the_user_and_shows_name_role_agency(
    client: FlaskClient, rt: Runtime
) -> None:
    outcome = sign_in(client, "alice")
    assert outcome.status == 303, outcome.body
    cookie = next(c for c in outcome.cookies if c.startswith("__Host-alprg_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/auth/me", base_url=BASE_URL, headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<dd id="name">Alice Example</dd>' in html
    assert '<dd id="role">officer</dd>' in html
    assert '<dd id="agency">CA0199900</dd>' in html
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    with rt.sessions() as db:
        user = db.scalar(select(User).where(User.username == "alice"))
        assert user is not None and user.role == "officer" and user.subject_hash
    [signin] = events(rt, "signin")
    assert '"amr":["pwd","otp"]' in signin.details
    assert '"source":"127.0.0.1"' in signin.details
    assert len(events(rt, "user.created")) == 1


def _me(client: FlaskClient) -> dict[str, object]:
    response = client.get("/auth/me", base_url=BASE_URL, headers={"Accept": "application/json"})
    return {"status": response.status_code, **(response.get_json() or {})}


def test_sign_in_without_mfa_is_refused_and_recorded(client: FlaskClient, rt: Runtime) -> None:
    outcome = sign_in(client, "bob", otp=None)
    assert outcome.status == 403
    assert outcome.body["error"]["code"] == "mfa_required"
    assert not any(c.startswith("__Host-alprg_session=") for c in outcome.cookies)
    assert _me(client)["status"] == 401
    [failed] = events(rt, "auth.failed")
    assert '"reason_code":"mfa_required"' in failed.details
    assert '"username":"bob"' in failed.details
    with rt.sessions() as db:  # no account for a refused sign-in
        assert db.scalar(select(User).where(User.username == "bob")) is None


def test_a_user_with_a_second_factor_who_skips_it_is_refused(client: FlaskClient) -> None:
    assert sign_in(client, "alice", otp="").body["error"]["code"] == "mfa_required"
    assert sign_in(client, "alice", otp="000000").body["error"]["code"] == "mfa_required"


def test_role_change_at_the_provider_applies_at_next_sign_in(
    client: FlaskClient, rt: Runtime, provider: Provider
) -> None:
    assert sign_in(client, "alice").status == 303
    assert _me(client)["role"] == "officer"
    provider.update("alice", groups=["alpr-supervisors"])
    assert _me(client)["role"] == "officer"  # the session keeps what it was signed in with
    assert sign_in(client, "alice").status == 303
    assert _me(client)["role"] == "supervisor"
    [updated] = events(rt, "user.updated")
    assert '"role":{"from":"officer","to":"supervisor"}' in updated.details
    with rt.sessions() as db:
        assert len(db.scalars(select(User).where(User.username == "alice")).all()) == 1


def test_a_mapped_agency_that_may_not_hold_the_data_is_refused(
    client: FlaskClient, rt: Runtime
) -> None:
    outcome = sign_in(client, "dave")  # a federal agency: California law forbids sharing
    assert outcome.status == 403
    assert outcome.body["error"]["code"] == "federal_agency"
    with rt.sessions() as db:
        assert db.scalar(select(User).where(User.username == "dave")) is None
    assert '"reason_code":"federal_agency"' in events(rt, "auth.failed")[0].details


def test_no_role_and_two_roles_are_refused(client: FlaskClient) -> None:
    assert sign_in(client, "frank").body["error"]["code"] == "no_role_mapped"
    assert sign_in(client, "erin").body["error"]["code"] == "ambiguous_role"


def test_a_partner_agency_role_change_the_agency_may_not_hold_is_refused(
    client: FlaskClient, provider: Provider
) -> None:
    # A partner agency's user may be an officer or an auditor, never a supervisor.
    provider.update("carol", agency_ori="CA0190100")
    assert sign_in(client, "carol").body["error"]["code"] == "role_not_allowed_for_agency"
    provider.update("carol", groups=["alpr-officers"])
    assert sign_in(client, "carol").status == 303
    assert _me(client)["agency"] == "CA0190100"


def test_a_renamed_provider_account_cannot_take_over_another_username(
    client: FlaskClient, rt: Runtime, provider: Provider
) -> None:
    """Hostile path: someone renames their provider account to an existing user's name."""
    assert sign_in(client, "alice").status == 303
    provider.update("carol", preferred_username="alice")
    outcome = sign_in(client, "carol")
    assert outcome.body["error"]["code"] == "account_conflict"
    with rt.sessions() as db:
        alice = db.scalar(select(User).where(User.username == "alice"))
        assert alice is not None and alice.role == "officer"


def test_sign_in_rotates_the_session_and_ends_the_old_one(client: FlaskClient) -> None:
    first = sign_in(client, "alice")
    old = next(c for c in first.cookies if c.startswith("__Host-alprg_session=")).split(";")[0]
    second = sign_in(client, "alice")
    new = next(c for c in second.cookies if c.startswith("__Host-alprg_session=")).split(";")[0]
    assert old != new
    client.set_cookie("__Host-alprg_session", old.split("=", 1)[1], domain="alpr.test")
    assert _me(client)["status"] == 401  # the old id is dead, not merely replaced
    client.set_cookie("__Host-alprg_session", new.split("=", 1)[1], domain="alpr.test")
    assert _me(client)["status"] == 200


def test_a_planted_session_id_is_not_adopted(client: FlaskClient) -> None:
    """Session fixation: an id the attacker set before sign-in is never the signed-in one."""
    client.set_cookie("__Host-alprg_session", "attacker-chosen-id", domain="alpr.test")
    outcome = sign_in(client, "alice")
    new = next(c for c in outcome.cookies if c.startswith("__Host-alprg_session="))
    assert "attacker-chosen-id" not in new


def test_state_is_single_use_and_bound_to_the_browser(
    client: FlaskClient, app: object, rt: Runtime
) -> None:
    query = callback_query(client, "alice")
    other = client.application.test_client()  # another browser, no login cookie
    stolen = other.get("/auth/callback", query_string=query, base_url=BASE_URL)
    assert stolen.get_json()["error"]["code"] == "login_state_invalid"
    # The state was spent by the refused attempt: the rightful browser cannot use it either.
    again = client.get("/auth/callback", query_string=query, base_url=BASE_URL)
    assert again.get_json()["error"]["code"] == "login_state_invalid"
    forged = client.get(
        "/auth/callback", query_string={"state": "made-up", "code": "x"}, base_url=BASE_URL
    )
    assert forged.get_json()["error"]["code"] == "login_state_invalid"


def test_a_sign_in_left_too_long_expires(client: FlaskClient, clock: FixedClock) -> None:
    query = callback_query(client, "alice")
    clock.advance(timedelta(minutes=11))
    late = client.get("/auth/callback", query_string=query, base_url=BASE_URL)
    assert late.get_json()["error"]["code"] == "login_state_invalid"


def test_provider_error_is_refused_and_recorded(client: FlaskClient, rt: Runtime) -> None:
    start = client.get("/auth/login", base_url=BASE_URL)
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    back = client.get(
        "/auth/callback",
        query_string={"state": state, "error": "access_denied"},
        base_url=BASE_URL,
    )
    assert back.get_json()["error"]["code"] == "provider_refused"
    assert '"reason_code":"provider_refused"' in events(rt, "auth.failed")[0].details


def test_a_code_redeemed_without_its_verifier_fails(client: FlaskClient, rt: Runtime) -> None:
    """PKCE: a code intercepted on the way back is worthless to anyone without the verifier
    this server kept; here the server's own record is tampered with to prove the check."""
    query = callback_query(client, "alice")
    with rt.sessions.begin() as db:
        for login in db.scalars(select(OidcLogin)).all():
            login.code_verifier = "w" * 64
    back = client.get("/auth/callback", query_string=query, base_url=BASE_URL)
    assert back.get_json()["error"]["code"] == "provider_error"


def test_idle_limit_ends_the_session_at_30_minutes(
    client: FlaskClient, rt: Runtime, clock: FixedClock
) -> None:
    assert sign_in(client, "alice").status == 303
    clock.advance(timedelta(minutes=29))
    assert _me(client)["status"] == 200  # activity: the idle limit starts again
    clock.advance(timedelta(minutes=29, seconds=59))
    assert _me(client)["status"] == 200
    clock.advance(timedelta(minutes=30))
    expired = _me(client)
    assert expired["status"] == 401 and expired["error"]["code"] == "session_expired"  # type: ignore[index]
    assert '"limit":"idle"' in events(rt, "session.expired")[0].details
    assert _me(client)["status"] == 401  # and it stays ended


def test_absolute_limit_ends_a_busy_session_at_12_hours(
    client: FlaskClient, rt: Runtime, clock: FixedClock
) -> None:
    assert sign_in(client, "alice").status == 303
    for _ in range(47):  # busy every 15 minutes for 11 h 45 min
        clock.advance(timedelta(minutes=15))
        assert _me(client)["status"] == 200
    clock.advance(timedelta(minutes=15))
    assert _me(client)["status"] == 401
    assert '"limit":"absolute"' in events(rt, "session.expired")[0].details


def test_logout_ends_the_session_at_once(client: FlaskClient, rt: Runtime) -> None:
    assert sign_in(client, "alice").status == 303
    csrf = _me(client)["csrf_token"]
    cookie = client.get_cookie("__Host-alprg_session", domain="alpr.test")
    assert cookie is not None
    out = client.post("/auth/logout", base_url=BASE_URL, headers={"X-CSRF-Token": str(csrf)})
    assert out.status_code == 200 and out.get_json() == {"signed_out": True}
    assert "__Host-alprg_session=;" in out.headers["Set-Cookie"]
    # Even a copy of the cookie kept by the browser (or a thief) is worthless now.
    client.set_cookie("__Host-alprg_session", cookie.value, domain="alpr.test")
    assert _me(client)["status"] == 401
    [signout] = events(rt, "signout")
    assert signout.actor == "alice" and '"source":"127.0.0.1"' in signout.details


def test_state_changing_requests_need_the_csrf_token(client: FlaskClient, rt: Runtime) -> None:
    assert sign_in(client, "alice").status == 303
    for headers in ({}, {"X-CSRF-Token": "0" * 64}):
        refused = client.post("/auth/logout", base_url=BASE_URL, headers=headers)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "csrf_failed"
    # A search with the cookie and no token is refused before it is screened or run.
    search = client.post("/api/v1/searches", base_url=BASE_URL, json=search_body())
    assert search.get_json()["error"]["code"] == "csrf_failed"
    assert len(events(rt, "csrf.refused")) == 3
    assert _me(client)["status"] == 200  # the session survived the forged requests
    token = str(_me(client)["csrf_token"])
    ok = client.post(
        "/api/v1/searches",
        base_url=BASE_URL,
        json=search_body(),
        headers={"X-CSRF-Token": token},
    )
    assert ok.status_code == 200, ok.get_json()


def test_a_csrf_token_of_another_session_does_not_pass(client: FlaskClient) -> None:
    assert sign_in(client, "carol").status == 303
    carol_token = str(_me(client)["csrf_token"])
    other = client.application.test_client()
    assert sign_in(other, "alice").status == 303
    refused = other.post("/auth/logout", base_url=BASE_URL, headers={"X-CSRF-Token": carol_token})
    assert refused.get_json()["error"]["code"] == "csrf_failed"


def test_personal_token_minted_from_the_session_is_recorded(
    client: FlaskClient, rt: Runtime, clock: FixedClock
) -> None:
    assert sign_in(client, "alice").status == 303
    csrf = str(_me(client)["csrf_token"])
    assert client.post("/auth/tokens", base_url=BASE_URL).status_code == 403  # no CSRF token
    minted = client.post("/auth/tokens", base_url=BASE_URL, headers={"X-CSRF-Token": csrf})
    assert minted.status_code == 201
    token = minted.get_json()["token"]
    with rt.sessions() as db:
        row = db.scalar(select(ApiToken).where(ApiToken.minted_by == "alice"))
        assert row is not None and row.expires_at == clock.now() + timedelta(minutes=60)
    [event] = events(rt, "token.minted")
    assert event.actor == "alice" and token not in event.details
    script = client.application.test_client()
    assert script.get("/auth/me", headers=auth(token)).get_json()["credential"] == (
        "personal_token"
    )
    # A token cannot mint tokens: only a signed-in session can.
    again = script.post("/auth/tokens", headers=auth(token))
    assert again.get_json()["error"]["code"] == "session_required"
    clock.advance(timedelta(minutes=61))
    assert script.get("/auth/me", headers=auth(token)).status_code == 401


def test_disabling_a_user_ends_their_sessions_at_once(client: FlaskClient, rt: Runtime) -> None:
    assert sign_in(client, "alice").status == 303
    with rt.sessions.begin() as db:
        revoke_tokens(db, rt, username="alice", disable=True)
    assert _me(client)["status"] == 401
    assert sign_in(client, "alice").body["error"]["code"] == "account_disabled"


def test_dormant_accounts_are_disabled_by_the_scheduler(
    client: FlaskClient, rt: Runtime, clock: FixedClock, tokens: dict[str, str]
) -> None:
    assert "dormant_accounts" in {job.id for job in build_scheduler(rt).get_jobs()}
    assert sign_in(client, "alice").status == 303
    clock.advance(timedelta(days=60))
    assert sign_in(client, "carol").status == 303
    clock.advance(timedelta(days=31))  # alice: 91 days since her sign-in; carol: 31
    run_dormant_accounts(rt)
    dormant = {e.subject: e for e in events(rt, "user.disabled_dormant")}
    assert "user:alice" in dormant and "user:carol" not in dormant
    assert dormant["user:alice"].actor == "system:dormant"
    assert sign_in(client, "alice").body["error"]["code"] == "account_disabled"
    assert sign_in(client, "carol").status == 303
    # Cameras are not people: their service accounts never go dormant. People's accounts made
    # by hand that never signed in count from their creation.
    with rt.sessions() as db:
        states = {u.username: u.disabled_at is not None for u in db.scalars(select(User)).all()}
    assert states["t-ingest"] is False
    assert states["t-officer"] is True


def test_removed_from_the_groups_at_the_provider_ends_tokens_and_sessions_at_next_sign_in(
    client: FlaskClient, rt: Runtime, provider: Provider
) -> None:
    """Hostile path: an officer removed from the ALPR groups keeps a personal token and a
    session open in another browser; the first sign-in after the removal ends them both."""
    assert sign_in(client, "alice").status == 303
    csrf = str(_me(client)["csrf_token"])
    token = client.post(
        "/auth/tokens", base_url=BASE_URL, headers={"X-CSRF-Token": csrf}
    ).get_json()["token"]
    script = client.application.test_client()
    assert script.get("/auth/me", headers=auth(token)).status_code == 200
    provider.update("alice", groups=["staff"])
    other_browser = client.application.test_client()
    assert sign_in(other_browser, "alice").body["error"]["code"] == "no_role_mapped"
    assert script.get("/auth/me", headers=auth(token)).status_code == 401
    assert _me(client)["status"] == 401
    [event] = events(rt, "user.access_withdrawn")
    assert '"tokens_revoked":1' in event.details and '"sessions_ended":1' in event.details
    # Put back in the group, the same account signs in again.
    provider.update("alice", groups=["alpr-officers"])
    assert sign_in(client, "alice").status == 303


def test_a_failed_second_factor_does_not_end_anything(client: FlaskClient, rt: Runtime) -> None:
    """A mistyped code (or someone with the password alone) must not end the real user's
    session: only the provider withdrawing access does."""
    assert sign_in(client, "alice").status == 303
    other_browser = client.application.test_client()
    assert sign_in(other_browser, "alice", otp="999999").body["error"]["code"] == "mfa_required"
    assert _me(client)["status"] == 200
    assert events(rt, "user.access_withdrawn") == []
