"""In-state-only sharing: signed bundles for vetted California agencies, every other recipient
refused with its reason code, whether asked directly, through a share, or through an in-state
officer's on_behalf_of search; every attempt in the audit log."""

from __future__ import annotations

import base64
import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from alpr_guard.clock import FixedClock
from alpr_guard.models import AuditEvent, Share
from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.screening import ShareFacts, screen_share
from alpr_guard.policy.sharing import AgencyFacts
from alpr_guard.runtime import Runtime
from alpr_guard.services.agencies import AgencyInput, parse_registry, upsert_agency
from alpr_guard.services.principals import SYSTEM, issue_token
from alpr_guard.services.sharing import verify_bundle
from alpr_guard.settings import load_settings
from tests.conftest import NOW, REPO, auth, read, search_body, write_config


def ingest(client: FlaskClient, tokens: dict[str, str]) -> list[str]:
    response = client.post(
        "/api/v1/reads",
        json={
            "reads": [
                read(at="2026-11-18T08:00:00Z"),
                read(at="2026-11-19T09:00:00Z", camera="cam-2"),
            ]
        },
        headers=auth(tokens["ingest"]),
    )
    ids: list[str] = response.get_json()["ids"]
    return ids


def share(client: FlaskClient, tokens: dict[str, str], **body: Any) -> Any:
    payload = {
        "purpose": "stolen_vehicle",
        "justification": "Stolen vehicle recovered in their county; case transfer",
        "case_number": "26-004512",
        **body,
    }
    return client.post("/api/v1/shares", json=payload, headers=auth(tokens["supervisor"]))


def public_key(client: FlaskClient) -> bytes:
    info = client.get("/api/v1/signing-key").get_json()
    assert info["algorithm"] == "Ed25519"
    return base64.b64decode(info["public_key"])


def test_vetted_in_state_agency_gets_a_verifiable_bundle(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, tmp_path: Path
) -> None:
    ids = ingest(client, tokens)
    response = share(client, tokens, recipient="CA0190100", read_ids=ids)
    assert response.status_code == 201, response.get_json()
    document = response.get_json()
    bundle = document["bundle"]
    assert bundle["recipient"]["ori"] == "CA0190100"
    assert bundle["issuer"]["ori"] == "CA0199900"
    assert [r["plate"] for r in bundle["reads"]] == ["7ABC123", "7ABC123"]
    assert bundle["bundle_id"] == document["share_id"]
    signed = {"bundle": bundle, "signature": document["signature"]}
    key = public_key(client)
    assert verify_bundle(signed, key)[0]
    tampered = copy.deepcopy(signed)
    tampered["bundle"]["recipient"]["ori"] = "VTICE0900"
    ok, why = verify_bundle(tampered, key)
    assert not ok and "altered" in why
    with rt.sessions() as session:
        record = session.scalar(select(Share))
        assert record is not None and record.outcome == "allowed" and record.read_count == 2
        assert record.bundle_sha256 is not None
        assert session.get_one(AuditEvent, record.audit_seq).kind == "share.allowed"


def test_share_by_search_id(client: FlaskClient, tokens: dict[str, str]) -> None:
    ingest(client, tokens)
    searched = client.post(
        "/api/v1/searches", json=search_body(), headers=auth(tokens["supervisor"])
    ).get_json()
    response = share(client, tokens, recipient="CA0000HP0", search_id=searched["search_id"])
    assert response.status_code == 201
    assert len(response.get_json()["bundle"]["reads"]) == 2


