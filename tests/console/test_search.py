"""Officers' search page: the API's screening and record, a refusal in plain words, results as a
table and a tile-free plot of where the plate was seen."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from alpr_guard.runtime import Runtime
from tests.conftest import auth, read
from tests.console.conftest import cookie_client
from tests.console.test_pages import events

FORM = {
    "plate": "6DEF789",
    "from": "2026-11-13",
    "to": "2026-11-20",
    "purpose": "stolen_vehicle",
    "justification": "Vehicle reported stolen from Main St lot, owner report filed",
    "case_number": "26-004512",
}


def ingest_located(client: FlaskClient, token: str) -> None:
    reads = [
        read(plate="6DEF789", camera="cam-north", latitude=37.80, longitude=-122.27),
        read(
            plate="6DEF789",
            camera="cam-south",
            at="2026-11-19T09:00:00+00:00",
            latitude=37.76,
            longitude=-122.21,
        ),
    ]
    r = client.post("/api/v1/reads", json={"reads": reads}, headers=auth(token))
    assert r.status_code in (200, 201), r.get_json()


def test_an_allowed_search_shows_a_table_and_a_map(
    app: Flask, client: FlaskClient, rt: Runtime, tokens: dict[str, str]
) -> None:
    ingest_located(client, tokens["ingest"])
    browser, csrf = cookie_client(app, rt, tokens["officer"])
    form = browser.get("/console/search").get_data(as_text=True)
    assert 'name="plate"' in form and "stolen_vehicle" in form
    r = browser.post("/console/search", data={**FORM, "csrf_token": csrf})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "2 reads found" in page
    assert page.count("<circle") == 2 and "cam-north" in page and "cam-south" in page
    assert "tile" not in page.lower().replace("tile-free", "")
    assert 'value="6DEF789"' not in page  # not echoed back into the form
    assert len(events(rt, "search.allowed")) == 1  # the API's own record of the search


def test_a_refusal_is_shown_in_plain_words_and_recorded(
    app: Flask, client: FlaskClient, rt: Runtime, tokens: dict[str, str]
) -> None:
    ingest_located(client, tokens["ingest"])
    browser, csrf = cookie_client(app, rt, tokens["officer"])
    r = browser.post(
        "/console/search",
        data={**FORM, "justification": "ICE asked us to find this car", "csrf_token": csrf},
    )
    assert r.status_code == 403 and r.headers["X-Error-Code"] == "prohibited_purpose"
    page = r.get_data(as_text=True)
    assert "This search was refused." in page and "prohibited_purpose" in page
    assert "may not be used for what the justification describes" in page  # in plain words
    assert "<circle" not in page and "cam-north" not in page  # nothing released
    assert len(events(rt, "search.refused")) == 1
    vague_response = browser.post(
        "/console/search", data={**FORM, "justification": "", "csrf_token": csrf}
    )
    assert vague_response.status_code == 422
    vague = vague_response.get_data(as_text=True)
    assert "This search was refused." in vague and "justification_required" in vague
    missing_response = browser.post(
        "/console/search", data={**FORM, "from": "last week", "csrf_token": csrf}
    )
    assert missing_response.status_code == 422
    missing = missing_response.get_data(as_text=True)
    assert "some fields need fixing" in missing and "<code>from</code>" in missing


def test_an_officer_of_an_agency_that_may_not_hold_reads_gets_no_form_and_no_reads(
    app: Flask, client: FlaskClient, rt: Runtime, tokens: dict[str, str]
) -> None:
    """A federal agency's officer (an account from before the sharing rules): the form is
    refused with the rule's code, and a posted search is screened, refused and recorded."""
    ingest_located(client, tokens["ingest"])
    browser, csrf = cookie_client(app, rt, tokens["officer@CAFBISF00"])
    form = browser.get("/console/search")
    assert form.status_code == 403 and form.headers["X-Error-Code"] == "federal_agency"
    posted = browser.post("/console/search", data={**FORM, "csrf_token": csrf})
    assert posted.status_code == 403 and posted.headers["X-Error-Code"] == "federal_agency"
    assert "cam-north" not in posted.get_data(as_text=True)
    assert len(events(rt, "search.refused")) == 1


def test_search_needs_csrf_and_a_search_role(
    app: Flask, rt: Runtime, tokens: dict[str, str]
) -> None:
    browser, _csrf = cookie_client(app, rt, tokens["officer"])
    assert browser.post("/console/search", data=FORM).status_code == 403
    auditor, csrf = cookie_client(app, rt, tokens["auditor"])
    assert auditor.post("/console/search", data={**FORM, "csrf_token": csrf}).status_code == 403
    assert auditor.get("/console/search").status_code == 403
