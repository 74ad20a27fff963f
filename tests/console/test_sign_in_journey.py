"""The Done-means journey from the very start: an auditor signs in at a real OpenID Provider
(the Node ``oidc-provider`` of tests/oidc_provider, with a second factor) in headless Chromium,
sees the home page, opens the oldest high finding, resolves it with a note, downloads a redacted
access report and a verified chain receipt, and every step is in the audit chain."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from alpr_guard.checkpoints import verify_signed_file, verify_with_checkpoints
from alpr_guard.models import Finding
from alpr_guard.runtime import Runtime
from alpr_guard.settings import Settings, load_settings
from tests.auth.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    OIDC_SECTION,
    PROVIDER_DIR,
    SECRET_ENV,
    account,
)
from tests.conftest import Backend, write_config
from tests.console.conftest import PLATES
from tests.console.test_browser import chromium, head, kinds_since, server
from tests.servers import free_port

__all__ = ["chromium", "server"]  # fixtures used here, defined with the other browser tests

AUDITOR = account("audrey", ["alpr-auditors"])


def _unavailable(why: str) -> None:
    message = f"{why}: make oidc-provider (npm ci in tests/oidc_provider)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def server_port() -> int:
    return free_port()


@pytest.fixture
def issuer(server_port: int, tmp_path: Path) -> Iterator[str]:
    """A provider whose registered redirect is this test's server."""
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        _unavailable("node or the oidc-provider package is missing")
    assert node is not None
    port = free_port()
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"audrey": AUDITOR}))
    process = subprocess.Popen(
        [node, str(PROVIDER_DIR / "provider.js")],
        cwd=PROVIDER_DIR,
        env={
            **os.environ,
            "PORT": str(port),
            "ACCOUNTS_FILE": str(accounts),
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
            "REDIRECT_URI": f"http://127.0.0.1:{server_port}/auth/callback",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening "), line
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def settings(
    backend: Backend,
    tmp_path: Path,
    issuer: str,
    server_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    section = OIDC_SECTION.format(
        issuer=issuer,
        client_id=CLIENT_ID,
        secret_env=SECRET_ENV,
        redirect_uri=f"http://127.0.0.1:{server_port}/auth/callback",
    )
    return load_settings(write_config(tmp_path / "cfg", backend.fresh_url(tmp_path), section))


def test_an_auditor_signs_in_and_does_the_work_without_a_command_line(
    chromium: Browser, server: str, rt: Runtime, seeded: dict[str, str], tmp_path: Path
) -> None:
    with rt.sessions() as db:
        oldest_high = db.scalar(
            select(Finding.id)
            .where(Finding.status == "open", Finding.severity == "high")
            .order_by(Finding.id)
            .limit(1)
        )
    assert oldest_high is not None
    start = head(rt)
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()

    # Signed out: the console asks for a sign-in and shows nothing else.
    first = page.goto(f"{server}/console/")
    assert first is not None and first.status == 401
    page.get_by_role("link", name="Sign in at your agency's identity provider").click()
    # The provider's own form: password and a second factor.
    page.locator("input[name=login]").fill("audrey")
    page.locator("input[name=password]").fill("pw-audrey")
    page.locator("input[name=otp]").fill("246810")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/auth/me")

    page.goto(f"{server}/console/")
    assert page.url.endswith("/console/home")
    assert page.get_by_role("heading", name="What needs attention").is_visible()
    assert "Signed in as audrey" in page.locator("header").inner_text()

    page.get_by_role("link", name=f"Open the oldest high finding (#{oldest_high})").click()
    page.get_by_label("misuse").check()
    page.get_by_label("Note").fill("No case behind this search; referred to Internal Affairs")
    page.get_by_role("button", name=f"Resolve finding {oldest_high}").click()
    assert page.get_by_role("status").inner_text().startswith("Resolved and recorded")

    page.get_by_role("link", name="Access report").click()
    with page.expect_download() as report:
        page.get_by_role("link", name="CSV").click()
    csv_text = Path(report.value.path()).read_text("utf-8")
    assert csv_text.startswith("searched_at,")
    assert not any(plate in csv_text for plate in PLATES)

    page.get_by_role("link", name="Audit chain").click()
    page.get_by_role("button", name="Run a verification now").click()
    assert "Verified." in page.locator(".result").inner_text()
    with page.expect_download() as receipt:
        page.get_by_role("link", name="Download its signed receipt").click()
    saved = tmp_path / "receipt.json"
    receipt.value.save_as(saved)
    valid, summary = verify_signed_file(
        saved, base64.b64encode(rt.keyring.public_key_raw()).decode()
    )
    assert valid, summary

    steps = [(k, d) for k, actor, d in kinds_since(rt, start) if actor == "audrey"]
    kinds = [k for k, _d in steps]
    assert kinds[: kinds.index("console.attention_viewed")].count("signin") == 1
    assert kinds[kinds.index("console.attention_viewed") :] == [
        "console.attention_viewed",
        "review.finding_viewed",
        "review.finding_resolved",
        "review.finding_viewed",
        "report.access",
        "report.access",
        "audit.receipts_listed",
        "audit.verified",
        "audit.receipt_downloaded",
    ]
    resolved = dict(steps)["review.finding_resolved"]
    assert resolved["finding_id"] == oldest_high and resolved["verdict"] == "misuse"
    with rt.sessions() as db:
        assert verify_with_checkpoints(db, rt).ok
    context.close()


def test_a_sign_in_without_a_second_factor_is_refused_in_the_browser_and_recorded(
    chromium: Browser, server: str, rt: Runtime, seeded: dict[str, str]
) -> None:
    """The same person at the same provider, password only (amr ["pwd"]): refused with a page
    that says why, no session, the console still closed, the refusal in the audit chain."""
    start = head(rt)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{server}/console/")
    page.get_by_role("link", name="Sign in at your agency's identity provider").click()
    page.locator("input[name=login]").fill("audrey")
    page.locator("input[name=password]").fill("pw-audrey")
    with page.expect_response(lambda r: "/auth/callback" in r.url) as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 403
    assert "mfa_required" in page.content()
    assert not any("alprg_session" in c["name"] for c in context.cookies())
    again = page.goto(f"{server}/console/home")
    assert again is not None and again.status == 401

    failed = [d for k, _a, d in kinds_since(rt, start) if k == "auth.failed"]
    assert [d["reason_code"] for d in failed] == ["mfa_required"]
    assert failed[0]["username"] == "audrey"
    assert "signin" not in [k for k, _a, _d in kinds_since(rt, start)]
    context.close()