@pytest.mark.parametrize(
    ("recipient", "code"),
    [
        ("CAFBISF00", ReasonCode.FEDERAL_AGENCY),  # FBI, ORI starts "CA"
        ("CAICE0100", ReasonCode.FEDERAL_AGENCY),  # ICE office in California
        ("VTICE0900", ReasonCode.FEDERAL_AGENCY),  # ICE's support centre in Vermont
        ("NV0020000", ReasonCode.OUT_OF_STATE_AGENCY),
        ("CAREPO001", ReasonCode.PRIVATE_ENTITY),
        ("CAZZZ9999", ReasonCode.UNKNOWN_AGENCY),
        ("CA0190200", ReasonCode.AGENCY_NOT_VETTED),
        ("CATRB0001", ReasonCode.KIND_NOT_ALLOWED),
    ],
)
def test_every_other_recipient_is_refused_three_ways(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, recipient: str, code: ReasonCode
) -> None:
    ids = ingest(client, tokens)
    direct = share(client, tokens, recipient=recipient, read_ids=ids)
    assert direct.status_code == 403
    assert direct.get_json()["error"]["code"] == code.value
    assert "7ABC123" not in direct.get_data(as_text=True)
    proxy = client.post(
        "/api/v1/searches",
        json=search_body(on_behalf_of=recipient),
        headers=auth(tokens["officer"]),
    )
    assert proxy.status_code == 403
    assert proxy.get_json()["error"]["code"] == code.value
    with rt.sessions() as session:
        kinds = [e.kind for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert "share.refused" in kinds and "search.refused" in kinds
        refused = session.scalar(select(Share))
        assert refused is not None and refused.reason_code == code.value
        assert refused.bundle_sha256 is None


def test_attestation_expired_under_the_attestation_profile(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, "sqlite:///x.db").parent / "alpr_guard.toml")
    illinois_cfg = tmp_path / "il.toml"
    illinois_cfg.write_text(
        (tmp_path / "alpr_guard.toml")
        .read_text()
        .replace(str(REPO / "config" / "california.toml"), str(REPO / "config" / "illinois.toml"))
    )
    illinois = load_settings(illinois_cfg)
    assert illinois.sharing.allow_out_of_state_with_attestation
    sheriff = AgencyFacts("NV0020000", "Washoe", "local", "NV", True, NOW - timedelta(days=1))
    home = AgencyFacts("CA0199900", "Test City PD", "local", "CA", True, None)
    facts = ShareFacts(
        home,
        "NV0020000",
        sheriff,
        "stolen_vehicle",
        "Stolen vehicle recovered in their county",
        "26-1",
    )
    assert screen_share(facts, illinois, NOW).reason == ReasonCode.ATTESTATION_EXPIRED
    valid = ShareFacts(
        home,
        "NV0020000",
        AgencyFacts("NV0020000", "Washoe", "local", "NV", True, NOW + timedelta(days=90)),
        "stolen_vehicle",
        "Stolen vehicle recovered in their county",
        "26-1",
    )
    assert screen_share(valid, illinois, NOW).allowed
    # The same agency, same attestation, under California: refused.
    assert screen_share(valid, settings, NOW).reason == ReasonCode.OUT_OF_STATE_AGENCY


def test_prohibited_purpose_and_junk_in_shares(client: FlaskClient, tokens: dict[str, str]) -> None:
    ids = ingest(client, tokens)
    prohibited = share(
        client, tokens, recipient="CA0190100", read_ids=ids, purpose="immigration_enforcement"
    )
    assert prohibited.get_json()["error"]["code"] == "prohibited_purpose"
    text = share(
        client, tokens, recipient="CA0190100", read_ids=ids, justification="HSI detainer follow-up"
    )
    assert text.get_json()["error"]["code"] == "prohibited_purpose"
    junk = share(client, tokens, recipient="CA0190100", read_ids=ids, justification="..")
    assert junk.status_code == 422
    assert junk.get_json()["error"]["code"] == "justification_required"


def test_share_input_errors(client: FlaskClient, tokens: dict[str, str]) -> None:
    ids = ingest(client, tokens)
    both = share(client, tokens, recipient="CA0190100", read_ids=ids, search_id=ids[0])
    assert both.status_code == 422
    neither = share(client, tokens, recipient="CA0190100")
    assert neither.status_code == 422
    bad = share(client, tokens, recipient="ICE", read_ids=["nope"], colour="red")
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["details"]["fields"]) == {
        "recipient",
        "read_ids[0]",
        "colour",
    }
    missing = share(
        client, tokens, recipient="CA0190100", read_ids=["00000000-0000-7000-8000-000000000000"]
    )
    assert missing.status_code == 404
    officer = client.post("/api/v1/shares", json={}, headers=auth(tokens["officer"]))
    assert officer.status_code == 403


