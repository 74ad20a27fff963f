"""The administrators' page: users, the registry with vetting state, the enforced policy's hash
and its history; read-only, and the look recorded."""

from __future__ import annotations

import dataclasses
import json

from flask import Flask
from sqlalchemy import select

from alpr_guard.audit import Actor
from alpr_guard.models import AuditEvent
from alpr_guard.runtime import Runtime
from alpr_guard.services.config_audit import record_policy
from alpr_guard.services.policy_document import policy_sha256
from tests.console.conftest import cookie_client
from tests.console.test_pages import events


def test_admin_sees_users_registry_and_policy_history(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    with rt.sessions.begin() as db:
        record_policy(db, rt, Actor("t-admin", "CA0199900"))
    # the policy changes (sharing switched on for out-of-state agencies, say) and is recorded
    policy = json.loads(rt.settings.policy_json)
    policy["marker"] = 1
    changed = dataclasses.replace(rt.settings, policy_json=json.dumps(policy, sort_keys=True))
    with rt.sessions.begin() as db:
        record_policy(db, dataclasses.replace(rt, settings=changed), Actor("t-admin", None))
    browser, _csrf = cookie_client(app, rt, seeded["admin"])
    start = browser.get("/console/")
    assert start.status_code == 302 and start.headers["Location"].endswith("/console/admin")
    page = browser.get("/console/admin").get_data(as_text=True)
    assert policy_sha256(rt.settings) in page
    assert "<code>marker</code>" in page  # the change, by key
    assert "not recorded" in page  # the running policy is no longer the last one on record
    assert "t-officer" in page and "CAFBISF00" in page and "Unvetted City PD" in page
    assert len(events(rt, "console.admin_viewed")) == 1
    officer, _ = cookie_client(app, rt, seeded["officer"])
    assert officer.get("/console/admin").status_code == 403


def test_admin_disables_an_account_at_once_but_not_their_own(
    app: Flask, rt: Runtime, seeded: dict[str, str]
) -> None:
    admin, csrf = cookie_client(app, rt, seeded["admin"])
    officer, _ = cookie_client(app, rt, seeded["officer"])
    assert officer.get("/console/search").status_code == 200
    assert admin.post("/console/admin/users/t-officer/disable").status_code == 403  # no CSRF
    assert officer.get("/console/search").status_code == 200
    own = admin.post("/console/admin/users/t-admin/disable", data={"csrf_token": csrf})
    assert own.status_code == 403
    done = admin.post("/console/admin/users/t-officer/disable", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert officer.get("/console/search").status_code == 401  # the session ended at once
    [revoked] = events(rt, "token.revoked")
    assert revoked["username"] == "t-officer" and revoked["disabled"] is True
    with rt.sessions() as db:
        actor = db.scalar(select(AuditEvent.actor).where(AuditEvent.kind == "token.revoked"))
    assert actor == "t-admin"
    page = admin.get("/console/admin").get_data(as_text=True)
    assert "Disable t-officer" not in page and "Disable t-admin" not in page
    assert "/console/admin/users/nobody/disable" not in page
    missing = admin.post("/console/admin/users/nobody/disable", data={"csrf_token": csrf})
    assert missing.status_code == 404
