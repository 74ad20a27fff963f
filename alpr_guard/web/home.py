"""The console's front door: where a signed-in person starts, and what needs attention."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from alpr_guard.api.context import HUMAN_ROLES, commit, principal, runtime, session
from alpr_guard.errors import Forbidden
from alpr_guard.policy.access import Exposure
from alpr_guard.services.attention import attention
from alpr_guard.web.auth import can, page
from alpr_guard.web.blueprint import NAV, bp
from alpr_guard.web.charts import BAD, bar_list


@bp.get("/")
@page(*HUMAN_ROLES, exposes=Exposure.ACCOUNT)
def index() -> WerkzeugResponse:
    """To the first page the viewer may open."""
    for endpoint, _label in NAV:
        if can(endpoint):
            return redirect(url_for(endpoint))
    raise Forbidden("no console page is open to your role")


@bp.get("/home")
@page("auditor", exposes=Exposure.OPERATOR_RECORDS)
def home() -> str:
    rt, db = runtime(), session()
    figures = attention(db, rt, principal())
    commit()
    return render_template(
        "console/home.html",
        a=figures,
        refusal_chart=bar_list(
            "Refusals in the last 7 days by reason", figures.refusals_by_reason, color=BAD
        ),
    )
