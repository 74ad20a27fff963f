"""Vendor webhooks through the real app: each vendor's published sample body, camera
credentials (binding, rotation, HMAC, disabling), images from arrival to purge."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import io
import json
import logging
import threading
import time
import uuid as uuid_module
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from alpr_guard.api import group_commit as camera_ingest
from alpr_guard.api.webhooks import credential_cache
from alpr_guard.clock import FixedClock
from alpr_guard.errors import Conflict, Refused
from alpr_guard.jobs.purge import purge_expired
from alpr_guard.models import Agency, AuditEvent, Camera, DataKeyRecord, PlateRead, ReadImage
from alpr_guard.runtime import Runtime
from alpr_guard.services.cameras import (
    CameraPrincipal,
    CredentialCache,
    add_camera,
    disable_camera,
    hash_secret,
    rotate_camera,
    silent_cameras,
)
from alpr_guard.services.holds import HoldRequest, place_hold
from alpr_guard.services.images import images_for
from alpr_guard.services.keys import ensure_key, hold_key_id
from alpr_guard.services.principals import authenticate
from alpr_guard.services.rekey import execute_rekey, plate_of, rekeyed, rows_by_id
from alpr_guard.services.reports import compliance_summary, render_summary_html, summary_json
from tests.conftest import NOW, auth, search_body

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendors"
AT_MS = int((NOW - timedelta(hours=2)).timestamp() * 1000)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(200)) * 5 + b"\xff\xd9"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def rekor_group(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("rekor_alpr_group.json")
    body["epoch_start"], body["epoch_end"] = AT_MS, AT_MS + 2900
    body.update(changes)
    return body


def rekor_results() -> dict[str, Any]:
    body: dict[str, Any] = fixture("rekor_alpr_results.json")
    body["epoch_time"] = AT_MS
    return body


def stream(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("platerecognizer_stream.json")
    body["data"]["timestamp"] = (NOW - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    body["data"].update(changes)
    return body


def verkada() -> dict[str, Any]:
    body: dict[str, Any] = fixture("verkada_lpr.json")
    body["data"]["created"] = AT_MS // 1000
    body["data"]["detected"] = AT_MS + 375
    return body


def camera(rt: Runtime, name: str, *ids: str, auth_mode: str = "token") -> str:
    with rt.sessions.begin() as session:
        return add_camera(session, rt, name=name, camera_ids=ids, auth=auth_mode).secret


@pytest.fixture
def cams(rt: Runtime) -> dict[str, str]:
    return {
        "rekor": camera(rt, "scout-agent-1", "1234"),
        "stream": camera(rt, "stream-1", "camera-1"),
        "verkada": camera(rt, "verkada-lot", "38718198-8a78-4718-a60f-68e1a8de30ac"),
    }


def stored(rt: Runtime) -> list[PlateRead]:
    with rt.sessions() as session:
        return list(session.scalars(select(PlateRead).order_by(PlateRead.observed_at)))


def count(rt: Runtime, model: Any, *where: Any) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def events(rt: Runtime, kind: str) -> list[dict[str, Any]]:
    with rt.sessions() as session:
        return [
            json.loads(e.details)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)
            )
        ]


# -- each vendor's sample, through the app --------------------------------------------------


def test_rekor_alpr_group_sample_is_one_read_with_both_images(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    body = rekor_group(new_field_from_a_later_agent={"x": 1})
    response = client.post("/api/v1/webhooks/rekor", json=body, headers=auth(cams["rekor"]))
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert (answer["accepted"], answer["duplicates"], answer["images"]) == (1, 0, 2)
    assert answer["ignored_fields"] == 1  # the undocumented field, counted and ignored
    (row,) = stored(rt)
    assert row.camera_id == "1234"
    assert row.plate_state == "MO"  # "us-mo"
    assert row.confidence == pytest.approx(0.929419174194336)  # 0-100 -> 0-1
    assert row.observed_at == NOW - timedelta(hours=2)  # epoch milliseconds
    assert row.client_read_id == body["best_uuid"]
    assert (row.latitude, row.longitude) == (body["gps_latitude"], body["gps_longitude"])
    assert count(rt, ReadImage) == 2
    (ingested,) = events(rt, "reads.ingested")
    assert ingested["source"] == "rekor" and ingested["images"] == 2
    assert ingested["ignored_fields"] == 1  # counted on the record too (names never kept)
    # The agent retries: the same best_uuid is the same read, and its images are not stored again.
    again = client.post("/api/v1/webhooks/rekor", json=body, headers=auth(cams["rekor"]))
    assert again.status_code == 201
    assert (again.get_json()["accepted"], again.get_json()["duplicates"]) == (0, 1)
    assert again.get_json()["ids"] == answer["ids"]
    assert count(rt, PlateRead) == 1 and count(rt, ReadImage) == 2


def test_rekor_alpr_results_sample_is_one_read_per_plate(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/webhooks/rekor", json=rekor_results(), headers=auth(cams["rekor"])
    )
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["accepted"], response.get_json()["images"]) == (2, 1)
    rows = stored(rt)
    assert sorted(r.client_read_id or "" for r in rows) == [
        "YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY-1234-1562681608425#0",
        "YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY-1234-1562681608425#1",
    ]
    assert sorted(r.confidence or 0 for r in rows) == pytest.approx(
        [0.929419174194336, 0.947376327514648]
    )


def test_rekor_heartbeat_stores_nothing_and_marks_the_agent_seen(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/webhooks/rekor",
        json=fixture("rekor_heartbeat.json"),
        headers=auth(cams["rekor"]),
    )
    assert response.status_code == 200
    assert response.get_json()["accepted"] == 0
    assert count(rt, PlateRead) == 0
    with rt.sessions() as session:
        seen = session.scalar(select(Camera.last_seen_at).where(Camera.name == "scout-agent-1"))
    assert seen == NOW


def test_plate_recognizer_stream_sample_json(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/webhooks/platerecognizer", json=stream(), headers=auth(cams["stream"])
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["ignored_fields"] == 0
    (row,) = stored(rt)
    assert row.camera_id == "camera-1"
    assert row.confidence == pytest.approx(0.839)
    assert row.plate_state is None  # "gb" is a country, never a US state


def test_plate_recognizer_stream_multipart_with_the_frame(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    body = stream()
    body["data"]["results"].append(copy.deepcopy(body["data"]["results"][0]))
    body["data"]["results"][1]["plate"] = "7abc123"
    body["data"]["results"][1]["region"]["code"] = "us-ca"
    response = client.post(
        "/api/v1/webhooks/platerecognizer",
        data={"json": json.dumps(body), "upload": (io.BytesIO(JPEG), "frame.jpg")},
        content_type="multipart/form-data",
        headers=auth(cams["stream"]),
    )
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert (answer["accepted"], answer["images"]) == (2, 2)  # one read per result
    assert sorted(r.plate_state or "-" for r in stored(rt)) == ["-", "CA"]


def test_verkada_lpr_sample(client: FlaskClient, rt: Runtime, cams: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/webhooks/verkada", json=verkada(), headers=auth(cams["verkada"])
    )
    assert response.status_code == 201, response.get_json()
    (row,) = stored(rt)
    assert (row.plate_state, row.camera_id) == ("CA", "38718198-8a78-4718-a60f-68e1a8de30ac")
    assert row.confidence == pytest.approx(0.9630414285714286)
    assert row.observed_at.timestamp() == AT_MS // 1000  # epoch seconds


# -- missing and bad fields: 422 naming the vendor's field, never the plate ------------------


@pytest.mark.parametrize(
    ("route", "vendor", "build", "field"),
    [
        (
            "rekor",
            "rekor",
            lambda: _without(rekor_group(), "best_plate_number"),
            "best_plate_number",
        ),
        ("rekor", "rekor", lambda: _without(rekor_group(), "best_uuid"), "best_uuid"),
        ("rekor", "rekor", lambda: _without(rekor_group(), "epoch_start"), "epoch_start"),
        ("rekor", "rekor", lambda: _without(rekor_results(), "epoch_time"), "epoch_time"),
        (
            "platerecognizer",
            "stream",
            lambda: _without_data(stream(), "timestamp"),
            "data.timestamp",
        ),
        ("verkada", "verkada", lambda: _without_data(verkada(), "camera_id"), "data.camera_id"),
        (
            "verkada",
            "verkada",
            lambda: _without_data(verkada(), "license_plate_number"),
            "data.license_plate_number",
        ),
    ],
)
def test_missing_required_vendor_field_is_named(
    client: FlaskClient,
    rt: Runtime,
    cams: dict[str, str],
    route: str,
    vendor: str,
    build: Any,
    field: str,
) -> None:
    response = client.post(f"/api/v1/webhooks/{route}", json=build(), headers=auth(cams[vendor]))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]
    assert count(rt, PlateRead) == 0


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    body.pop(key)
    if key == "best_plate_number":
        body["best_plate"].pop("plate")
    return body


def _without_data(body: dict[str, Any], key: str) -> dict[str, Any]:
    body["data"].pop(key)
    return body


@pytest.mark.parametrize(
    ("route", "vendor", "body", "field"),
    [
        ("rekor", "rekor", lambda: rekor_group(best_plate_number="D2651BF!"), "best_plate_number"),
        ("rekor", "rekor", lambda: rekor_group(best_confidence=140), "best_confidence"),
        (
            "rekor",
            "rekor",
            lambda: rekor_group(vehicle_crop_jpeg="not an image"),
            "vehicle_crop_jpeg",
        ),
        (
            "rekor",
            "rekor",
            lambda: rekor_group(vehicle_crop_jpeg=base64.b64encode(b"GIF89a....").decode()),
            "vehicle_crop_jpeg",
        ),
        (
            "platerecognizer",
            "stream",
            lambda: stream(results=[{"plate": "D2651BF!", "score": 0.5}]),
            "data.results[0].plate",
        ),
        ("platerecognizer", "stream", lambda: stream(timestamp="yesterday"), "data.timestamp"),
    ],
)
def test_bad_vendor_field_is_named_without_its_value(
    client: FlaskClient,
    rt: Runtime,
    cams: dict[str, str],
    route: str,
    vendor: str,
    body: Any,
    field: str,
) -> None:
    response = client.post(f"/api/v1/webhooks/{route}", json=body(), headers=auth(cams[vendor]))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]["fields"]
    assert b"D2651BF" not in response.get_data()
    assert count(rt, PlateRead) == 0 and count(rt, ReadImage) == 0


def test_image_over_the_limit_is_refused_with_its_read(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    limit = rt.settings.ingest.max_image_bytes
    big = base64.b64encode(JPEG[:4] + bytes(limit)).decode()
    response = client.post(
        "/api/v1/webhooks/rekor",
        json=rekor_group(vehicle_crop_jpeg=big),
        headers=auth(cams["rekor"]),
    )
    assert response.status_code in (413, 422)
    if response.status_code == 422:
        assert "vehicle_crop_jpeg" in response.get_json()["error"]["details"]["fields"]
    assert count(rt, PlateRead) == 0


def test_read_past_its_retention_window_is_refused(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    old = int((NOW - timedelta(days=61)).timestamp() * 1000)
    response = client.post(
        "/api/v1/webhooks/rekor", json=rekor_group(epoch_start=old), headers=auth(cams["rekor"])
    )
    assert response.status_code == 422
    assert count(rt, PlateRead) == 0


# -- credentials -----------------------------------------------------------------------------


def test_credential_cannot_post_for_a_camera_it_is_not_bound_to(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    # The Stream credential (camera-1) tries to post a read as the Rekor agent's camera 1234.
    body = stream(camera_id="1234")
    response = client.post(
        "/api/v1/webhooks/platerecognizer", json=body, headers=auth(cams["stream"])
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "camera_not_bound"
    assert count(rt, PlateRead) == 0
    (refusal,) = events(rt, "camera.refused")
    assert refusal["reason_code"] == "camera_not_bound" and refusal["name"] == "stream-1"
    assert "1234" not in json.dumps(refusal)
    # One foreign read among bound ones refuses them all.
    mixed = rekor_results()
    mixed["results"][1]["plate"] = "CG3L5Y"
    ok = client.post("/api/v1/webhooks/rekor", json=mixed, headers=auth(cams["rekor"]))
    assert ok.status_code == 201
    mixed["camera_id"] = 4321
    refused = client.post("/api/v1/webhooks/rekor", json=mixed, headers=auth(cams["rekor"]))
    assert refused.get_json()["error"]["code"] == "camera_not_bound"


def test_user_tokens_and_missing_or_wrong_credentials_are_refused(
    client: FlaskClient, rt: Runtime, cams: dict[str, str], tokens: dict[str, str]
) -> None:
    url = "/api/v1/webhooks/rekor"
    user = client.post(url, json=rekor_group(), headers=auth(tokens["ingest"]))
    assert (user.status_code, user.get_json()["error"]["code"]) == (403, "forbidden")
    assert client.post(url, json=rekor_group()).status_code == 401
    wrong = client.post(url, json=rekor_group(), headers=auth(cams["rekor"] + "x"))
    assert wrong.status_code == 401
    assert count(rt, PlateRead) == 0


def test_rotation_keeps_two_live_secrets_until_finished(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    old = cams["rekor"]
    with rt.sessions.begin() as session:
        issued = rotate_camera(session, rt, name="scout-agent-1")
    assert issued is not None
    new = issued.secret
    url = "/api/v1/webhooks/rekor"
    first = rekor_group(best_uuid="u-1")
    assert client.post(url, json=first, headers=auth(old)).status_code == 201
    assert client.post(url, json=rekor_group(best_uuid="u-2"), headers=auth(new)).status_code == 201
    with rt.sessions.begin() as session:
        rotate_camera(session, rt, name="scout-agent-1", finish=True)
    assert client.post(url, json=rekor_group(best_uuid="u-3"), headers=auth(old)).status_code == 401
    assert client.post(url, json=rekor_group(best_uuid="u-4"), headers=auth(new)).status_code == 201
    with rt.sessions.begin() as session:
        disable_camera(session, rt, name="scout-agent-1")
    assert client.post(url, json=rekor_group(best_uuid="u-5"), headers=auth(new)).status_code == 401
    assert count(rt, PlateRead) == 3
    with rt.sessions() as session:
        row = session.scalars(select(Camera).where(Camera.name == "scout-agent-1")).one()
    # Only hashes are stored: neither secret appears in the row.
    assert old not in repr(vars(row)) and new not in repr(vars(row))
    assert row.credential_hash == hash_secret(new)


def _signed(secret: str, body: bytes, at: int, name: str = "signed-cam") -> dict[str, str]:
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Alprg-Camera": name,
        "X-Alprg-Timestamp": str(at),
        "X-Alprg-Signature": mac,
    }


def test_hmac_signed_camera(client: FlaskClient, rt: Runtime, clock: FixedClock) -> None:
    secret = camera(rt, "signed-cam", "38718198-8a78-4718-a60f-68e1a8de30ac", auth_mode="hmac")
    body = json.dumps(verkada()).encode()
    now = int(NOW.timestamp())
    url = "/api/v1/webhooks/verkada"
    assert client.post(url, data=body, headers=_signed(secret, body, now)).status_code == 201
    # The signature covers the body: any change fails it.
    tampered = body.replace(b"0.96", b"0.97")
    assert client.post(url, data=tampered, headers=_signed(secret, body, now)).status_code == 401
    # A captured request replayed after the allowed skew is refused.
    stale = now - rt.settings.ingest.signature_skew_seconds - 1
    assert client.post(url, data=body, headers=_signed(secret, body, stale)).status_code == 401
    # The secret of a signing credential is never a bearer token.
    assert (
        client.post(
            url, data=body, headers={**auth(secret), "Content-Type": "application/json"}
        ).status_code
        == 401
    )
    # Rotation: the previous secret still signs until the rotation is finished.
    with rt.sessions.begin() as session:
        issued = rotate_camera(session, rt, name="signed-cam")
    assert issued is not None
    body2 = json.dumps({**verkada(), "data": {**verkada()["data"], "detected": AT_MS + 9}}).encode()
    assert client.post(url, data=body2, headers=_signed(secret, body2, now)).status_code == 201
    with rt.sessions.begin() as session:
        rotate_camera(session, rt, name="signed-cam", finish=True)
    assert client.post(url, data=body2, headers=_signed(secret, body2, now)).status_code == 401
    assert (
        client.post(url, data=body2, headers=_signed(issued.secret, body2, now)).status_code == 201
    )
    assert count(rt, PlateRead) == 2


def test_cameras_belong_to_the_operating_agency(client: FlaskClient, rt: Runtime) -> None:
    with rt.sessions.begin() as session, pytest.raises(Refused) as refused:
        add_camera(session, rt, name="partner-cam", camera_ids=["p-1"], agency_ori="CA0190100")
    assert refused.value.code == "camera_agency_not_operating"
    # A row written past that check (or before it existed) is refused at request time.
    secret = camera(rt, "moved-cam", "38718198-8a78-4718-a60f-68e1a8de30ac")
    with rt.sessions.begin() as session:
        partner = session.scalar(select(Agency.id).where(Agency.ori == "CA0190100"))
        session.execute(
            Camera.__table__.update().where(Camera.name == "moved-cam").values(agency_id=partner)
        )
    response = client.post("/api/v1/webhooks/verkada", json=verkada(), headers=auth(secret))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "camera_agency_not_operating"
    assert count(rt, PlateRead) == 0


def test_silent_camera_is_named_after_the_configured_time(
    client: FlaskClient, rt: Runtime, cams: dict[str, str], clock: FixedClock
) -> None:
    client.post("/api/v1/webhooks/verkada", json=verkada(), headers=auth(cams["verkada"]))
    clock.advance(timedelta(minutes=rt.settings.ingest.camera_silence_minutes))
    with rt.sessions() as session:
        silent = {c.name: c for c in silent_cameras(session, rt, clock.now())}
    # All three are silent now; the one that posted has a last-seen time, the others never did.
    assert set(silent) == {"scout-agent-1", "stream-1", "verkada-lot"}
    assert silent["verkada-lot"].silent_minutes == rt.settings.ingest.camera_silence_minutes
    assert silent["stream-1"].last_seen_at is None
    # The compliance summary names them (JSON and the printable page).
    with rt.sessions() as session:
        summary = compliance_summary(session, rt, NOW - timedelta(days=1), clock.now())
    cameras_json: Any = summary_json(summary)["silent_cameras"]
    listed = {c["name"]: c for c in cameras_json}
    assert set(listed) == set(silent) and listed["stream-1"]["last_seen_at"] is None
    page = render_summary_html(summary)
    assert "Silent cameras" in page and "verkada-lot" in page
    clock.advance(timedelta(minutes=-1))
    with rt.sessions() as session:
        assert "verkada-lot" not in {c.name for c in silent_cameras(session, rt, clock.now())}


# -- images: arrival, justified search, purge ------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_image_arrives_is_returned_to_a_justified_search_and_is_purged(
    client: FlaskClient,
    rt: Runtime,
    cams: dict[str, str],
    tokens: dict[str, str],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    crop = JPEG + b"plate-crop-marker"
    vehicle = JPEG + b"vehicle-image-marker"
    body = rekor_group(
        best_plate_number="7ABC123",
        vehicle_crop_jpeg=base64.b64encode(vehicle).decode(),
    )
    body["best_plate"]["plate"] = "7ABC123"
    body["best_plate"]["plate_crop_jpeg"] = base64.b64encode(crop).decode()
    posted = client.post("/api/v1/webhooks/rekor", json=body, headers=auth(cams["rekor"]))
    assert posted.status_code == 201 and posted.get_json()["images"] == 2
    read_id = posted.get_json()["ids"][0]

    # Without include_images, no image leaves; with it, both do, and the record counts them.
    plain = client.post("/api/v1/searches", json=search_body(), headers=auth(tokens["officer"]))
    assert plain.status_code == 200
    assert "images" not in plain.get_json()["results"][0]
    found = client.post(
        "/api/v1/searches",
        json=search_body(include_images=True),
        headers=auth(tokens["officer"]),
    )
    assert found.status_code == 200
    (result,) = found.get_json()["results"]
    assert result["id"] == read_id and result["plate"] == "7ABC123"
    images = {i["kind"]: base64.b64decode(i["data"]) for i in result["images"]}
    assert images == {"plate": crop, "vehicle": vehicle}
    allowed = events(rt, "search.allowed")
    assert "images_returned" not in allowed[0] and allowed[1]["images_returned"] == 2
    refused = client.post(
        "/api/v1/searches",
        json=search_body(include_images=True, purpose="curiosity"),
        headers=auth(tokens["officer"]),
    )
    assert refused.status_code in (403, 422) and b"vehicle-image-marker" not in refused.get_data()

    # Neither the images nor the plate are in the database file or the logs in clear.
    db_path = Path(make_url(rt.settings.database.url).database or "")
    blobs = [p.read_bytes() for p in db_path.parent.glob(db_path.name + "*")]
    for blob in [*blobs, caplog.text.encode()]:
        for secret in (
            b"plate-crop-marker",
            b"vehicle-image-marker",
            b"7ABC123",
            bytes(range(200)),
        ):
            assert secret not in blob

    # Past the window the purge deletes the read and its images, and shreds their key.
    clock.advance(timedelta(days=61))
    receipt = purge_expired(rt, trigger="test")
    assert receipt.deleted_by_class["unmatched"] == 1
    assert count(rt, PlateRead) == 0 and count(rt, ReadImage) == 0
    assert receipt.keys_destroyed


def test_images_follow_a_read_onto_its_hold_key(
    client: FlaskClient, rt: Runtime, cams: dict[str, str], tokens: dict[str, str]
) -> None:

    posted = client.post("/api/v1/webhooks/rekor", json=rekor_group(), headers=auth(cams["rekor"]))
    read_id = uuid_module.UUID(posted.get_json()["ids"][0])
    hold_key = hold_key_id(uuid_module.uuid4())
    with rt.sessions.begin() as session:
        (row,) = rows_by_id(session, [read_id])
        key = ensure_key(session, rt, hold_key)
        execute_rekey(session, rt, [rekeyed(row, plate_of(rt, row), key, "held", None)])
    with rt.sessions() as session:
        keys = set(session.scalars(select(ReadImage.key_id)))
        assert keys == {hold_key}
        opened = images_for(session, rt, [read_id])
    assert {i.kind for i in opened[read_id]} == {"plate", "vehicle"}


def test_an_image_moved_to_another_read_does_not_open(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:

    a = client.post("/api/v1/webhooks/rekor", json=rekor_group(), headers=auth(cams["rekor"]))
    b = client.post(
        "/api/v1/webhooks/rekor",
        json=rekor_group(best_uuid="other", vehicle_crop_jpeg=None),
        headers=auth(cams["rekor"]),
    )
    first, second = (uuid_module.UUID(r.get_json()["ids"][0]) for r in (a, b))
    with rt.sessions.begin() as session:
        # An insider copies the first read's vehicle image onto the second read.
        blob = session.scalar(
            select(ReadImage.image_ct).where(
                ReadImage.read_id == first, ReadImage.kind == "vehicle"
            )
        )
        session.execute(
            ReadImage.__table__.update()
            .where(ReadImage.read_id == second, ReadImage.kind == "plate")
            .values(image_ct=blob)
        )
    with rt.sessions() as session:
        opened = images_for(session, rt, [first, second])
    assert {i.kind for i in opened[first]} == {"plate", "vehicle"}
    assert second not in opened  # the moved ciphertext fails authentication


# -- requests that arrive together share one commit ------------------------------------------


def test_concurrent_requests_share_a_commit_and_each_is_answered_after_it(
    app: Flask, rt: Runtime, cams: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    groups: list[int] = []
    first_started = threading.Event()
    release = threading.Event()
    real = camera_ingest.commit_group

    def observed(rt_: Runtime, group: Any, seen: Any = None) -> None:
        groups.append(len(group))
        if len(groups) == 1:
            first_started.set()
            release.wait(10)
        real(rt_, group, seen)

    monkeypatch.setattr(camera_ingest, "commit_group", observed)
    answers: list[int] = []

    def post(i: int) -> None:
        with app.test_client() as client:
            response = client.post(
                "/api/v1/webhooks/rekor",
                json=rekor_group(best_uuid=f"g-{i}", epoch_start=AT_MS + i),
                headers=auth(cams["rekor"]),
            )
            answers.append(response.status_code)

    lead = threading.Thread(target=post, args=(0,))
    lead.start()
    assert first_started.wait(10)
    others = [threading.Thread(target=post, args=(i,)) for i in range(1, 6)]
    for thread in others:
        thread.start()
    committer = app.extensions["alpr_guard_group_commit"]
    for _ in range(1000):
        if committer.waiting() == 5:
            break
        time.sleep(0.01)
    # While the first commit is held, the five queue behind it and nobody is answered.
    assert committer.waiting() == 5 and answers == []
    release.set()
    for thread in [lead, *others]:
        thread.join(10)
    assert answers == [201] * 6
    assert groups == [1, 5]
    assert count(rt, PlateRead) == 6
    # One ingest event per group, not per request.
    assert len(events(rt, "reads.ingested")) == len(groups)


# -- how an insider holding a camera credential would try to get around the rules ------------


def test_a_camera_cannot_mark_a_hit_or_choose_an_agency_or_a_class(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    # A hit is kept a year: a camera's body naming one (in any field) is still an ordinary read.
    body = rekor_group(
        hit={"list": "SVS stolen vehicles", "entry": "NCIC-V-0001"},
        retention_class="held",
        agency_id=2,
        expires_at="2099-01-01T00:00:00Z",
    )
    response = client.post("/api/v1/webhooks/rekor", json=body, headers=auth(cams["rekor"]))
    assert response.status_code == 201
    assert response.get_json()["ignored_fields"] == 4
    (row,) = stored(rt)
    assert (row.hit, row.retention_class, row.hit_ref) == (False, "unmatched", None)
    assert row.expires_at == row.observed_at + timedelta(days=rt.settings.retention.unmatched.days)
    with rt.sessions() as session:
        ori = session.scalar(select(Agency.ori).where(Agency.id == row.agency_id))
    assert ori == rt.settings.instance.operating_agency


def test_every_credential_failure_answers_the_same(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    with rt.sessions.begin() as session:
        disable_camera(session, rt, name="verkada-lot")
    url = "/api/v1/webhooks/verkada"
    answers = []
    for headers in (
        auth(cams["verkada"]),  # disabled
        auth(cams["verkada"][:-2] + "zz"),  # unknown
        auth("alprc_"),  # empty secret
        auth("x" * 500),  # not a credential at all
        {"X-Alprg-Camera": "verkada-lot", "X-Alprg-Timestamp": "1", "X-Alprg-Signature": "00"},
        {},
    ):
        response = client.post(url, json=verkada(), headers=headers)
        error = response.get_json()["error"]
        answers.append((response.status_code, error["code"], error["message"]))
    assert set(answers) == {(401, "unauthorized", "a valid camera credential is required")}


def test_rotation_then_disable_kills_both_live_secrets(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    with rt.sessions.begin() as session:
        issued = rotate_camera(session, rt, name="verkada-lot")
        assert issued is not None
        disable_camera(session, rt, name="verkada-lot")
    for secret in (cams["verkada"], issued.secret):
        response = client.post("/api/v1/webhooks/verkada", json=verkada(), headers=auth(secret))
        assert response.status_code == 401
    with rt.sessions.begin() as session, pytest.raises(Exception, match="disabled"):
        rotate_camera(session, rt, name="verkada-lot")


def test_signature_of_a_bearer_credential_is_refused(client: FlaskClient, rt: Runtime) -> None:
    # A token credential's secret used to sign: a signing request must name a signing credential.
    secret = camera(rt, "bearer-cam", "38718198-8a78-4718-a60f-68e1a8de30ac")
    body = json.dumps(verkada()).encode()
    headers = _signed(secret, body, int(NOW.timestamp()), name="bearer-cam")
    assert client.post("/api/v1/webhooks/verkada", data=body, headers=headers).status_code == 401


def test_multipart_upload_must_be_an_image(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/webhooks/platerecognizer",
        data={"json": json.dumps(stream()), "upload": (io.BytesIO(b"#!/bin/sh\n"), "x.jpg")},
        content_type="multipart/form-data",
        headers=auth(cams["stream"]),
    )
    assert response.status_code == 422
    assert "upload" in response.get_json()["error"]["details"]["fields"]
    missing = client.post(
        "/api/v1/webhooks/platerecognizer",
        data={"upload": (io.BytesIO(JPEG), "x.jpg")},
        content_type="multipart/form-data",
        headers=auth(cams["stream"]),
    )
    assert missing.status_code == 422
    assert "json" in missing.get_json()["error"]["details"]["fields"]
    assert count(rt, PlateRead) == 0


def test_vendor_confidence_is_read_on_the_vendors_own_scale(
    client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    # 1.4 from a 0-1 vendor is an error, never the percentage 1.4 %.
    body = stream()
    body["data"]["results"][0]["score"] = 1.4
    response = client.post(
        "/api/v1/webhooks/platerecognizer", json=body, headers=auth(cams["stream"])
    )
    assert response.status_code == 422
    assert "data.results[0].score" in response.get_json()["error"]["details"]["fields"]


def test_one_bad_request_in_a_group_fails_alone(
    app: Flask, rt: Runtime, cams: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A day the purge shredded (marked destroyed): a read for it is refused at commit time.
    destroyed_ms = int((NOW - timedelta(days=3)).timestamp() * 1000)
    with rt.sessions.begin() as session:
        session.add(
            DataKeyRecord(
                key_id=f"day-{(NOW - timedelta(days=3)).date().isoformat()}",
                scope="day",
                epoch_start=NOW - timedelta(days=4),
                epoch_end=NOW - timedelta(days=3),
                created_at=NOW - timedelta(days=4),
                destroyed_at=NOW - timedelta(days=1),
            )
        )
    first_started, release = threading.Event(), threading.Event()
    groups: list[int] = []
    real = camera_ingest.commit_group

    def observed(rt_: Runtime, group: Any, seen: Any = None) -> None:
        groups.append(len(group))
        if len(groups) == 1:
            first_started.set()
            release.wait(10)
        real(rt_, group, seen)

    monkeypatch.setattr(camera_ingest, "commit_group", observed)
    answers: dict[str, int] = {}

    def post(name: str, body: dict[str, Any]) -> None:
        with app.test_client() as client:
            response = client.post("/api/v1/webhooks/rekor", json=body, headers=auth(cams["rekor"]))
            answers[name] = response.status_code

    lead = threading.Thread(target=post, args=("lead", rekor_group(best_uuid="lead")))
    lead.start()
    assert first_started.wait(10)
    bad = threading.Thread(
        target=post, args=("bad", rekor_group(best_uuid="bad", epoch_start=destroyed_ms))
    )
    good = threading.Thread(target=post, args=("good", rekor_group(best_uuid="good")))
    bad.start()
    good.start()
    committer = app.extensions["alpr_guard_group_commit"]
    for _ in range(1000):
        if committer.waiting() == 2:
            break
        time.sleep(0.01)
    release.set()
    for thread in (lead, bad, good):
        thread.join(10)
    assert groups == [1, 2]
    assert answers == {"lead": 201, "bad": 422, "good": 201}
    with rt.sessions() as session:
        stored_ids = set(session.scalars(select(PlateRead.client_read_id)))
    assert stored_ids == {"lead", "good"}


def test_a_camera_has_one_live_credential(rt: Runtime, cams: dict[str, str]) -> None:
    # A second credential for a camera someone else runs would let its holder post as it.
    with rt.sessions.begin() as session, pytest.raises(Conflict, match="bound to credential"):
        add_camera(session, rt, name="impostor", camera_ids=["9999", "1234"])
    # Once the old credential is disabled, the camera can be given a new one.
    with rt.sessions.begin() as session:
        disable_camera(session, rt, name="scout-agent-1")
    with rt.sessions.begin() as session:
        assert add_camera(session, rt, name="scout-agent-2", camera_ids=["1234"]).secret


def test_a_held_reads_images_outlive_the_shredding_of_its_day(
    client: FlaskClient,
    rt: Runtime,
    cams: dict[str, str],
    tokens: dict[str, str],
    clock: FixedClock,
) -> None:
    posted = client.post("/api/v1/webhooks/rekor", json=rekor_group(), headers=auth(cams["rekor"]))
    read_id = uuid_module.UUID(posted.get_json()["ids"][0])
    with rt.sessions.begin() as session:
        supervisor = authenticate(session, rt, tokens["supervisor"])
        hold = place_hold(
            session,
            rt,
            supervisor,
            HoldRequest(
                case_number="26-004512",
                reason="Evidence in a burglary investigation",
                review_by=NOW + timedelta(days=30),
                read_ids=(read_id,),
            ),
        )
    assert hold.status == "active"
    clock.advance(timedelta(days=61))
    receipt = purge_expired(rt, trigger="test")
    day = f"day-{(NOW - timedelta(hours=2)).date().isoformat()}"
    assert day in receipt.keys_destroyed  # the day is shredded...
    with rt.sessions() as session:
        opened = images_for(session, rt, [read_id])
        keys = set(session.scalars(select(ReadImage.key_id)))
    # ...and the held read's images, moved onto the hold's key, still open.
    assert {i.kind for i in opened[read_id]} == {"plate", "vehicle"}
    assert keys == {f"hold-{hold.id.hex}"}


# -- the credential cache: a fast path, never the last word ----------------------------------


def _cache(app: Flask) -> CredentialCache:
    with app.app_context():
        return credential_cache()


def test_a_cached_credential_disabled_elsewhere_is_refused_at_once(
    app: Flask, client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    url = "/api/v1/webhooks/rekor"
    ok = client.post(url, json=rekor_group(best_uuid="c-1"), headers=auth(cams["rekor"]))
    assert ok.status_code == 201
    cache = _cache(app)
    assert cache.lookup(cams["rekor"]) is not None  # the next post skips the lookup
    # Disabled by another process (the CLI): this process's cache is not told.
    with rt.sessions.begin() as session:
        disable_camera(session, rt, name="scout-agent-1")
    refused = client.post(url, json=rekor_group(best_uuid="c-2"), headers=auth(cams["rekor"]))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["message"] == "a valid camera credential is required"
    assert cache.lookup(cams["rekor"]) is None
    assert count(rt, PlateRead) == 1


def test_a_cached_secret_retired_by_rotation_is_refused_at_once(
    app: Flask, client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    url = "/api/v1/webhooks/rekor"
    old = cams["rekor"]
    assert client.post(url, json=rekor_group(best_uuid="r-1"), headers=auth(old)).status_code == 201
    with rt.sessions.begin() as session:
        issued = rotate_camera(session, rt, name="scout-agent-1")
    assert issued is not None
    # Both secrets live: the cached old one still posts.
    assert client.post(url, json=rekor_group(best_uuid="r-2"), headers=auth(old)).status_code == 201
    with rt.sessions.begin() as session:
        rotate_camera(session, rt, name="scout-agent-1", finish=True)
    assert _cache(app).lookup(old) is not None
    assert client.post(url, json=rekor_group(best_uuid="r-3"), headers=auth(old)).status_code == 401
    new = client.post(url, json=rekor_group(best_uuid="r-4"), headers=auth(issued.secret))
    assert new.status_code == 201
    assert count(rt, PlateRead) == 3


def test_a_cached_revoked_credential_gets_401_on_every_refusal_path(
    app: Flask, client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    url = "/api/v1/webhooks/rekor"
    secret = cams["rekor"]
    assert client.post(url, json=rekor_group(), headers=auth(secret)).status_code == 201
    with rt.sessions.begin() as session:
        disable_camera(session, rt, name="scout-agent-1")
    # A body that would be a 422, a camera it is not bound to (a recorded 403): the answer is
    # the 401 of a disabled credential, and no refusal is recorded in its name.
    assert client.post(url, data=b"{", headers=auth(secret)).status_code == 401
    assert _cache(app).lookup(secret) is None
    assert client.post(url, json=rekor_group(), headers=auth(secret)).status_code == 401
    with rt.sessions.begin() as session:
        issued = add_camera(session, rt, name="scout-agent-2", camera_ids=["1234"])
    body = rekor_group(best_uuid="b-1")
    assert client.post(url, json=body, headers=auth(issued.secret)).status_code == 201
    with rt.sessions.begin() as session:
        disable_camera(session, rt, name="scout-agent-2")
    body["camera_id"] = 4321
    unbound_post = client.post(url, json=body, headers=auth(issued.secret))
    assert unbound_post.status_code == 401
    assert events(rt, "camera.refused") == []


def test_a_wrong_secret_never_matches_the_cache(
    app: Flask, client: FlaskClient, rt: Runtime, cams: dict[str, str]
) -> None:
    url = "/api/v1/webhooks/rekor"
    secret = cams["rekor"]
    assert client.post(url, json=rekor_group(), headers=auth(secret)).status_code == 201
    cache = _cache(app)
    assert len(cache) == 1
    for wrong in (secret + "x", secret[:-1], secret.upper(), "alprc_", secret[:-2] + "zz"):
        assert cache.lookup(wrong) is None
        response = client.post(url, json=rekor_group(), headers=auth(wrong))
        assert response.status_code == 401
    assert len(cache) == 1  # refused secrets are never added
    assert count(rt, PlateRead) == 1


def test_credential_cache_entries_expire() -> None:
    now = [1000.0]
    cache = CredentialCache(ttl=60.0, max_entries=2, clock=lambda: now[0])
    secrets_ = [f"alprc_secret-{n}" for n in range(3)]
    cameras = [
        CameraPrincipal(n, f"cam-{n}", 1, "CA0000000", frozenset({"1"}), hash_secret(s))
        for n, s in enumerate(secrets_)
    ]
    cache.add(cameras[0])
    assert cache.lookup(secrets_[0]) is cameras[0]
    assert cache.lookup(secrets_[1]) is None
    now[0] += 59.9
    assert cache.lookup(secrets_[0]) is cameras[0]
    now[0] += 0.1
    assert cache.lookup(secrets_[0]) is None and len(cache) == 0
    for camera_ in cameras:  # bounded: never more than max_entries
        cache.add(camera_)
        assert len(cache) <= 2
    assert cache.lookup(secrets_[2]) is cameras[2]
    cache.forget(cameras[2].credential)
    assert cache.lookup(secrets_[2]) is None


# -- a leader waits (briefly) for the requests it just answered -------------------------------


def _camera() -> CameraPrincipal:
    return CameraPrincipal(1, "gather", 1, "X", frozenset(), credential="d")


def _faked_commits(monkeypatch: pytest.MonkeyPatch, hold_first: threading.Event) -> list[int]:
    """Each group's size; the first commit waits for ``hold_first``; nothing is stored."""
    groups: list[int] = []

    def fake(rt_: Runtime, group: Any, seen: Any = None) -> None:
        groups.append(len(group))
        if len(groups) == 1:
            hold_first.wait(10)
        for sub in group:
            sub.result = camera_ingest.IngestResult(accepted=0, duplicates=0, ids=())

    monkeypatch.setattr(camera_ingest, "commit_group", fake)
    return groups


