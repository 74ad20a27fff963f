"""Vendor webhooks attacked by a compromised camera or a hostile insider holding (or having
captured) a camera credential: replaying signed requests, signing as another credential,
timestamps from the future, a disabled signing credential, plates smuggled into fields that
end up in errors, logs or the audit chain."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from alpr_guard.clock import FixedClock
from alpr_guard.models import AuditEvent, PlateRead
from alpr_guard.runtime import Runtime
from alpr_guard.services.cameras import disable_camera, rotate_camera
from tests.api.test_webhooks import (
    JPEG,
    NOW,
    _signed,
    camera,
    count,
    rekor_group,
    verkada,
)
from tests.conftest import auth

VERKADA_CAM = "38718198-8a78-4718-a60f-68e1a8de30ac"
URL = "/api/v1/webhooks/verkada"
PLATE = "7QZX482"  # the plate a hostile camera tries to get into a log line or an error


def _fractional_verkada() -> dict[str, Any]:
    """A Verkada body whose times carry fractions of a second (JSON numbers, as the mapping
    accepts them)."""
    body = verkada()
    body["data"]["created"] = body["data"]["created"] + 0.25
    body["data"]["detected"] = body["data"]["detected"] + 0.5
    return body


def test_a_captured_signed_request_replayed_within_the_skew_stores_its_read_once(
    client: FlaskClient, rt: Runtime
) -> None:
    # An eavesdropper replays a signed request while its timestamp is still within the
    # allowed skew: the signature checks, so only the read's replay key can hold it. A body
    # whose times are fractional must still carry one.
    secret = camera(rt, "signed-cam", VERKADA_CAM, auth_mode="hmac")
    now = int(NOW.timestamp())
    for body in (verkada(), _fractional_verkada()):
        raw = json.dumps(body).encode()
        first = client.post(URL, data=raw, headers=_signed(secret, raw, now))
        assert first.status_code == 201, first.get_json()
        replay = client.post(URL, data=raw, headers=_signed(secret, raw, now + 60))
        assert replay.status_code == 201
        assert replay.get_json()["duplicates"] == 1
        assert replay.get_json()["ids"] == first.get_json()["ids"]
    assert count(rt, PlateRead) == 2
    # Over a bearer credential too (a bearer request replays for as long as it is live).
    token = camera(rt, "bearer-cam", "cam-b")
    body = _fractional_verkada()
    body["data"]["camera_id"] = "cam-b"
    for _ in range(3):
        assert client.post(URL, json=body, headers=auth(token)).status_code == 201
    assert count(rt, PlateRead) == 3


def test_a_signature_made_with_one_credentials_secret_does_not_pass_as_another(
    client: FlaskClient, rt: Runtime
) -> None:
    # The insider holds the secret of a signing credential for their own camera and names
    # another signing credential (bound to the camera they want to post "from").
    mine = camera(rt, "insider-cam", "cam-insider", auth_mode="hmac")
    camera(rt, "victim-cam", VERKADA_CAM, auth_mode="hmac")
    raw = json.dumps(verkada()).encode()
    headers = _signed(mine, raw, int(NOW.timestamp()), name="victim-cam")
    assert client.post(URL, data=raw, headers=headers).status_code == 401
    assert count(rt, PlateRead) == 0


@pytest.mark.parametrize(
    "stamp",
    [
        "future",  # beyond the skew ahead: a request pre-signed to be replayed later
        "-1",
        "+1790000000",
        "1.79e9",
        " 1790000000",
        "\u0661\u0667\u0669",  # digits, but not ASCII ones
        "0" * 13,
    ],
)
def test_a_signature_with_a_time_outside_the_skew_or_not_a_time_is_refused(
    client: FlaskClient, rt: Runtime, stamp: str
) -> None:
    secret = camera(rt, "signed-cam", VERKADA_CAM, auth_mode="hmac")
    raw = json.dumps(verkada()).encode()
    if stamp == "future":
        at = int(NOW.timestamp()) + rt.settings.ingest.signature_skew_seconds + 1
        headers = _signed(secret, raw, at)
    else:
        headers = _signed(secret, raw, 0)
        headers["X-Alprg-Timestamp"] = stamp
        # Signed over the very string sent: only the time's form can refuse it.
        headers["X-Alprg-Signature"] = hmac.new(
            secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
    response = client.post(URL, data=raw, headers=headers)
    assert response.status_code == 401
    assert count(rt, PlateRead) == 0


def test_a_disabled_signing_credential_no_longer_signs(
    client: FlaskClient, rt: Runtime, clock: FixedClock
) -> None:
    secret = camera(rt, "signed-cam", VERKADA_CAM, auth_mode="hmac")
    raw = json.dumps(verkada()).encode()
    now = int(NOW.timestamp())
    assert client.post(URL, data=raw, headers=_signed(secret, raw, now)).status_code == 201
    with rt.sessions.begin() as session:
        disable_camera(session, rt, name="signed-cam")
    # The same request again, freshly signed: refused as any bad credential is.
    again = client.post(URL, data=raw, headers=_signed(secret, raw, now + 1))
    assert again.status_code == 401
    assert again.get_json()["error"]["message"] == "a valid camera credential is required"
    assert count(rt, PlateRead) == 1


def test_a_plate_smuggled_into_vendor_fields_reaches_no_error_log_or_audit_event(
    client: FlaskClient, rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = camera(rt, "scout-agent-1", "1234")
    url = "/api/v1/webhooks/rekor"
    attempts = [
        # As the camera id of a camera the credential does not name (refused, and recorded).
        rekor_group(camera_id=PLATE),
        # As the name of an undocumented field (counted, never named).
        rekor_group(**{PLATE: PLATE}),
        # As a client read id that breaks its rule, and as a region.
        rekor_group(best_uuid=f"{PLATE} {PLATE}"),
        rekor_group(best_region=f"us-{PLATE}"),
        # As a time and a confidence.
        rekor_group(epoch_start=PLATE),
        rekor_group(best_confidence=PLATE),
        # In an image that is not one.
        rekor_group(vehicle_crop_jpeg=PLATE * 4),
    ]
    answers = []
    for body in attempts:
        response = client.post(url, json=body, headers=auth(token))
        answers.append(response.status_code)
        assert PLATE.encode() not in response.get_data(), body
    assert answers[0] == 403 and 201 in answers[1:2]
    assert all(status == 422 for status in answers[2:]), answers
    assert PLATE not in caplog.text
    with rt.sessions() as session:
        for event in session.scalars(select(AuditEvent)):
            assert PLATE not in (event.details or ""), event.kind
            assert PLATE not in (event.subject or ""), event.kind


def test_a_read_from_the_future_or_past_retention_is_named_by_the_vendors_time_field(
    client: FlaskClient, rt: Runtime
) -> None:
    # A camera with its clock set ahead (to make its reads outlive the retention window) or
    # far behind is told which of its own fields is wrong, as for any other bad field.
    token = camera(rt, "scout-agent-1", "1234")
    for delta in (timedelta(days=1), -timedelta(days=61)):
        at = int((NOW + delta).timestamp() * 1000)
        response = client.post(
            "/api/v1/webhooks/rekor", json=rekor_group(epoch_start=at), headers=auth(token)
        )
        assert response.status_code == 422
        assert list(response.get_json()["error"]["details"]["fields"]) == ["epoch_start"]
    assert count(rt, PlateRead) == 0


@pytest.mark.parametrize(
    "form_json",
    ["[" * 100_000, "[" * 5000 + "]" * 5000, '{"data":' * 2000 + "1" + "}" * 2000],
)
def test_a_deeply_nested_body_in_the_multipart_form_is_a_named_refusal(
    client: FlaskClient, rt: Runtime, form_json: str
) -> None:
    # The JSON route refuses a document nested past the limit before parsing it; the same body
    # sent as the multipart form's json field reached the parser and came back a 500.
    token = camera(rt, "stream-1", "camera-1")
    response = client.post(
        "/api/v1/webhooks/platerecognizer",
        data={"json": form_json, "upload": (io.BytesIO(JPEG), "x.jpg")},
        content_type="multipart/form-data",
        headers=auth(token),
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["json"]
    assert count(rt, PlateRead) == 0


@pytest.mark.parametrize("auth_mode", ["token", "hmac"])
def test_a_secret_rotated_out_twice_is_dead_even_with_no_finish(
    client: FlaskClient, rt: Runtime, auth_mode: str
) -> None:
    # An insider kept the secret an agent used before two rotations that were never finished:
    # only the current secret and the one just before it are live.
    first = camera(rt, "agent-x", VERKADA_CAM, auth_mode=auth_mode)
    secrets = [first]
    for _ in range(2):
        with rt.sessions.begin() as session:
            issued = rotate_camera(session, rt, name="agent-x")
        assert issued is not None
        secrets.append(issued.secret)
    now = int(NOW.timestamp())

    def post(secret: str, detected: int) -> int:
        body = verkada()
        body["data"]["detected"] = detected
        raw = json.dumps(body).encode()
        if auth_mode == "hmac":
            headers = _signed(secret, raw, now, name="agent-x")
        else:
            headers = {**auth(secret), "Content-Type": "application/json"}
        return client.post(URL, data=raw, headers=headers).status_code

    base = verkada()["data"]["detected"]
    assert [post(s, base + k) for k, s in enumerate(secrets)] == [401, 201, 201]
    assert count(rt, PlateRead) == 2
