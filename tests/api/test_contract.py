"""One declaration per contract: the OpenAPI document is generated from the models that validate.

Every documented example is valid under the document and accepted by its model; every response
the routes give here, errors included, is a status its operation documents, with a body valid
under the documented schema; errors name fields and never echo a value.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from alpr_guard.api import models
from alpr_guard.api import review as review_view
from alpr_guard.api.app import BLUEPRINTS  # noqa: F401  (every view declares its routes)
from alpr_guard.api.contract import OPERATIONS, route, salvage, validate
from alpr_guard.api.openapi import spec
from alpr_guard.api.parsing import parse_read_batch, salvage_search_request
from alpr_guard.errors import ValidationError
from alpr_guard.schemas import HIT_REQUIRED
from alpr_guard.services.review import FindingView
from tests.conftest import auth, read, search_body

DOC = spec()
PLATE = "7QZX481"  # a plate that must never come back in an error


def schema_validator(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator(
        {**schema, "components": DOC["components"]}, validate_formats=True
    )


def component(name: str) -> Any:
    return schema_validator({"$ref": f"#/components/schemas/{name}"})


def test_every_route_is_declared_once_and_the_document_has_them_all(app: Flask) -> None:
    served = {
        (method, re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        # The console's pages are the browser's door (forms, CSRF, HTML), not the API.
        if not rule.rule.startswith("/console")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    declared = [(op.method.upper(), op.path) for op in OPERATIONS]
    assert len(declared) == len(set(declared))
    assert served == set(declared)
    documented = {(m.upper(), p) for p, item in DOC["paths"].items() for m in item}
    assert documented == served


def test_every_input_model_is_strict_and_refuses_unknown_fields() -> None:
    inputs = {m for op in OPERATIONS for m in (op.body, op.query, op.params) if m is not None}
    assert len(inputs) >= 15
    for model in inputs:
        assert model.model_config.get("strict") is True, model.__name__
        if issubclass(model, models.LenientQuery):
            continue  # query strings whose unknown parameters were always ignored
        assert model.model_config.get("extra") == "forbid", model.__name__
        schema = DOC["components"]["schemas"].get(model.__name__)
        if schema is not None:
            assert schema["additionalProperties"] is False, model.__name__
    bodies = {op.body for op in OPERATIONS if op.body is not None}
    assert len(bodies) == 6
    assert not any(issubclass(m, models.LenientQuery) for m in bodies)


def test_an_unknown_query_parameter_is_named_where_the_route_refuses_them(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    url = "/api/v1/review/findings?status=open&plate=7QZX481&limit=x"
    response = client.get(url, headers=auth(tokens["auditor"]))
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == {
        "plate": "unknown query parameter",
        "limit": "must be an integer from 0 to 1000",
    }
    assert PLATE not in response.get_data(as_text=True)


def _models_by_name() -> dict[str, type[BaseModel]]:
    out: dict[str, type[BaseModel]] = {}
    for name in dir(models):
        value = getattr(models, name)
        if isinstance(value, type) and issubclass(value, BaseModel):
            out[value.__name__] = value
    return out


def test_every_documented_example_is_valid_under_the_document_and_its_model() -> None:
    by_name = _models_by_name()
    checked = 0
    for name, schema in DOC["components"]["schemas"].items():
        for example in schema.get("examples", []):
            errors = [e.message for e in component(name).iter_errors(example)]
            assert not errors, (name, errors)
            validate(by_name[name], example)  # and the model that validates accepts it
            checked += 1
    assert checked >= 8


def test_the_document_says_what_validation_enforces() -> None:
    """The disagreements that hand-written documents had: limits, integers, both 422s."""
    search = DOC["components"]["schemas"]["SearchIn"]["properties"]
    assert search["purpose"]["maxLength"] == 64
    assert search["justification"]["maxLength"] == 2000
    findings = {p["name"]: p for p in DOC["paths"]["/api/v1/review/findings"]["get"]["parameters"]}
    assert findings["limit"]["schema"]["type"] == "integer"
    assert findings["offset"]["schema"]["type"] == "integer"
    for path in ("/api/v1/holds/{hold_id}/approve", "/api/v1/holds/{hold_id}"):
        assert "422" in DOC["paths"][path][next(iter(DOC["paths"][path]))]["responses"]
    ids = DOC["components"]["schemas"]["ShareIn"]["properties"]["read_ids"]
    assert ids["items"]["format"] == "uuid"


def check(response: Any, method: str, path: str) -> None:
    """The response's status is documented for the operation and its JSON body fits."""
    operation = DOC["paths"][path][method.lower()]
    documented = operation["responses"]
    status = str(response.status_code)
    assert status in documented, (method, path, status, response.get_data(as_text=True)[:300])
    schema = documented[status].get("content", {}).get("application/json", {}).get("schema")
    if schema is not None and response.is_json:
        body = response.get_json()
        errors = [e.message for e in schema_validator(schema).iter_errors(body)]
        assert not errors, (method, path, status, errors)
    assert PLATE not in response.get_data(as_text=True) or path == "/api/v1/searches"


