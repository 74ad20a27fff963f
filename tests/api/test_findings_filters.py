"""The findings listing's text filters: malformed input is a 422 naming the field."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import auth


@pytest.mark.parametrize("field", ["rule", "user"])
def test_a_nul_in_a_text_filter_is_a_malformed_request_not_a_database_failure(
    client: FlaskClient, tokens: dict[str, str], field: str
) -> None:
    response = client.get(
        "/api/v1/review/findings",
        query_string={field: "config\x00_drift"},
        headers=auth(tokens["auditor"]),
    )
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["details"]["fields"] == {field: "must not contain a NUL character"}
    assert "config" not in error["message"]
    clean = client.get(
        "/api/v1/review/findings",
        query_string={field: "config_drift"},
        headers=auth(tokens["auditor"]),
    )
    assert clean.status_code == 200
