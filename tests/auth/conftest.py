"""A real OpenID Provider on loopback (the certified Node ``oidc-provider`` package, in
tests/oidc_provider/) and a client that walks its sign-in forms the way a browser would.

``.ci/run`` (through the Makefile) runs ``npm ci`` there. Without Node or the installed
package the tests skip saying how to install them, except with ``CI`` set, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from flask.testing import FlaskClient

from alpr_guard.settings import Settings, load_settings
from tests.conftest import REPO, Backend, write_config
from tests.servers import free_port

PROVIDER_DIR = REPO / "tests" / "oidc_provider"
CLIENT_ID = "alpr-guard-test"
CLIENT_SECRET = "test-client-secret-" + "x" * 24
SECRET_ENV = "ALPR_GUARD_TEST_OIDC_SECRET"
REDIRECT_URI = "https://alpr.test/auth/callback"
BASE_URL = "https://alpr.test"
OPERATING = "CA0199900"


def account(
    name: str, groups: list[str], *, otp: str | None = "246810", agency: str = OPERATING
) -> dict[str, Any]:
    return {
        "password": f"pw-{name}",
        **({"otp": otp} if otp else {}),
        "claims": {
            "name": name.title() + " Example",
            "preferred_username": name,
            "groups": groups,
            "agency_ori": agency,
        },
    }


DEFAULT_ACCOUNTS = {
    "alice": account("alice", ["alpr-officers", "staff"]),
    "bob": account("bob", ["alpr-officers"], otp=None),  # has no second factor
    "carol": account("carol", ["alpr-supervisors"]),
    "dave": account("dave", ["alpr-officers"], agency="CAFBISF00"),  # a federal agency
    "erin": account("erin", ["alpr-officers", "alpr-auditors"]),
    "frank": account("frank", ["staff"]),
}


@dataclass
class Provider:
    issuer: str
    accounts_file: Path
    accounts: dict[str, Any] = field(default_factory=dict)

    def set_accounts(self, accounts: dict[str, Any]) -> None:
        self.accounts = accounts
        self.accounts_file.write_text(json.dumps(accounts))

    def update(self, name: str, **claims: Any) -> None:
        accounts = json.loads(json.dumps(self.accounts))
        accounts[name]["claims"].update(claims)
        self.set_accounts(accounts)


def _unavailable(why: str) -> None:
    message = f"{why}: run `npm ci` in tests/oidc_provider (Node 20+)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def provider_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        _unavailable("the oidc-provider package is not installed")
    assert node is not None
    port = free_port()
    accounts_file = tmp_path_factory.mktemp("oidc") / "accounts.json"
    provider = Provider(f"http://127.0.0.1:{port}", accounts_file)
    provider.set_accounts(DEFAULT_ACCOUNTS)
    env = {
        **os.environ,
        "PORT": str(port),
        "ACCOUNTS_FILE": str(accounts_file),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": REDIRECT_URI,
    }
    process = subprocess.Popen(
        [node, str(PROVIDER_DIR / "provider.js")],
        cwd=PROVIDER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening "):
            pytest.fail(f"the test OpenID Provider did not start: {line!r}")
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def provider(provider_process: Provider) -> Iterator[Provider]:
    provider_process.set_accounts(DEFAULT_ACCOUNTS)
    yield provider_process
    provider_process.set_accounts(DEFAULT_ACCOUNTS)


OIDC_SECTION = """
[auth.oidc]
issuer = "{issuer}"
client_id = "{client_id}"
client_secret_env = "{secret_env}"
redirect_uri = "{redirect_uri}"
scopes = ["openid", "profile", "groups", "agency"]
username_claim = "preferred_username"
role_claim = "groups"
agency_claim = "agency_ori"
require_mfa = true
mfa_amr = ["otp", "mfa", "hwk"]

[auth.oidc.roles]
"alpr-officers" = "officer"
"alpr-supervisors" = "supervisor"
"alpr-auditors" = "auditor"
"alpr-admins" = "admin"
"""


def oidc_config(directory: Path, db_url: str, issuer: str, auth: str = "") -> Path:
    path = write_config(
        directory,
        db_url,
        OIDC_SECTION.format(
            issuer=issuer,
            client_id=CLIENT_ID,
            secret_env=SECRET_ENV,
            redirect_uri=REDIRECT_URI,
        ),
    )
    # Keys of [auth] itself go under the (empty) table write_config opens.
    path.write_text(path.read_text().replace("\n[auth]\n", f"\n[auth]\n{auth}\n", 1))
    return path


@pytest.fixture
def auth_extra() -> str:
    """Keys added to [auth]; a test module or test overrides this fixture."""
    return ""


@pytest.fixture
def settings(
    backend: Backend,
    tmp_path: Path,
    provider: Provider,
    monkeypatch: pytest.MonkeyPatch,
    auth_extra: str,
) -> Settings:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    return load_settings(
        oidc_config(tmp_path / "cfg", backend.fresh_url(tmp_path), provider.issuer, auth_extra)
    )


@dataclass
class Outcome:
    status: int
    body: dict[str, Any]
    cookies: list[str]  # the Set-Cookie headers of the callback


def provider_redirect(start: str, login: str, password: str, otp: str) -> str:
    """Walk the provider's pages like a browser from the authorization URL to the redirect
    back to the application; returns that URL (with code and state, or an error)."""
    browser = requests.Session()
    url = start
    for _ in range(20):
        if url.startswith(REDIRECT_URI):
            return url
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            continue
        assert response.status_code == 200, response.text[:300]
        action = re.search(r'action="([^"]+)"', response.text)
        assert action is not None, response.text[:300]
        posted = browser.post(
            urljoin(url, action.group(1)),
            data={"login": login, "password": password, "otp": otp},
            allow_redirects=False,
            timeout=10,
        )
        assert posted.is_redirect, posted.text[:300]
        url = urljoin(url, posted.headers["Location"])
    raise AssertionError("the provider never sent the browser back")


def sign_in(
    client: FlaskClient,
    login: str,
    *,
    otp: str | None = "246810",
    password: str | None = None,
    source: str = "127.0.0.1",
) -> Outcome:
    environ = {"REMOTE_ADDR": source}
    start = client.get("/auth/login", base_url=BASE_URL, environ_base=environ)
    assert start.status_code == 302, start.get_data(as_text=True)
    back = provider_redirect(start.headers["Location"], login, password or f"pw-{login}", otp or "")
    query = urlsplit(back).query
    done = client.get(f"/auth/callback?{query}", base_url=BASE_URL, environ_base=environ)
    body = done.get_json(silent=True) or {}
    return Outcome(done.status_code, body, done.headers.getlist("Set-Cookie"))


def callback_query(client: FlaskClient, login: str, otp: str = "246810") -> dict[str, str]:
    """Start a sign-in and walk the provider, but stop before the callback: its query."""
    start = client.get("/auth/login", base_url=BASE_URL)
    back = provider_redirect(start.headers["Location"], login, f"pw-{login}", otp)
    return {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
