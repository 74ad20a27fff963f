"""The public transparency page: live aggregates from the engine's own tables, nobody named."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from alpr_guard.checkpoints import verify_signed_file
from alpr_guard.clock import FixedClock
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.runtime import Runtime
from alpr_guard.services.policy_document import policy_sha256
from tests.api.test_policy import settings  # noqa: F401  (the deployment with a [policy])
from tests.conftest import NOW, auth, read, search_body

PLATE = "8QXZ417"
JUSTIFICATION = "Grey sedan seen leaving burglary at Elmwood pharmacy, witness statement taken"
CASE = "26-77731"
UNLISTED_PURPOSE = "curiosity_about_neighbour"


def _at(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


@pytest.fixture
def activity(client: FlaskClient, tokens: dict[str, str], clock: FixedClock, rt: Runtime) -> None:
    """Reads of several ages and cameras, searches allowed and refused, shares, one purge."""
    reads = [
        read(PLATE, _at(-timedelta(days=60, hours=-5)), camera="cam-3"),  # expires in 5 hours
        read(PLATE, _at(-timedelta(days=1)), camera="cam-1"),
        read("5DEF678", _at(-timedelta(days=2)), camera="cam-2"),
        read("5DEF678", _at(-timedelta(days=3)), camera="cam-9"),  # in no published area
    ]
    posted = client.post("/api/v1/reads", json={"reads": reads}, headers=auth(tokens["ingest"]))
    assert posted.status_code == 201, posted.get_json()
    clock.advance(timedelta(hours=6))  # the oldest read is now past the 60-day window
    assert purge_expired(rt, trigger="test").deleted_by_class["unmatched"] == 1
    window = {"from": _at(-timedelta(days=5)), "to": _at(timedelta(hours=6))}
    officer = auth(tokens["officer"])
    body = search_body(PLATE, justification=JUSTIFICATION, case_number=CASE, **window)
    found = client.post("/api/v1/searches", json=body, headers=officer)
    assert found.status_code == 200, found.get_json()
    refused = search_body(PLATE, purpose="immigration_enforcement", **window)
    assert client.post("/api/v1/searches", json=refused, headers=officer).status_code == 403
    unlisted = search_body(PLATE, purpose=UNLISTED_PURPOSE, **window)
    assert client.post("/api/v1/searches", json=unlisted, headers=officer).status_code == 422
    ids = [
        r["id"]
        for r in client.post("/api/v1/searches", json=body, headers=officer).get_json()["results"]
    ]
    supervisor = auth(tokens["supervisor"])
    share = {"purpose": "stolen_vehicle", "justification": JUSTIFICATION, "case_number": CASE}
    ok = client.post(
        "/api/v1/shares",
        json={**share, "recipient": "CA0190100", "read_ids": ids},
        headers=supervisor,
    )
    assert ok.status_code == 201, ok.get_json()
    ice = client.post(
        "/api/v1/shares",
        json={**share, "recipient": "VTICE0900", "read_ids": ids},
        headers=supervisor,
    )
    assert ice.status_code == 403
    assert client.get("/api/v1/audit/verify", headers=auth(tokens["auditor"])).status_code == 200


def _figures(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/transparency.json")
    assert response.status_code == 200
    data: dict[str, Any] = response.get_json()
    return data


@pytest.mark.usefixtures("activity")
def test_transparency_counts_what_the_engine_holds_and_did(
    client: FlaskClient, rt: Runtime
) -> None:
    t = _figures(client)
    assert t["policy"]["sha256"] == policy_sha256(rt.settings)
    assert t["retention_days"]["unmatched"] == 60
    assert t["cameras"] == [
        {"area": "Downtown", "cameras": 2, "reads_held": 2},
        {"area": "Harbor district", "cameras": 1, "reads_held": 0},  # its read was purged
        {"area": "not assigned to an area", "cameras": 1, "reads_held": 1},
    ]
    held = t["reads_held"]
    assert held["total"] == 3 and held["expired_awaiting_purge"] == 0
    assert held["by_class_and_age"]["unmatched"]["1-7 days"] == 3
    assert sum(held["by_class_and_age"]["hit"].values()) == 0
    searches = t["searches"]["by_purpose"]
    assert searches["stolen_vehicle"] == {"allowed": 2, "refused": 0}
    assert searches["immigration_enforcement"] == {"allowed": 0, "refused": 1}
    # A purpose code someone typed is not published: it may be free text.
    assert searches["unlisted"] == {"allowed": 0, "refused": 1}
    assert t["refusals"]["searches"]["unknown_purpose"] == 1
    assert t["refusals"]["searches"]["prohibited_purpose"] == 1
    assert t["refusals"]["shares"] == {"federal_agency": 1}
    by_recipient = {row["recipient"]: row for row in t["shares"]}
    assert by_recipient["Demo County Sheriff"]["allowed"] == 1
    assert by_recipient["Demo County Sheriff"]["reads_shared"] == 1
    assert by_recipient["ICE Law Enforcement Support Center"]["refused"] == 1
    (purge,) = t["purges"]
    assert purge["reads_deleted"]["unmatched"] == 1 and purge["receipt"]["audit_seq"]
    assert len(purge["receipt"]["hash"]) == 64
    assert t["audit_chain"]["last_verified_at"] is not None
    assert t["audit_chain"]["last_verification_ok"] is True


@pytest.mark.usefixtures("activity")
def test_transparency_names_no_person_no_plate_and_no_free_text(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    pages = [client.get("/transparency").get_data(as_text=True), json.dumps(_figures(client))]
    forbidden = [
        PLATE,
        "5DEF678",
        CASE,
        UNLISTED_PURPOSE,
        "t-officer",
        "t-supervisor",
        "t-auditor",
        "t-ingest",
        "Grey sedan",  # words of the free text
        "burglary",
        "Elmwood",
        "pharmacy",
        "witness",
    ]
    for page in pages:
        for needle in forbidden:
            assert needle.lower() not in page.lower(), needle


def test_transparency_is_public_and_cacheable(client: FlaskClient) -> None:
    page = client.get("/transparency")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "public, max-age=300"
    assert (
        client.get("/transparency", headers={"If-None-Match": page.headers["ETag"]}).status_code
        == 304
    )
    data = client.get("/transparency.json")
    assert data.headers["Content-Type"] == "application/json"
    assert data.headers["ETag"] != page.headers["ETag"]
    assert data.get_json()["reads_held"]["total"] == 0


@pytest.mark.usefixtures("activity")
def test_each_purge_links_its_signed_receipt_which_verifies_with_the_public_key_alone(
    client: FlaskClient, rt: Runtime, tmp_path: Path
) -> None:
    (purge,) = _figures(client)["purges"]
    receipt = purge["receipt"]
    assert receipt["download"] == f"/transparency/receipts/{receipt['run_id']}.json"
    page = client.get("/transparency").get_data(as_text=True)
    assert f'href="transparency/receipts/{receipt["run_id"]}.json"' in page
    assert 'href="api/v1/signing-key"' in page
    # A third party: no token, only the public pages.
    downloaded = client.get(receipt["download"])
    assert downloaded.status_code == 200
    assert downloaded.headers["Content-Type"] == "application/json"
    assert "attachment" in downloaded.headers["Content-Disposition"]
    document = downloaded.get_json()
    assert document["receipt"]["seq"] == receipt["audit_seq"]
    assert document["receipt"]["hash"] == receipt["hash"]
    assert document["receipt"]["receipt"]["deleted_by_class"]["unmatched"] == 1
    public_key = client.get(receipt["public_key"]).get_json()["public_key"]
    saved = tmp_path / "receipt.json"
    saved.write_bytes(downloaded.data)
    ok, message = verify_signed_file(saved, public_key)
    assert ok, message
    assert f"purge receipt {receipt['run_id']}" in message
    # No plate and no person in what anyone may download.
    text = downloaded.get_data(as_text=True).lower()
    for needle in (PLATE, "5DEF678", CASE, "t-officer", "t-supervisor", "t-auditor", "burglary"):
        assert needle.lower() not in text, needle
    # A doctored copy (fewer reads deleted) does not verify.
    doctored = json.loads(downloaded.data)
    doctored["receipt"]["receipt"]["deleted_by_class"]["unmatched"] = 0
    saved.write_text(json.dumps(doctored))
    ok, message = verify_signed_file(saved, public_key)
    assert not ok and "altered" in message


def test_a_receipt_is_refused_for_an_unknown_run_or_a_malformed_id(client: FlaskClient) -> None:
    unknown = client.get("/transparency/receipts/6f1c0d0e-0000-4000-8000-000000000001.json")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "not_found"
    malformed = client.get("/transparency/receipts/not-a-run.json")
    assert malformed.status_code == 422
    assert "run_id" in malformed.get_json()["error"]["details"]["fields"]
    assert "not-a-run" not in malformed.get_json()["error"]["message"]


def test_an_edited_receipt_event_is_never_signed_for_the_public(
    client: FlaskClient, rt: Runtime
) -> None:
    receipt = purge_expired(rt, trigger="test")
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET details = :d WHERE seq = :s"),
            {"d": '{"deleted_by_class":{"unmatched":0,"hit":0}}', "s": receipt.audit_seq},
        )
    response = client.get(f"/transparency/receipts/{receipt.run_id}.json")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "receipt_unavailable"


@pytest.mark.usefixtures("activity")
def test_purge_figures_come_from_the_chained_receipt_not_the_editable_row(
    client: FlaskClient, rt: Runtime
) -> None:
    (before,) = _figures(client)["purges"]
    assert before["receipt"]["verified"] is True
    # An insider shrinks the count in the bookkeeping row: the published figure stays the one
    # the chained receipt states.
    with rt.engine.begin() as conn:
        conn.execute(text("UPDATE purge_runs SET deleted_unmatched = 0"))
    (after,) = _figures(client)["purges"]
    assert after["reads_deleted"]["unmatched"] == before["reads_deleted"]["unmatched"] == 1
    # Editing the receipt event itself is visible: not verified, not offered for download.
    with rt.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET details = :d WHERE seq = :s"),
            {
                "d": '{"deleted_by_class":{"unmatched":0,"hit":0}}',
                "s": after["receipt"]["audit_seq"],
            },
        )
    (edited,) = _figures(client)["purges"]
    assert edited["receipt"]["verified"] is False and edited["receipt"]["download"] is None
    page = client.get("/transparency").get_data(as_text=True)
    assert "receipt does not verify" in page
    assert "transparency/receipts/" not in page
