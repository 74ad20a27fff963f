"""The compliance summary as a page (the API's ``/audit/summary``), with its charts: the age of
data searches reach, searches by purpose and outcome, refusals by reason, shares by recipient,
findings over time. Pulling it is a ``report.summary`` event, as through the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template

from alpr_guard.api.console.auth import page
from alpr_guard.api.console.blueprint import bp, day_arg
from alpr_guard.api.console.charts import BAD, bar_list, column_chart
from alpr_guard.api.context import commit, principal, runtime, session
from alpr_guard.errors import ValidationError
from alpr_guard.policy.access import Exposure
from alpr_guard.services.reports import (
    compliance_summary,
    record_summary_access,
    stored_reads_by_age,
)
from alpr_guard.services.review import findings_per_day

DEFAULT_DAYS = 30
MAX_DAYS = 3660


@bp.get("/summary")
@page("auditor", exposes=Exposure.OPERATOR_RECORDS)
def summary() -> str:
    rt, db = runtime(), session()
    until = day_arg("to", end=True)
    if until is None:
        now = rt.clock.now()
        until = datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo)
        until += timedelta(days=1)
    since = day_arg("from") or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise ValidationError({"to": "must not be before from"})
    if until - since > timedelta(days=MAX_DAYS):
        raise ValidationError({"from": f"the period may be at most {MAX_DAYS} days"})
    s = compliance_summary(db, rt, since, until)
    per_day = findings_per_day(db, since, until)
    retained = stored_reads_by_age(db, rt.clock.now())
    record_summary_access(db, rt, principal().actor, since, until, "console")
    commit()
    charts = {
        "retained": bar_list("Reads stored now by days since observed", retained),
        "age": bar_list("Allowed searches by how far back they reached", s.data_age),
        "outcome": bar_list("Searches by outcome", s.searches_by_outcome),
        "purpose": bar_list("Searches by purpose", s.searches_by_purpose),
        "refusals": bar_list("Refusals by reason code", s.refusals_by_reason, color=BAD),
        "recipients": bar_list(
            "Shares by recipient (allowed and refused)",
            [(r.recipient, r.allowed + r.refused) for r in s.shares_by_recipient],
        ),
        "findings": column_chart(
            "Findings raised per day", [(d.isoformat(), n) for d, n in per_day], width=480
        ),
    }
    return render_template(
        "console/summary.html",
        s=s,
        charts=charts,
        per_day=per_day,
        values={
            "from": since.date().isoformat(),
            "to": (until - timedelta(days=1)).date().isoformat(),
        },
    )
