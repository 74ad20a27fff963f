"""Administrators' page: users with their roles and agencies (read-only when accounts come from
the identity provider, which then owns them), the agency registry with its vetting state, and
the enforced policy with its hash and the history of its changes. Looking is an audit event
(``console.admin_viewed``)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from alpr_guard.api.console.auth import check_csrf, page
from alpr_guard.api.console.blueprint import bp
from alpr_guard.api.context import commit, principal, runtime, session
from alpr_guard.errors import Forbidden
from alpr_guard.policy.access import Exposure
from alpr_guard.services.agencies import list_agencies
from alpr_guard.services.config_audit import policy_history
from alpr_guard.services.policy_document import effective_at, policy_sha256
from alpr_guard.services.principals import list_users, revoke_tokens
from alpr_guard.vocabulary import AuditKind


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
        AuditKind.CONSOLE_ADMIN_VIEWED,
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
        disabled=request.args.get("disabled", ""),
    )


@bp.post("/admin/users/<username>/disable")
@page("admin", exposes=Exposure.OPERATOR_RECORDS)
def disable_user(username: str) -> WerkzeugResponse:
    """Disable an account at once: its tokens revoked, its signed-in browsers ended (also for
    accounts from the identity provider, whose next sign-in is then refused). Recorded as
    ``token.revoked`` with the admin as the actor. An admin cannot disable their own account
    (the last admin would lock everyone out of administration)."""
    check_csrf()
    who = principal()
    if username.strip().lower() == who.username:
        raise Forbidden("you cannot disable your own account")
    revoke_tokens(session(), runtime(), username=username, disable=True, actor=who.actor)
    commit()
    return redirect(url_for("console.admin", disabled=username), code=303)