def test_every_response_here_is_documented_and_fits_its_schema(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    def call(
        method: str,
        url: str,
        role: str | None,
        body: Any = None,
        *,
        path: str | None = None,
        raw: bytes | None = None,
    ) -> Any:
        headers = auth(tokens[role]) if role else {}
        if raw is not None:
            response = client.open(
                url, method=method, data=raw, headers=headers, content_type="application/json"
            )
        else:
            response = client.open(url, method=method, json=body, headers=headers)
        check(response, method, path or url.split("?", maxsplit=1)[0])
        return response

    reads = "/api/v1/reads"
    stored = call("POST", reads, "ingest", {"reads": [read(), read(plate=PLATE, camera="c2")]})
    assert stored.status_code == 201
    read_id = stored.get_json()["ids"][0]
    assert call("POST", reads, None, {"reads": [read()]}).status_code == 401
    assert call("POST", reads, "officer", {"reads": [read()]}).status_code == 403
    bad = {"reads": [read(), read(plate=PLATE, latitude=91, longitude=0, camera=" ")]}
    refused = call("POST", reads, "ingest", bad)
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["details"]["fields"]) == {
        "reads[1].latitude",
        "reads[1].camera_id",
    }
    assert call("POST", reads, "ingest", raw=b"{not json").status_code == 422
    assert call("POST", reads, "ingest", {"reads": [], "agency": "x"}).status_code == 422

    searches = "/api/v1/searches"
    found = call("POST", searches, "officer", search_body())
    assert found.status_code == 200
    search_id = found.get_json()["search_id"]
    assert call("POST", searches, "officer", search_body(page_size=0)).status_code == 422
    assert call("POST", searches, "officer", search_body(purpose="immigration_enforcement"))
    assert call("POST", searches, "officer", {"plate": PLATE, "x": 1}).status_code == 422

    shares = "/api/v1/shares"
    share = {"recipient": "CA0190100", "purpose": "stolen_vehicle", "justification": "case"}
    call("POST", shares, "supervisor", {**share, "search_id": search_id})
    assert call("POST", shares, "supervisor", {**share, "read_ids": "x"}).status_code == 422
    assert call("GET", f"{shares}?limit=x", "supervisor").status_code == 422
    assert call("GET", f"{shares}?outcome=refused", "auditor").status_code == 200
    assert call("GET", "/api/v1/signing-key", None).status_code == 200

    holds = "/api/v1/holds"
    hold_body = {
        "case_number": "26-004512",
        "reason": "evidence",
        "read_ids": [read_id],
        "review_by": "2027-01-01T00:00:00Z",
    }
    placed = call("POST", holds, "supervisor", hold_body)
    assert placed.status_code == 201
    hold_id = placed.get_json()["id"]
    one = "/api/v1/holds/{hold_id}"
    assert call("GET", f"{holds}/{hold_id}", "auditor", path=one).status_code == 200
    assert call("GET", f"{holds}/nope", "auditor", path=one).status_code == 422
    assert call("GET", f"{holds}/{uuid.uuid4()}", "auditor", path=one).status_code == 404
    approve = "/api/v1/holds/{hold_id}/approve"
    call("POST", f"{holds}/{uuid.uuid4()}/approve", "supervisor", {}, path=approve)
    release = "/api/v1/holds/{hold_id}/release"
    assert call("POST", f"{holds}/{hold_id}/release", "supervisor", {}, path=release)
    released = call(
        "POST", f"{holds}/{hold_id}/release", "supervisor", {"reason": "closed"}, path=release
    )
    assert released.status_code in (200, 409)
    assert call("POST", holds, "supervisor", {**hold_body, "reason": " "}).status_code == 422
    assert call("GET", f"{holds}?status=x", "auditor").status_code == 422
    assert call("GET", f"{holds}?overdue=true", "admin").status_code == 200
    assert call("GET", "/api/v1/purges", "auditor").status_code == 200
    assert call("GET", "/api/v1/purges?limit=0", "auditor").status_code == 422

    findings = "/api/v1/review/findings"
    assert call("GET", findings, "auditor").status_code == 200
    assert call("GET", f"{findings}?status=x", "auditor").status_code == 422
    resolve = "/api/v1/review/findings/{finding_id}/resolve"
    note = {"verdict": "justified", "note": "ok"}
    assert call("POST", f"{findings}/7/resolve", "auditor", note, path=resolve).status_code == 404
    wrong = {"verdict": "fine", "note": ""}
    answer = call("POST", f"{findings}/7/resolve", "auditor", wrong, path=resolve)
    assert set(answer.get_json()["error"]["details"]["fields"]) == {"verdict", "note"}
    rates = "/api/v1/review/vague-rates"
    assert call("GET", rates, "auditor").status_code == 422
    window = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
    assert call("GET", f"{rates}?{window}", "auditor").status_code == 200

    audit = "/api/v1/audit"
    assert call("GET", f"{audit}/verify", "auditor").status_code == 200
    assert call("GET", f"{audit}/summary?{window}", "auditor").status_code == 200
    assert call("GET", f"{audit}/summary", "auditor").status_code == 422
    assert call("GET", f"{audit}/access-report?{window}", "auditor").status_code == 200
    for public in ("/healthz", "/readyz", "/api/v1/openapi.json", "/transparency.json"):
        call("GET", public, None)
    assert call("GET", "/policy?format=x", None).status_code == 422


