"""GET /api/v1/review/findings says how many findings match, whatever the page."""

from __future__ import annotations

from flask.testing import FlaskClient

from alpr_guard.runtime import Runtime
from tests.cli.test_review_list import _findings
from tests.conftest import auth


def test_findings_page_carries_total_offset_and_limit(
    client: FlaskClient, rt: Runtime, tokens: dict[str, str]
) -> None:
    ids = _findings(rt, 5)
    response = client.get(
        "/api/v1/review/findings?limit=2&offset=2", headers=auth(tokens["auditor"])
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body is not None
    assert [f["id"] for f in body["findings"]] == ids[2:4]
    assert (body["total"], body["offset"], body["limit"]) == (5, 2, 2)
    narrowed = client.get(
        "/api/v1/review/findings?status=resolved", headers=auth(tokens["auditor"])
    ).json
    assert narrowed is not None and (narrowed["findings"], narrowed["total"]) == ([], 0)
