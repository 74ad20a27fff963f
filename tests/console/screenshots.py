"""``make screenshots``: a small demo instance served on a loopback port, and a 1280x800
screenshot of each console page under docs/screenshots/ (Debian's Chromium via Playwright).

Run: ``.venv/bin/python -m tests.console.screenshots [OUT_DIR]``.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from alpr_guard.api import build_app
from alpr_guard.audit import Actor
from alpr_guard.auth.sessions import SESSION_COOKIE
from alpr_guard.checkpoints import write_checkpoint
from alpr_guard.clock import FixedClock
from alpr_guard.db import migrate as schema
from alpr_guard.jobs.review import review_access
from alpr_guard.models import Finding, SearchRecord
from alpr_guard.runtime import Runtime, build_runtime
from alpr_guard.services.agencies import AgencyInput, upsert_agency
from alpr_guard.services.principals import SYSTEM, add_user, issue_token
from alpr_guard.settings import load_settings
from tests.conftest import NOW, OPERATING_ORI, REGISTRY, auth, read, search_body, write_config
from tests.console.conftest import add_findings, sign_in
from tests.console.test_browser import CHROMIUM, CHROMIUM_ARGS

# (file name, role, path): each page as its role sees it.
PAGES = (
    ("01-home", "auditor", "/console/home"),
    ("02-findings", "auditor", "/console/findings?status=open"),
    ("03-finding", "auditor", "/console/findings/{oldest_high}"),
    ("04-access-report", "auditor", "/console/access-report?from=2026-11-01&to=2026-11-20"),
    ("05-audit-chain", "auditor", "/console/chain"),
    # A verification is a POST with the form's token: open the form and press its button.
    ("06-verification", "auditor", "/console/chain/verify#run"),
    ("07-compliance-summary", "auditor", "/console/summary?from=2026-11-01&to=2026-11-21"),
    ("08-holds", "supervisor", "/console/holds"),
    ("09-shares", "supervisor", "/console/shares"),
    ("10-admin", "admin", "/console/admin"),
    ("11-search", "officer", "/console/search"),
    ("12-search-results", "officer", "/console/search#allowed"),
    ("13-search-refused", "officer", "/console/search#refused"),
)
SEARCH_FORM = {
    "plate": "7ABC123",
    "from": "2026-11-05",
    "to": "2026-11-20",
    "purpose": "stolen_vehicle",
    "justification": "Vehicle reported stolen from Main St lot, owner report filed",
    "case_number": "26-004512",
}
REFUSED = "Agent from ICE asked us to find this car"
JUSTIFICATIONS = (
    ("stolen_vehicle", "Vehicle reported stolen from Main St lot, owner report filed"),
    ("stolen_vehicle", "inv"),
    ("criminal_investigation", "No Kings rally vehicles"),
    ("stolen_vehicle", "ICE asked us to find this car"),
    ("amber_alert", "Amber alert 26-3321, suspect vehicle seen near school"),
)


def _first_allowed_search(rt: Runtime) -> str:
    with rt.sessions() as db:
        found = db.scalar(select(SearchRecord.id).where(SearchRecord.outcome == "allowed").limit(1))
    return str(found)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "demo.db"
        schema.upgrade(f"sqlite:///{db_path}")
        settings = load_settings(write_config(Path(tmp) / "cfg", f"sqlite:///{db_path}"))
        clock = FixedClock(NOW)
        rt = build_runtime(settings, clock=clock)
        tokens: dict[str, str] = {}
        with rt.sessions.begin() as db:
            for ori, name, kind, state, vetted in (
                (OPERATING_ORI, "Test City Police Department", "local", "CA", True),
                *REGISTRY,
            ):
                upsert_agency(db, rt, AgencyInput(ori, name, kind, state, vetted), SYSTEM)
            for role in ("ingest", "officer", "supervisor", "auditor", "admin"):
                tokens[role] = add_user(
                    db, rt, username=f"demo-{role}", role=role, agency_ori=OPERATING_ORI
                ).token
        app = build_app(rt)
        client = app.test_client()
        plates = ("7ABC123", "8XYZ987", "5LMN456", "4QRS321")
        reads = [
            read(
                plate=p,
                camera=f"cam-{k % 5}",
                at=f"2026-11-{10 + k % 9:02d}T{k % 10:02d}:15:00+00:00",
                latitude=37.80 - 0.013 * (k % 5),
                longitude=-122.27 + 0.017 * (k % 5),
            )
            for k, p in enumerate(plates * 3)
        ]
        ingested = client.post(
            "/api/v1/reads", json={"reads": reads}, headers=auth(tokens["ingest"])
        )
        assert ingested.status_code in (200, 201), ingested.get_json()
        for day in range(6):
            clock.advance(timedelta(hours=1))
            for k, (purpose, why) in enumerate(JUSTIFICATIONS[: 2 + day % 4]):
                client.post(
                    "/api/v1/searches",
                    json=search_body(plate=plates[k % 4], purpose=purpose, justification=why),
                    headers=auth(tokens["officer"]),
                )
        clock.advance(timedelta(minutes=10))
        review_access(rt)
        hold = {
            "case_number": "26-004512",
            "reason": "Evidence in the Main St burglary",
            "review_by": "2026-12-15T00:00:00+00:00",
            "search_id": _first_allowed_search(rt),
        }
        placed = client.post("/api/v1/holds", json=hold, headers=auth(tokens["supervisor"]))
        assert placed.status_code == 201, placed.get_json()
        add_findings(rt, 120, severity="low")
        with rt.sessions.begin() as db:
            # Fresh tokens: the seeding moved the clock past the first ones' expiry.
            for role in tokens:
                tokens[role] = issue_token(db, rt, username=f"demo-{role}").token
            write_checkpoint(db, rt, Actor("demo-admin", OPERATING_ORI))
            oldest_high = db.scalar(
                select(Finding.id).where(Finding.severity == "high").order_by(Finding.id).limit(1)
            )
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_port}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                for name, role, path in PAGES:
                    started = sign_in(rt, tokens[role])
                    context = browser.new_context(viewport={"width": 1280, "height": 800})
                    context.add_cookies(
                        [
                            {
                                "name": SESSION_COOKIE,
                                "value": started.session_id,
                                "domain": "127.0.0.1",
                                "path": "/",
                                "secure": True,
                            }
                        ]
                    )
                    page = context.new_page()
                    response = page.goto(base + path.format(oldest_high=oldest_high))
                    if path.endswith(("#allowed", "#refused")):
                        for field, value in SEARCH_FORM.items():
                            page.locator(f"[name={field}]").fill(value) if field != "purpose" else (
                                page.locator("[name=purpose]").select_option(value)
                            )
                        if path.endswith("#refused"):
                            page.locator("[name=justification]").fill(REFUSED)
                        page.get_by_role("button", name="Search").click()
                        page.wait_for_load_state()
                    if path.endswith("#run"):
                        page.get_by_role("button", name="Run a verification now").click()
                        page.wait_for_load_state()
                    if response is None or response.status == 404:
                        print(f"skipped {name}: {path} is not a page here")
                        context.close()
                        continue
                    page.screenshot(path=str(out / f"{name}.png"))
                    print(f"{out / (name + '.png')} ({response.status})")
                    context.close()
                browser.close()
        finally:
            httpd.shutdown()
            rt.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