TEXT = st.one_of(st.text(max_size=20), st.integers(), st.none(), st.booleans(), st.floats())


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["plate", "from", "to", "purpose", "case_number", "on_behalf_of", "z"]),
        TEXT,
    )
)
def test_errors_name_fields_and_never_carry_a_value(body: dict[str, Any]) -> None:
    """Whatever a field holds, no error message quotes it (a plate typed anywhere)."""
    planted = {**body, "plate": PLATE + "!", "case_number": PLATE + "\x01"}
    with pytest.raises(ValidationError) as info:
        validate(models.SearchIn, planted)
    text = json.dumps({"message": info.value.message, "details": info.value.details})
    assert PLATE not in text
    required = {"plate", "from", "to", "purpose", "justification"}
    assert {"plate", "case_number"} <= set(info.value.fields) <= {*planted, *required}


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("page_size", True, "must be an integer from 1 to 50"),
        ("page_size", "5", "must be an integer from 1 to 50"),
        ("page_size", 5.0, "must be an integer from 1 to 50"),
        ("plate", 7123, "must be a string"),
        ("from", 1763539200, "must be an ISO 8601 string with a timezone"),
        ("on_behalf_of", ["CA0190100"], "must be a 9-character ORI"),
    ],
)
def test_strict_models_take_no_value_of_another_type(field: str, value: Any, why: str) -> None:
    """No coercion: what a client sends is what it meant, or it is told which field is wrong."""
    values, errors = salvage_search_request(search_body(**{field: value}), 50)
    assert errors == {field: why}
    target = {"from": "window_from"}.get(field, field)
    assert target not in values  # the rest is kept: the attempt is recorded with it
    assert {"plate", "window_from", "window_to", "purpose", "justification"} - {target} <= set(
        values
    )


