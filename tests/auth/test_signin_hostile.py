"""Sign-in attacked by an insider who controls their own account at the identity provider
(its username claim): failed sign-ins count against the account the provider's subject holds,
never against a name the insider merely claims. And a link that tries to send the browser
elsewhere after signing in."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from alpr_guard.models import AuthLockout
from alpr_guard.runtime import Runtime
from tests.auth.conftest import BASE_URL, Provider, callback_query, sign_in


def _locked_usernames(rt: Runtime) -> set[str]:
    with rt.sessions() as db:
        return set(
            db.scalars(
                select(AuthLockout.key).where(
                    AuthLockout.kind == "username", AuthLockout.unlocked_at.is_(None)
                )
            )
        )


def test_claiming_another_persons_username_cannot_lock_their_account(
    client: FlaskClient, rt: Runtime, provider: Provider
) -> None:
    # carol renames her provider account to "alice" (who has an account here) and fails to
    # sign in again and again, from many addresses: first as a conflicting account, then
    # skipping her second factor. Neither may count against alice.
    assert sign_in(client, "alice").status == 303
    provider.update("carol", preferred_username="alice")
    limit = rt.settings.auth.lockout_failures
    for n in range(limit + 1):
        outcome = sign_in(client, "carol", source=f"10.0.1.{n + 1}")
        assert outcome.body["error"]["code"] == "account_conflict", n
        outcome = sign_in(client, "carol", otp=None, source=f"10.0.2.{n + 1}")
        assert outcome.body["error"]["code"] == "mfa_required", n
    assert "alice" not in _locked_usernames(rt)
    assert sign_in(client, "alice", source="10.0.3.1").status == 303


def test_a_locked_account_stays_locked_under_a_new_username_claim(
    client: FlaskClient, rt: Runtime, provider: Provider
) -> None:
    # carol's account is locked after failed second factors; she renames her provider account
    # and signs in properly: her account (found by the provider's subject) is still locked.
    assert sign_in(client, "carol").status == 303
    limit = rt.settings.auth.lockout_failures
    for n in range(limit):
        outcome = sign_in(client, "carol", otp=None, source=f"10.0.4.{n + 1}")
        assert outcome.body["error"]["code"] == "mfa_required", n
    assert "carol" in _locked_usernames(rt)
    provider.update("carol", preferred_username="carol2")
    renamed = sign_in(client, "carol", source="10.0.5.1")
    assert renamed.status == 403 and renamed.body["error"]["code"] == "locked_account"
    assert not any(c.startswith("__Host-alprg_session=") for c in renamed.cookies)


def test_no_return_address_a_link_carries_is_followed(
    client: FlaskClient, provider: Provider
) -> None:
    # A phishing link starts or finishes a sign-in with a return address of its own: the
    # browser goes to the configured provider, and back to /auth/me, never elsewhere.
    evil = "https://evil.example/console"
    hostile = {"next": evil, "return_to": evil, "redirect_uri": evil, "url": "//evil.example"}
    start = client.get("/auth/login", query_string=hostile, base_url=BASE_URL)
    assert start.status_code == 302
    location = urlsplit(start.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == provider.issuer
    assert "evil.example" not in location.query
    query = callback_query(client, "alice")
    done = client.get("/auth/callback", query_string={**query, **hostile}, base_url=BASE_URL)
    assert done.status_code == 303 and done.headers["Location"] == "/auth/me"