def test_list_shares_for_supervisors_and_auditors(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    ids = ingest(client, tokens)
    share(client, tokens, recipient="CA0190100", read_ids=ids)
    share(client, tokens, recipient="VTICE0900", read_ids=ids)
    listing = client.get("/api/v1/shares", headers=auth(tokens["auditor"]))
    assert listing.status_code == 200
    outcomes = sorted(
        (s["recipient"], s["outcome"], s["reason_code"]) for s in listing.get_json()["shares"]
    )
    assert outcomes == [("CA0190100", "allowed", None), ("VTICE0900", "refused", "federal_agency")]
    refused = client.get(
        "/api/v1/shares?outcome=refused", headers=auth(tokens["supervisor"])
    ).get_json()["shares"]
    assert [s["recipient"] for s in refused] == ["VTICE0900"]
    assert client.get("/api/v1/shares", headers=auth(tokens["officer"])).status_code == 403


def test_registry_changes_are_audited_and_the_ori_is_validated(rt: Runtime, tmp_path: Path) -> None:
    with rt.sessions.begin() as session:
        upsert_agency(
            session,
            rt,
            AgencyInput("CA0190100", "Demo County Sheriff", "local", "CA", False),
            SYSTEM,
        )
    with rt.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "agency.updated")).one()
        assert json.loads(event.details)["vetted"] is False and event.actor == "system"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "ori,name,kind,jurisdiction,vetted\nCA01,X,local,CA,true\n"
        "CA0190100,Y,police,California,maybe\n"
    )
    with pytest.raises(Exception) as info:
        parse_registry(bad)
    fields = info.value.fields  # type: ignore[attr-defined]
    assert f"{bad}: line 2.ori" in fields
    assert f"{bad}: line 3.kind" in fields
    shipped = parse_registry(REPO / "config" / "agencies.toml")
    assert {a.ori for a in shipped} >= {"VTICE0900", "CAFBISF00", "NV0020000"}


def test_shares_are_scoped_to_the_callers_agency_and_retention(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime, clock: FixedClock
) -> None:
    ids = ingest(client, tokens)
    # Another officer's search may be shared by a supervisor of the same agency...
    searched = client.post(
        "/api/v1/searches", json=search_body(), headers=auth(tokens["officer"])
    ).get_json()
    assert (
        share(client, tokens, recipient="CA0190100", search_id=searched["search_id"]).status_code
        == 201
    )
    # ...but a search by another agency's user may not (its records are theirs).
    theirs = client.post(
        "/api/v1/searches", json=search_body(), headers=auth(tokens["officer@CA0190100"])
    ).get_json()
    assert (
        share(client, tokens, recipient="CA0000HP0", search_id=theirs["search_id"]).status_code
        == 404
    )
    # Past its retention window a read can no longer be shared (nor found).
    clock.advance(timedelta(days=61))
    with rt.sessions.begin() as session:  # human tokens last 12 hours: a fresh one
        tokens = {**tokens, "supervisor": issue_token(session, rt, username="t-supervisor").token}
    expired = share(client, tokens, recipient="CA0190100", read_ids=ids)
    assert expired.status_code == 404
    found = client.post(
        "/api/v1/searches",
        json=search_body(**{"from": "2026-11-17T00:00:00Z", "to": "2026-12-17T00:00:00Z"}),
        headers=auth(tokens["supervisor"]),
    )
    assert found.status_code == 200 and found.get_json()["result_count"] == 0


def test_share_audit_event_lists_what_was_disclosed(
    client: FlaskClient, tokens: dict[str, str], rt: Runtime
) -> None:
    ids = ingest(client, tokens)
    assert share(client, tokens, recipient="CA0190100", read_ids=ids).status_code == 201
    with rt.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "share.allowed")).one()
        assert sorted(json.loads(event.details)["read_ids"]) == sorted(ids)


def test_registry_files_from_spreadsheets_and_edge_cases(tmp_path: Path) -> None:
    bom = tmp_path / "excel.csv"
    bom.write_text(
        "\ufeffori,name,kind,jurisdiction,vetted,attestation_expires_at\n"
        "CA0190100,Sheriff,local,CA,true,2026-12-31\n",
        encoding="utf-8",
    )
    (agency,) = parse_registry(bom)
    assert agency.vetted
    assert agency.attestation_expires_at is not None
    assert agency.attestation_expires_at.isoformat() == "2027-01-01T00:00:00+00:00"
    short = tmp_path / "short.csv"
    short.write_text("ori,name,kind,jurisdiction,vetted\nCA0190100,Sheriff\n")
    with pytest.raises(Exception) as info:
        parse_registry(short)
    assert set(info.value.fields) == {f"{short}: line 2.vetted"}  # type: ignore[attr-defined]
    no_vetted = tmp_path / "no_vetted.toml"
    no_vetted.write_text(
        '[[agency]]\nori = "CA0190100"\nname = "S"\nkind = "local"\njurisdiction = "CA"\n'
    )
    with pytest.raises(Exception, match="vetted"):
        parse_registry(no_vetted)
    not_table = tmp_path / "bad.toml"
    not_table.write_text('agency = ["CA0190100"]\n')
    with pytest.raises(Exception, match="must be a table"):
        parse_registry(not_table)
