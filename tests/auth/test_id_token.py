"""The ID token is believed only when the provider signed it for this client and this
sign-in: forged, re-signed, unsigned and replayed tokens are refused. Also: a spoofed
X-Forwarded-For does not dodge a source lock, and every step verifies in the audit chain."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select
from werkzeug.test import Client

from alpr_guard.audit import verify_chain
from alpr_guard.auth.oidc import OidcClient, SignInRefused
from alpr_guard.models import AuditEvent
from alpr_guard.runtime import Runtime
from alpr_guard.server import TrustedProxy
from tests.auth.conftest import CLIENT_ID, CLIENT_SECRET, Provider, provider_redirect, sign_in
from tests.conftest import auth


def _client(rt: Runtime) -> OidcClient:
    assert rt.settings.auth.oidc is not None
    return OidcClient(rt.settings.auth.oidc, CLIENT_SECRET)


def _real_id_token(oidc: OidcClient, nonce: str) -> str:
    """An ID token the provider really issued to this client, for a sign-in with ``nonce``."""
    verifier = "v" * 64
    url = oidc.authorization_url("some-state", nonce, verifier)
    back = provider_redirect(url, "alice", "pw-alice", "246810")
    code = parse_qs(urlsplit(back).query)["code"][0]
    with oidc._session() as session:
        token = session.fetch_token(
            oidc.metadata().token_endpoint, code=code, code_verifier=verifier
        )
    id_token: str = token["id_token"]
    return id_token


def _part(token: str, index: int) -> dict[str, Any]:
    segment = token.split(".")[index]
    value: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return value


def _claims(provider: Provider, nonce: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": provider.issuer,
        "aud": CLIENT_ID,
        "sub": "alice",
        "nonce": nonce,
        "iat": now,
        "exp": now + 300,
        "amr": ["pwd", "otp"],
        **extra,
    }


def test_a_real_token_verifies_and_its_nonce_is_checked(rt: Runtime) -> None:
    oidc = _client(rt)
    token = _real_id_token(oidc, "nonce-one")
    claims = oidc._verify(token, "nonce-one")
    assert claims["sub"] == "alice" and claims["amr"] == ["pwd", "otp"]
    with pytest.raises(SignInRefused) as info:
        oidc._verify(token, "nonce-two")  # replayed into another sign-in
    assert info.value.reason == "provider_error"


def test_a_token_signed_with_another_key_is_refused(rt: Runtime, provider: Provider) -> None:
    oidc = _client(rt)
    real = _real_id_token(oidc, "n")
    kid = _part(real, 0)["kid"]
    forger = RSAKey.generate_key(2048, parameters={"kid": kid})  # the provider's key id
    forged = jwt.encode({"alg": "RS256", "kid": kid}, _claims(provider, "n"), forger)
    with pytest.raises(SignInRefused) as info:
        oidc._verify(forged, "n")
    assert info.value.reason == "provider_error"


def test_an_unsigned_token_is_refused(rt: Runtime, provider: Provider) -> None:
    oidc = _client(rt)
    _real_id_token(oidc, "n")  # the keys are loaded

    def b64(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none'})}.{b64(_claims(provider, 'n'))}."
    with pytest.raises(SignInRefused):
        oidc._verify(unsigned, "n")


def test_a_token_the_provider_issued_to_another_application_is_refused(rt: Runtime) -> None:
    """Token substitution: another application at the same provider (or whoever runs it) holds
    a genuine, correctly signed ID token for alice, issued to it; it does not sign her in."""
    assert rt.settings.auth.oidc is not None
    other = OidcClient(replace(rt.settings.auth.oidc, client_id="other-app"), "other-app-secret")
    token = _real_id_token(other, "n")
    assert _part(token, 1)["aud"] == "other-app"
    assert other._verify(token, "n")["sub"] == "alice"  # genuine, for the other application
    with pytest.raises(SignInRefused) as info:
        _client(rt)._verify(token, "n")
    assert info.value.reason == "provider_error"


def test_spoofed_forwarded_for_does_not_dodge_the_source_lock(
    app: Flask, rt: Runtime, tokens: dict[str, str]
) -> None:
    proxied = Client(TrustedProxy(app.wsgi_app, "10.0.0.1"))
    env = {"REMOTE_ADDR": "198.51.100.7"}
    for n in range(5):
        bad = proxied.get(
            "/auth/me",
            headers={**auth(f"alprg_guess{n}"), "X-Forwarded-For": f"203.0.113.{n}"},
            environ_base=env,
        )
        assert bad.status_code == 401
    good = proxied.get(
        "/api/v1/shares",
        headers={**auth(tokens["supervisor"]), "X-Forwarded-For": "203.0.113.200"},
        environ_base=env,
    )
    assert good.json is not None and good.json["error"]["code"] == "locked_source"


def test_every_step_is_in_a_chain_that_verifies(client: FlaskClient, rt: Runtime) -> None:
    assert sign_in(client, "alice").status == 303
    for _ in range(5):
        sign_in(client, "bob", otp=None, source="10.7.7.7")
    sign_in(client, "bob", otp=None, source="10.7.7.7")
    with rt.sessions() as db:
        result = verify_chain(db, rt.keyring)
        kinds = set(db.scalars(select(AuditEvent.kind)).all())
    assert result.ok, result.describe()
    assert {"signin", "user.created", "auth.failed", "auth.locked", "auth.refused_locked"} <= kinds
