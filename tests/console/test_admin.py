"""The administrators' page: users, the registry with vetting state, the enforced policy's hash
and its history; read-only, and the look recorded."""

from __future__ import annotations

import dataclasses
import json

from flask import Flask

from alpr_guard.audit import Actor
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
    assert "<form" not in page.split("<main")[1]  # nothing to change here
    assert len(events(rt, "console.admin_viewed")) == 1
    officer, _ = cookie_client(app, rt, seeded["officer"])
    assert officer.get("/console/admin").status_code == 403
