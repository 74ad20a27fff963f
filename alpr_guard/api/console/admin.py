"""Administrators' page: users with their roles and agencies (read-only when accounts come from
the identity provider, which then owns them), the agency registry with its vetting state, and
the enforced policy with its hash and the history of its changes. Looking is an audit event
(``console.admin_viewed``)."""

from __future__ import annotations

from flask import render_template

from alpr_guard.api.console.auth import page
from alpr_guard.api.console.blueprint import bp
from alpr_guard.api.context import commit, principal, runtime, session
from alpr_guard.policy.access import Exposure
from alpr_guard.services.agencies import list_agencies
from alpr_guard.services.config_audit import policy_history
from alpr_guard.services.policy_document import effective_at, policy_sha256
from alpr_guard.services.principals import list_users


@bp.get("/admin")
@page("admin", exposes=Exposure.OPERATOR_RECORDS)
def admin() -> str:
    rt, db = runtime(), session()
    users = list_users(db)
    agencies = list_agencies(db)
    history = policy_history(db)
    digest = policy_sha256(rt.settings)
    since = effective_at(db, rt.settings)
    rt.audit.append(
        db,
        "console.admin_viewed",
        principal().actor,
        details={"users": len(users), "agencies": len(agencies), "policy_sha256": digest},
    )
    commit()
    return render_template(
        "console/admin.html",
        users=users,
        agencies=agencies,
        history=history,
        digest=digest,
        since=since,
        from_provider=rt.settings.auth.oidc is not None,
        now=rt.clock.now(),
    )
