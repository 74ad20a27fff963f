"""The console's front door: where a signed-in person starts, and what needs attention."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from alpr_guard.api.console.auth import can, page
from alpr_guard.api.console.blueprint import NAV, bp
from alpr_guard.api.console.charts import BAD, bar_list
from alpr_guard.api.context import HUMAN_ROLES, commit, principal, runtime, session
from alpr_guard.policy.access import Exposure
from alpr_guard.services.attention import attention


@bp.get("/")
@page(*HUMAN_ROLES, exposes=Exposure.ACCOUNT)
def index() -> WerkzeugResponse | str:
    """To the first page the viewer may open; a page saying so when there is none (a partner
    agency's supervisor, say: signed in, but nothing here is theirs to see)."""
    for endpoint, _label in NAV:
        if can(endpoint):
            return redirect(url_for(endpoint))
    return render_template("console/nothing.html")


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
