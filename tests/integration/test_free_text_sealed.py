"""Free text is sealed and shown masked: no plate typed anywhere in free text, in any spelling
the plate normaliser accepts, reaches the database files, a PostgreSQL scan, the logs, the audit
details, the listings or a redacted export; full exports and the review read the text as typed.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import make_url

from alpr_guard.models import Finding, LegalHold, SearchRecord, Share
from alpr_guard.policy.plates import normalise_plate
from alpr_guard.policy.redaction import mask_text
from alpr_guard.runtime import Runtime
from alpr_guard.services.free_text import hold_aad, original, share_aad
from tests.conftest import NOW, auth, read, search_body

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
# Separators the normaliser removes: spaces, ASCII and Unicode dashes, an ideographic space.
SEPARATORS = ["", "", " ", "-", "\u2013", "\u2212", "  ", "\u3000", "\t"]
FILLER = ["Vehicle", "seen", "near", "the", "lot", "owner", "called", "report", "re", "per"]


@st.composite
def plates(draw: st.DrawFn) -> str:
    """A plate of letters and digits, 6-8 long (long enough never to turn up by chance in
    ciphertext), with a letter outside A-F (so it cannot be hex text either)."""
    chars = draw(st.lists(st.sampled_from(LETTERS + DIGITS), min_size=6, max_size=8))
    chars[draw(st.integers(0, len(chars) - 1))] = draw(st.sampled_from(DIGITS))
    spots = [i for i, c in enumerate(chars) if not c.isdigit()]
    if not spots:
        chars[0] = "K"
    elif not any(c in LETTERS[6:] for c in chars):
        chars[spots[0]] = draw(st.sampled_from(LETTERS[6:]))
    return "".join(chars)


@st.composite
def spellings(draw: st.DrawFn, plate: str, *, ascii_only: bool = False) -> str:
    """``plate`` as an officer might type it: any case, separators anywhere, full-width."""
    out = []
    for i, ch in enumerate(plate):
        if i:
            seps = ["", " ", "-", "  "] if ascii_only else SEPARATORS
            out.append(draw(st.sampled_from(seps)))
        typed_ch = ch.lower() if draw(st.booleans()) else ch
        if not ascii_only and draw(st.integers(0, 3)) == 0:
            typed_ch = chr(ord(typed_ch) + 0xFEE0)  # full-width form
        out.append(typed_ch)
    typed = "".join(out)
    assert normalise_plate(typed) == plate
    return typed


def prose(draw: st.DrawFn, typed: str) -> str:
    before = draw(st.lists(st.sampled_from(FILLER), max_size=3))
    after = draw(st.lists(st.sampled_from(FILLER), max_size=3))
    return " ".join([*before, typed, *after])


def leaks(blob: bytes, plate: str, typed: list[str]) -> list[str]:
    found = []
    for form in (plate, plate.lower(), *typed, *(t.lower() for t in typed)):
        for encoded in (form.encode(), form.encode("utf-16-le")):
            if encoded and encoded in blob:
                found.append(form)
    return found


# -- the pure rule ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mask_text_leaves_no_spelling_of_a_mixed_plate(data: st.DataObject) -> None:
    plate = data.draw(plates())
    typed = data.draw(spellings(plate))
    text_in = prose(data.draw, typed)
    masked = mask_text(text_in, (), r"[0-9]{2}-[0-9]{6}")
    squeezed = "".join(ch for ch in masked if ch.isalnum()).upper()
    assert plate not in squeezed


@pytest.mark.parametrize(
    "typed",
    ["LOVEYOU", "love you", "L-O-V-E-Y-O-U", "ＬＯＶＥＹＯＵ", "l o v e y o u"],
)
def test_a_known_letters_only_plate_is_masked_in_any_spelling(typed: str) -> None:
    masked = mask_text(f"vanity {typed} seen", ("LOVEYOU",))
    assert "LOVEYOU" not in "".join(ch for ch in masked if ch.isalnum()).upper()
    assert masked.startswith("vanity ")


def test_the_case_number_format_stays_readable_and_words_stay() -> None:
    pattern = r"[0-9]{2}-[0-9]{6}"
    assert mask_text("26-004512", (), pattern) == "26-004512"
    assert mask_text("Reported stolen, case 26-004512.", (), pattern) == (
        "Reported stolen, case 26-004512."
    )
    assert mask_text("Stolen car 7abc-123, case 26-004512", (), pattern).endswith(
        "[plate], case 26-004512"
    )
    # Not readable where it is itself plate-shaped with a neighbour: AB26004512 is a plate.
    assert "26-004512" not in mask_text("AB 26-004512", (), pattern)


def test_masking_is_linear_and_patterns_are_cached() -> None:
    import gc
    import time

    from alpr_guard.policy import redaction

    def best(text_in: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            mask_text(text_in)
            times.append(time.perf_counter() - started)
        return min(times)

    small = "stolen 7ABC123 seen near lot 5 A B C 1 2 3 " * 100
    gc.disable()  # the algorithm's time, not the collector's
    try:
        small_s, big_s = best(small), best(small * 20)
    finally:
        gc.enable()
    assert big_s < small_s * 20 * 3  # 20x the text: linear (with slack for a noisy machine)
    redaction._plate_pattern.cache_clear()
    for _ in range(50):
        redaction.mask_known("seen 7ABC123", ("7ABC123",))
    assert redaction._plate_pattern.cache_info().misses == 1


# -- everywhere free text goes ----------------------------------------------------------------


def _db_blobs(rt: Runtime) -> list[bytes]:
    url = make_url(rt.settings.database.url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        return [p.read_bytes() for p in path.parent.glob(path.name + "*")]
    blobs = []
    with rt.engine.connect() as conn:
        for table in ("searches", "shares", "legal_holds", "review_findings", "audit_events"):
            rows = conn.execute(text(f"SELECT t::text FROM {table} t")).scalars().all()
            blobs.append("\n".join(rows).encode())
    return blobs


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_plate_typed_in_free_text_reaches_storage_logs_or_redacted_exports(
    client: FlaskClient,
    tokens: dict[str, str],
    rt: Runtime,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    caplog.set_level(logging.DEBUG)
    plate = data.draw(plates())
    typed: list[str] = []

    def free(ascii_only: bool = False) -> str:
        spelled = data.draw(spellings(plate, ascii_only=ascii_only))
        typed.append(spelled)
        return spelled

    supervisor, officer = auth(tokens["supervisor"]), auth(tokens["officer"])
    read_id = client.post(
        "/api/v1/reads",
        json={"reads": [read(plate="7KNW001", client_read_id=uuid.uuid4().hex)]},
        headers=auth(tokens["ingest"]),
    ).get_json()["ids"][0]
    searched = client.post(
        "/api/v1/searches",
        json=search_body(
            plate="7KNW001",
            justification="Reported stolen from Main St lot, owner report filed; "
            + prose(data.draw, free()),
            case_number=f"26-004512 {free(ascii_only=True)}",
        ),
        headers=officer,
    )
    assert searched.status_code == 200
    search_id = searched.get_json()["search_id"]
    share_body = {
        "recipient": "VTICE0900",
        "read_ids": [read_id],
        "purpose": "stolen_vehicle",
        "justification": prose(data.draw, free()),
        "case_number": free(ascii_only=True),
    }
    refused = client.post("/api/v1/shares", json=share_body, headers=supervisor)
    assert refused.status_code == 403
    held = client.post(
        "/api/v1/holds",
        json={
            "case_number": free(ascii_only=True),
            "reason": prose(data.draw, free()),
            "read_ids": [read_id],
            "review_by": (NOW + timedelta(days=30)).isoformat(),
        },
        headers=supervisor,
    )
    assert held.status_code == 201
    released = client.post(
        f"/api/v1/holds/{held.get_json()['id']}/release",
        json={"reason": prose(data.draw, free())},
        headers=supervisor,
    )
    assert released.status_code == 200
    with rt.sessions.begin() as session:
        finding = Finding(
            search_id=uuid.UUID(search_id),
            rule="vague_justification",
            severity="low",
            matched="{}",
            status="open",
            created_at=NOW,
        )
        session.add(finding)
        session.flush()
        finding_id = finding.id
    resolved = client.post(
        f"/api/v1/review/findings/{finding_id}/resolve",
        json={"verdict": "justified", "note": prose(data.draw, free())},
        headers=auth(tokens["auditor"]),
    )
    assert resolved.status_code == 200

    auditor = auth(tokens["auditor"])
    outputs = {
        "a refusal body": refused.get_data(),
        "a hold body": held.get_data() + released.get_data(),
        "a resolution body": resolved.get_data(),
        "GET /shares": client.get("/api/v1/shares", headers=supervisor).get_data(),
        "GET /holds": client.get("/api/v1/holds", headers=supervisor).get_data(),
        "GET /review/findings": client.get("/api/v1/review/findings", headers=auditor).get_data(),
        "the redacted access report": client.get(
            "/api/v1/audit/access-report?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
            "&format=json",
            headers=auditor,
        ).get_data(),
        "the logs": caplog.text.encode(),
    }
    for n, blob in enumerate(_db_blobs(rt)):
        outputs[f"database blob {n}"] = blob
    for where, blob in outputs.items():
        assert not leaks(blob, plate, typed), f"a plate typed in free text is in {where}"

    # The text as typed is sealed, not lost: the full report and the originals unseal it.
    full = client.get(
        "/api/v1/audit/access-report?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
        "&format=json&full=true",
        headers=auditor,
    ).get_json()
    (row,) = [r for r in full["rows"] if r["search_id"] == search_id]
    assert typed[0] in row["justification"]
    with rt.sessions() as session:
        share_id = refused.get_json()["error"]["details"]["share_id"]
        share = session.get_one(Share, uuid.UUID(share_id))
        assert (
            original(rt, share.text_sealed, share_aad(share.id.bytes), "justification", None)
            == share_body["justification"]
        )
        hold = session.get_one(LegalHold, uuid.UUID(held.get_json()["id"]))
        assert (
            original(rt, hold.text_sealed, hold_aad(hold.id.bytes), "case_number", None)
            == (typed[4])
        )
        record = session.get_one(SearchRecord, uuid.UUID(search_id))
        assert "[plate]" in record.justification


def test_old_rows_without_sealed_text_fall_back_to_their_stored_text(rt: Runtime) -> None:
    assert original(rt, None, b"x", "justification", "as stored") == "as stored"
    sealed = rt.keyring.seal(b'{"plate": "7ABC123"}', b"id")
    assert original(rt, sealed, b"id", "justification", "as stored") == "as stored"
    assert original(rt, sealed, b"other id", "justification", "as stored") == "as stored"
