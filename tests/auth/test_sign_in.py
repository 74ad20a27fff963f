"""Sign-in against a real OpenID Provider: MFA, provisioning, sessions, CSRF, sign-out."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from alpr_guard.models import AuditEvent, User
from alpr_guard.runtime import Runtime
from tests.auth.conftest import BASE_URL, sign_in


def events(rt: Runtime, kind: str) -> list[AuditEvent]:
    with rt.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).all())


def test_mfa_sign_in_provisions_the_user_and_shows_name_role_agency(
    client: FlaskClient, rt: Runtime
) -> None:
    outcome = sign_in(client, "alice")
    assert outcome.status == 303, outcome.body
    cookie = next(c for c in outcome.cookies if c.startswith("alprg_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/auth/me", base_url=BASE_URL, headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<dd id="name">Alice Example</dd>' in html
    assert '<dd id="role">officer</dd>' in html
    assert '<dd id="agency">CA0199900</dd>' in html
    with rt.sessions() as db:
        user = db.scalar(select(User).where(User.username == "alice"))
        assert user is not None and user.role == "officer" and user.subject_hash
    [signin] = events(rt, "signin")
    assert '"amr":["pwd","otp"]' in signin.details
    assert '"source":"127.0.0.1"' in signin.details
    assert len(events(rt, "user.created")) == 1
