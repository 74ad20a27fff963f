"""Sign-in at the agency's identity provider: OpenID Connect authorization code flow with PKCE
(Authlib's client for the protocol, joserfc for the ID token's signature and claims).

What a sign-in proves is decided here, from verified claims only: the ID token's signature (the
provider's published keys), issuer, audience, expiry and nonce are checked; the user-info
answer may add the username, name, role and agency claims but never the authentication
strength (``amr``/``acr`` come from the ID token alone). The state is single-use, expires with
the sign-in, and is bound to the browser that started it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from alpr_guard.auth.reasons import AuthReason
from alpr_guard.errors import ConfigError
from alpr_guard.models import OidcLogin
from alpr_guard.runtime import Runtime
from alpr_guard.services.principals import USERNAME_CHARS
from alpr_guard.settings import LOOPBACK_HOSTS, ORI_RE, OidcSettings

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc.jwk import KeySet

# The HTTP and JOSE libraries (requests, Authlib, joserfc: about 10 MB of a worker's memory)
# are imported by the methods that talk to the provider, so a server without [auth.oidc], or
# one nobody has signed in to yet, never loads them.

LOGIN_TTL = timedelta(minutes=10)  # a sign-in not finished by then starts again
HTTP_TIMEOUT = 10.0
ID_TOKEN_ALGORITHMS = ("RS256", "PS256", "ES256", "ES384", "RS384", "RS512", "EdDSA")
CLOCK_LEEWAY_SECONDS = 60
# Claims the user-info answer may supply when the ID token lacks them (never amr/acr/sub).
_FILLABLE = ("username_claim", "name_claim", "role_claim", "agency_claim")


class SignInRefused(Exception):
    """A sign-in that does not go through: the reason code, a message for the person, and the
    username when the provider already named one (its failures count for that username)."""

    def __init__(self, reason: str, message: str, username: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.username = username


def load_client_secret(oidc: OidcSettings, where: str) -> str:
    """The client secret from its environment variable or file; a ConfigError names the key."""
    if oidc.client_secret_env is not None:
        value = os.environ.get(oidc.client_secret_env, "").strip()
        if not value:
            raise ConfigError(
                f"{where}: auth.oidc.client_secret_env: "
                f"environment variable {oidc.client_secret_env} is not set"
            )
        return value
    assert oidc.client_secret_file is not None
    try:
        value = oidc.client_secret_file.read_text().strip()
    except OSError:
        raise ConfigError(
            f"{where}: auth.oidc.client_secret_file: {oidc.client_secret_file} is not readable"
        ) from None
    if not value:
        raise ConfigError(f"{where}: auth.oidc.client_secret_file: the file is empty")
    return value


def _checked_endpoint(url: object, name: str) -> str:
    if not isinstance(url, str):
        raise SignInRefused(AuthReason.PROVIDER_ERROR, f"the provider publishes no {name}")
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return url
    raise SignInRefused(AuthReason.PROVIDER_ERROR, f"the provider's {name} is not https")


@dataclass(frozen=True)
class ProviderMetadata:
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None


@dataclass(frozen=True)
class PendingLogin:
    url: str  # where the browser goes to sign in
    browser: str  # the value of the cookie that binds the sign-in to this browser

    def __repr__(self) -> str:
        return "PendingLogin(...)"


class OidcClient:
    """One per worker: the provider's metadata and keys are fetched once and kept."""

    def __init__(self, settings: OidcSettings, client_secret: str) -> None:
        self.settings = settings
        self._secret = client_secret
        self._metadata: ProviderMetadata | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OidcClient(issuer={self.settings.issuer!r})"

    def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        import requests

        try:
            response = requests.get(url, timeout=HTTP_TIMEOUT, **kwargs)
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError):
            raise SignInRefused(
                AuthReason.PROVIDER_ERROR, "the identity provider could not be reached"
            ) from None
        if not isinstance(body, dict):
            raise SignInRefused(AuthReason.PROVIDER_ERROR, "the identity provider's answer is bad")
        return body

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            if self._metadata is not None:
                return self._metadata
        issuer = self.settings.issuer
        doc = self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if doc.get("issuer") != issuer:
            # OpenID Connect Discovery 4.3: a document for another issuer is not this provider.
            raise SignInRefused(
                AuthReason.PROVIDER_ERROR, "the discovery document names another issuer"
            )
        userinfo = doc.get("userinfo_endpoint")
        meta = ProviderMetadata(
            authorization_endpoint=_checked_endpoint(
                doc.get("authorization_endpoint"), "authorization endpoint"
            ),
            token_endpoint=_checked_endpoint(doc.get("token_endpoint"), "token endpoint"),
            jwks_uri=_checked_endpoint(doc.get("jwks_uri"), "key set"),
            userinfo_endpoint=_checked_endpoint(userinfo, "user-info endpoint")
            if userinfo is not None
            else None,
        )
        with self._lock:
            self._metadata = meta
        return meta

    def _key_set(self, refresh: bool) -> KeySet:
        from joserfc.jwk import KeySet

        with self._lock:
            if self._keys is not None and not refresh:
                return self._keys
        keys = KeySet.import_key_set(self._get_json(self.metadata().jwks_uri))  # type: ignore[arg-type]
        with self._lock:
            self._keys = keys
        return keys

    def _session(self) -> OAuth2Session:
        from authlib.integrations.requests_client import OAuth2Session

        return OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=self._secret,
            scope=" ".join(self.settings.scopes),
            redirect_uri=self.settings.redirect_uri,
            code_challenge_method="S256",
        )

    def authorization_url(self, state: str, nonce: str, verifier: str) -> str:
        with self._session() as oauth:
            url, _state = oauth.create_authorization_url(
                self.metadata().authorization_endpoint,
                state=state,
                code_verifier=verifier,
                nonce=nonce,
            )
        return str(url)

    def exchange(self, code: str, verifier: str, nonce: str) -> dict[str, Any]:
        """Redeem the code (with the PKCE verifier), verify the ID token, add user-info."""
        meta = self.metadata()
        try:
            with self._session() as oauth:
                token = oauth.fetch_token(
                    meta.token_endpoint, code=code, code_verifier=verifier, timeout=HTTP_TIMEOUT
                )
        except Exception as exc:  # authlib raises OAuthError, requests its own errors
            raise SignInRefused(
                AuthReason.PROVIDER_ERROR,
                f"the identity provider did not redeem the code ({type(exc).__name__})",
            ) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused(AuthReason.PROVIDER_ERROR, "the provider sent no ID token")
        claims = self._verify(id_token, nonce)
        access = token.get("access_token")
        if meta.userinfo_endpoint and isinstance(access, str):
            info = self._get_json(
                meta.userinfo_endpoint, headers={"Authorization": f"Bearer {access}"}
            )
            if info.get("sub") != claims["sub"]:
                raise SignInRefused(
                    AuthReason.PROVIDER_ERROR, "the user-info answer is for another subject"
                )
            for attr in _FILLABLE:
                name = getattr(self.settings, attr)
                if name and name not in claims and name in info:
                    claims[name] = info[name]
        return claims

    def _verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(False), list(ID_TOKEN_ALGORITHMS))
            except JoseError:
                # The provider may have rotated its keys since they were fetched.
                decoded = jwt.decode(id_token, self._key_set(True), list(ID_TOKEN_ALGORITHMS))
            registry = jwt.JWTClaimsRegistry(
                now=int(time.time()),
                leeway=CLOCK_LEEWAY_SECONDS,
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise SignInRefused(
                AuthReason.PROVIDER_ERROR, f"the ID token did not verify ({type(exc).__name__})"
            ) from None
        claims = dict(decoded.claims)
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.settings.client_id:
            raise SignInRefused(AuthReason.PROVIDER_ERROR, "the ID token is for another party")
        return claims


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def begin_login(db: Session, rt: Runtime, client: OidcClient) -> PendingLogin:
    """Start a sign-in: a fresh state, nonce and PKCE verifier, kept server-side."""
    now = rt.clock.now()
    db.execute(delete(OidcLogin).where(OidcLogin.created_at < now - LOGIN_TTL))
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    browser = secrets.token_urlsafe(32)
    url = client.authorization_url(state, nonce, verifier)
    db.add(
        OidcLogin(
            state_hash=_hash(state),
            browser_hash=_hash(browser),
            nonce=nonce,
            code_verifier=verifier,
            created_at=now,
        )
    )
    db.flush()
    return PendingLogin(url, browser)


def take_login(db: Session, rt: Runtime, state: str, browser: str | None) -> OidcLogin:
    """The sign-in this state belongs to, removed so it cannot be used twice. Refused when
    unknown, used, expired, or returned to a browser other than the one that started it."""
    if not state or len(state) > 100:
        raise SignInRefused(AuthReason.LOGIN_STATE_INVALID, "the sign-in is unknown; start again")
    login = db.scalar(select(OidcLogin).where(OidcLogin.state_hash == _hash(state)))
    if login is None:
        raise SignInRefused(AuthReason.LOGIN_STATE_INVALID, "the sign-in is unknown; start again")
    db.delete(login)
    db.flush()
    if not browser or not secrets.compare_digest(login.browser_hash, _hash(browser)):
        raise SignInRefused(
            AuthReason.LOGIN_STATE_INVALID, "the sign-in was started in another browser"
        )
    if login.created_at < rt.clock.now() - LOGIN_TTL:
        raise SignInRefused(AuthReason.LOGIN_STATE_INVALID, "the sign-in expired; start again")
    return login


@dataclass(frozen=True)
class Identity:
    """What the provider's verified claims say about the person, mapped to this system."""

    subject_hash: str
    username: str
    display_name: str | None
    role: str
    agency_ori: str
    amr: tuple[str, ...]
    acr: str | None


def _username(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    name = value.strip().lower()
    # Email-style names keep only the part before "@": the provider's tenant is implied.
    name = name.split("@", 1)[0]
    if not 2 <= len(name) <= 64 or not set(name) <= USERNAME_CHARS:
        return None
    return name


def _values(claim: object) -> list[str]:
    if isinstance(claim, str):
        return [claim]
    if isinstance(claim, list):
        return [v for v in claim if isinstance(v, str)]
    return []


def subject_hash(settings: OidcSettings, claims: Mapping[str, Any]) -> str:
    """The account's key: the provider's issuer and subject, which the provider never
    reassigns (a username claim may be renamed)."""
    return _hash(f"{settings.issuer} {claims['sub']}")


def multi_factor(settings: OidcSettings, claims: Mapping[str, Any]) -> bool:
    amr = set(_values(claims.get("amr")))
    acr = claims.get("acr")
    return bool(amr & set(settings.mfa_amr)) or (isinstance(acr, str) and acr in settings.mfa_acr)


def identity(settings: OidcSettings, claims: Mapping[str, Any], operating_ori: str) -> Identity:
    """Map verified claims to a username, role and agency, or refuse naming why."""
    username = _username(claims.get(settings.username_claim))
    if username is None:
        raise SignInRefused(
            AuthReason.INVALID_USERNAME,
            f"the provider's {settings.username_claim} claim is not a usable username",
        )
    if settings.require_mfa and not multi_factor(settings, claims):
        raise SignInRefused(
            AuthReason.MFA_REQUIRED,
            "sign in with a second factor: the provider reported a single-factor sign-in",
            username,
        )
    role_map = dict(settings.role_map)
    roles = {role_map[v] for v in _values(claims.get(settings.role_claim)) if v in role_map}
    if not roles:
        raise SignInRefused(
            AuthReason.NO_ROLE, "the provider gives this account no role here", username
        )
    if len(roles) > 1:
        raise SignInRefused(
            AuthReason.AMBIGUOUS_ROLE,
            f"the provider gives this account more than one role ({', '.join(sorted(roles))}); "
            "an account holds exactly one",
            username,
        )
    ori = operating_ori
    if settings.agency_claim is not None:
        raw = claims.get(settings.agency_claim)
        agency_map = dict(settings.agency_map)
        mapped = agency_map.get(raw) if isinstance(raw, str) and agency_map else raw
        if not isinstance(mapped, str) or not ORI_RE.match(mapped.strip().upper()):
            raise SignInRefused(
                AuthReason.NO_AGENCY, "the provider names no agency this system knows", username
            )
        ori = mapped.strip().upper()
    name = claims.get(settings.name_claim)
    acr = claims.get("acr")
    return Identity(
        subject_hash=subject_hash(settings, claims),
        username=username,
        display_name=name.strip()[:200] if isinstance(name, str) and name.strip() else None,
        role=roles.pop(),
        agency_ori=ori,
        amr=tuple(_values(claims.get("amr"))),
        acr=acr if isinstance(acr, str) else None,
    )