@pytest.mark.parametrize(
    ("change", "path", "why"),
    [
        ({"latitude": "37.7", "longitude": 1}, "reads[0].latitude", "must be a number"),
        ({"confidence": True}, "reads[0].confidence", "must be a number"),
        ({"hit": "true"}, "reads[0].hit", HIT_REQUIRED),
        ({"client_read_id": 12}, "reads[0].client_read_id", "must be 1-128 printable"),
        ({"retention_class": "hit"}, "reads[0].retention_class", "unknown field"),
    ],
)
def test_a_read_cannot_smuggle_a_type_or_a_field(
    change: dict[str, Any], path: str, why: str
) -> None:
    with pytest.raises(ValidationError) as info:
        parse_read_batch({"reads": [read(plate=PLATE, **change)]}, 10)
    assert info.value.fields[path].startswith(why)
    assert PLATE not in info.value.message


def test_a_route_without_an_access_declaration_is_refused_at_import() -> None:
    """route() reads who may call the route from require()/public; a view that declares
    neither (or sits above route) would be served unguarded, so it is not registered."""
    bp = Blueprint("unguarded", __name__)

    def view() -> str:
        return "plate data"

    before = len(OPERATIONS)
    with pytest.raises(TypeError, match="declare require"):
        route(bp, "GET", "/unguarded", "no guard", responses={200: "text"})(view)
    assert len(OPERATIONS) == before
    assert not bp.deferred_functions  # nothing was added to the blueprint either


def test_a_finding_as_served_fits_its_documented_schema() -> None:
    """Findings need a review run to exist; their wire form is checked from the view's own
    serialiser, for a search's finding and a camera's."""
    at = datetime(2026, 11, 19, 8, tzinfo=UTC)
    search = FindingView(
        id=1,
        search_id=uuid.uuid4(),
        rule="prohibited_purpose",
        severity="high",
        matched={"refused": True, "rule": "immigration", "matched": ["ICE"]},
        status="resolved",
        verdict="misuse",
        note="referred",
        created_at=at,
        resolved_at=at,
        resolved_by="t-auditor",
        username="t-officer",
        agency_ori="CA0190000",
        searched_at=at,
        purpose="stolen_vehicle",
    )
    camera = FindingView(
        id=2,
        search_id=None,
        rule="hit_rate",
        severity="medium",
        matched={"rate": 0.4, "median": 0.1},
        status="open",
        verdict=None,
        note=None,
        created_at=at,
        resolved_at=None,
        resolved_by=None,
        username=None,
        agency_ori=None,
        searched_at=None,
        purpose=None,
        camera_id="cam-1",
    )
    for finding in (search, camera):
        body = json.loads(json.dumps(review_view._serialise(finding)))
        errors = [e.message for e in component("FindingOut").iter_errors(body)]
        assert not errors, errors


def test_salvage_keeps_a_plain_field_of_a_malformed_request() -> None:
    """A field declared with no rule or constraint (a plain flag) is salvaged like the others
    (schemathesis found it answering 500 when another field was malformed)."""
    values, errors = salvage(models.SearchIn, {**search_body(include_images=True), "plate": 1})
    assert errors == {"plate": "must be a string"}
    assert values["include_images"] is True
