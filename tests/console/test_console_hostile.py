"""A partner agency's auditor probing the console for the operating agency's records: what its
pages say about findings it may not open."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from alpr_guard.models import Finding
from alpr_guard.runtime import Runtime
from tests.conftest import auth
from tests.console.test_hostile import partner_auditor

OPTION = re.compile(r'<option value="([^"]*)"')


def test_the_findings_page_names_no_rule_of_another_agencys_findings(
    client: FlaskClient, rt: Runtime, seeded: dict[str, str]
) -> None:
    # The filter's rule choices are the rules findings exist for: listing them across
    # agencies would tell a partner's auditor what the operating agency's users were flagged
    # for (a prohibited purpose, a protected activity), which no page it may open says.
    with rt.sessions() as db:
        operators = set(db.scalars(select(Finding.rule)))
    assert operators
    headers = auth(partner_auditor(rt))
    page = client.get("/console/findings", headers=headers)
    assert page.status_code == 200
    assert not operators & set(OPTION.findall(page.get_data(as_text=True)))
    # Asking for one of them by name finds nothing either.
    for rule in sorted(operators):
        listed = client.get("/console/findings", query_string={"rule": rule}, headers=headers)
        assert listed.status_code == 200
        assert "/console/findings/" not in listed.get_data(as_text=True).replace(
            'action="/console/findings/resolve', ""
        )
    # The operating agency's auditor still gets every rule.
    mine = client.get("/console/findings", headers=auth(seeded["auditor"]))
    assert operators <= set(OPTION.findall(mine.get_data(as_text=True)))