def _submission() -> camera_ingest.Submission:
    return camera_ingest.Submission(_camera(), [], [], "rekor")


def test_a_lone_camera_is_committed_at_once(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    released = threading.Event()
    released.set()
    groups = _faked_commits(monkeypatch, released)
    committer = camera_ingest.GroupCommit(rt, gather_wait=5.0)
    started = time.monotonic()
    for _ in range(3):
        committer.submit(_submission())
    # Each request was the whole group answered before it: nobody to wait for.
    assert time.monotonic() - started < 2.0
    assert groups == [1, 1, 1]


def _three_in_a_row(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, gather_wait: float, comes_back: bool
) -> list[int]:
    """A commit held while two requests queue; then, 0.2 s after its answer, the first
    request's camera posts again (if ``comes_back``). Returns the groups' sizes."""
    release = threading.Event()
    groups = _faked_commits(monkeypatch, release)
    committer = camera_ingest.GroupCommit(rt, gather_wait=gather_wait)

    def first() -> None:
        committer.submit(_submission())
        if comes_back:
            time.sleep(0.2)
            committer.submit(_submission())

    threads = [threading.Thread(target=first)]
    threads[0].start()
    for _ in range(1000):
        if groups:
            break
        time.sleep(0.01)
    threads += [threading.Thread(target=committer.submit, args=(_submission(),)) for _ in "ab"]
    for thread in threads[1:]:
        thread.start()
    for _ in range(1000):
        if committer.waiting() == 2:
            break
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)
    return groups


def test_a_handed_over_lead_waits_for_the_request_it_answered(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The two queued wait for the first camera's next post and all three share a commit.
    assert _three_in_a_row(rt, monkeypatch, gather_wait=5.0, comes_back=True) == [1, 3]
    # Without the wait, the two are committed before it is back.
    assert _three_in_a_row(rt, monkeypatch, gather_wait=0.0, comes_back=True) == [1, 2, 1]


def test_the_wait_for_an_answered_request_is_bounded(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    # The first camera never posts again: the two are committed once the wait runs out.
    assert _three_in_a_row(rt, monkeypatch, gather_wait=0.3, comes_back=False) == [1, 2]
    assert time.monotonic() - started < 5.0
