"""Request bodies into service inputs, validated by the models of ``api.models``.

Ingest's fast path (``_fast_read``) takes the common well-formed read in one straight pass; it
may only decline, never disagree: whatever it is unsure of goes to ``_parse_read``, which
validates against ``CameraRead``, the rule book, and names each problem. A property test holds
the two together. Searches and shares are salvaged field by field, because a malformed attempt
is recorded with what could be parsed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError as PydanticError

from alpr_guard.api.contract import field_errors, salvage, validate
from alpr_guard.api.models import CameraRead, HoldIn, ReadBatchIn, SearchIn, ShareIn
from alpr_guard.errors import ValidationError
from alpr_guard.policy.cameras import CAMERA_RE
from alpr_guard.policy.plates import Plate, normalise_plate
from alpr_guard.schemas import (
    CLIENT_ID_RE,
    HOT_ENTRY_RE,
    HOT_LIST_RE,
    REGION_RE,
    normalise_confidence,
    parse_datetime,
    storable,
)
from alpr_guard.services.holds import HoldRequest
from alpr_guard.services.requests import ReadIn, SearchRequest

READ_FIELDS = frozenset(CameraRead.model_fields)
HIT_FIELDS = frozenset({"list", "entry"})
MAX_SHARE_READS = 1000


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, path: str, why: str) -> None:
        self.fields.setdefault(path, why)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationError(self.fields)


def _number_in(value: object, lo: float, hi: float) -> float | None:
    """A JSON number within [lo, hi] as a float; None for anything else (bools, NaN, ...)."""
    if type(value) is not float and type(value) is not int:
        return None
    if type(value) is int and not -(2**53) <= value <= 2**53:
        return None  # float() may overflow: the slow path names the field
    number = float(value)
    return number if lo <= number <= hi else None  # NaN and infinities fail the comparison


def _fast_read(raw: object) -> ReadIn | None:
    """The common case in one straight pass: a read whose every field is well formed.

    It accepts only what ``_parse_read`` accepts, and builds the same ReadIn from it. None means
    "not sure", never "invalid": the caller then runs ``_parse_read``, which is the rule book
    and names each problem. A 1,000-read batch spends most of its parsing time here.
    """
    if type(raw) is not dict or not raw.keys() <= READ_FIELDS:
        return None
    get = raw.get
    plate, observed, camera = get("plate"), get("observed_at"), get("camera_id")
    if type(plate) is not str or type(observed) is not str or type(camera) is not str:
        return None
    try:
        value = normalise_plate(plate)
        observed_at = parse_datetime(observed)
    except ValueError:
        return None
    camera = camera.strip()
    if CAMERA_RE.fullmatch(camera) is None:
        return None
    state = get("plate_state")
    if state is not None:
        if type(state) is not str:
            return None
        state = state.upper().strip()
        if REGION_RE.fullmatch(state) is None:
            return None
    lat, lon = get("latitude"), get("longitude")
    if lat is not None or lon is not None:
        lat, lon = _number_in(lat, -90, 90), _number_in(lon, -180, 180)
        if lat is None or lon is None:
            return None
    confidence = get("confidence")
    if confidence is not None:
        confidence = _number_in(confidence, 0, 100)
        if confidence is None:
            return None
        confidence = normalise_confidence(confidence)
    client = get("client_read_id")
    if client is not None:
        if type(client) is not str:
            return None
        client = client.strip()
        if CLIENT_ID_RE.fullmatch(client) is None:
            return None
    hit = get("hit")
    ref = None
    if hit is not None and hit is not False:
        if type(hit) is not dict or hit.keys() != HIT_FIELDS:
            return None
        hot_list, entry = hit["list"], hit["entry"]
        if type(hot_list) is not str or type(entry) is not str:
            return None
        if HOT_LIST_RE.fullmatch(hot_list) is None or HOT_ENTRY_RE.fullmatch(entry) is None:
            return None
        ref = (hot_list, entry)
    return ReadIn(
        plate=Plate(value),
        observed_at=observed_at,
        camera_id=camera,
        plate_state=state,
        latitude=lat,
        longitude=lon,
        confidence=confidence,
        client_read_id=client,
        hit=ref is not None,
        hit_ref=ref,
    )


def _parse_read(raw: object, path: str, errors: _Errors) -> ReadIn | None:
    """One read against ``CameraRead``; each bad field is named in ``errors`` under ``path``."""
    if not isinstance(raw, dict):
        errors.add(path, "must be an object")
        return None
    try:
        read = CameraRead.model_validate(raw)
    except PydanticError as exc:
        bad = field_errors(CameraRead, exc, path)
        for key, why in bad.items():
            errors.add(key, why)
        lat = raw.get("latitude") is not None and f"{path}.latitude" not in bad
        lon = raw.get("longitude") is not None and f"{path}.longitude" not in bad
        if lat != lon and f"{path}.latitude" not in bad and f"{path}.longitude" not in bad:
            errors.add(f"{path}.latitude", "latitude and longitude go together")
        return None
    if (read.latitude is None) != (read.longitude is None):
        errors.add(f"{path}.latitude", "latitude and longitude go together")
        return None
    hit = read.hit
    return ReadIn(
        plate=Plate(read.plate),
        observed_at=read.observed_at,
        camera_id=read.camera_id,
        plate_state=read.plate_state,
        latitude=read.latitude,
        longitude=read.longitude,
        confidence=read.confidence,
        client_read_id=read.client_read_id,
        hit=hit is not None,
        hit_ref=(hit.list, hit.entry) if hit is not None else None,
    )


def parse_one_read(raw: object, path: str = "read") -> ReadIn:
    """One read, checked as in a batch (ValidationError naming each bad field under ``path``):
    for importers, which refuse a bad row on its own instead of its whole batch."""
    read = _fast_read(raw)
    if read is not None:
        return read
    errors = _Errors()
    parsed = _parse_read(raw, path, errors)
    errors.raise_if_any()
    assert parsed is not None
    return parsed


def parse_read_batch(body: object, max_batch: int) -> list[ReadIn]:
    """All-or-nothing: one bad read and the whole batch is refused, naming each bad field."""
    if not isinstance(body, dict):
        raise ValidationError({"body": "must be a JSON object"})
    errors = _Errors()
    try:
        ReadBatchIn.model_validate(body)
    except PydanticError as exc:
        for key, why in field_errors(ReadBatchIn, exc).items():
            errors.add(key, why)
    raw_reads = body.get("reads")
    if "reads" in errors.fields or not isinstance(raw_reads, list):
        errors.raise_if_any()
        return []
    return _parse_reads(raw_reads, max_batch, errors)


def parse_reads(raw_reads: list[Any], max_batch: int) -> list[ReadIn]:
    """``parse_read_batch`` for a caller that holds the non-empty list of reads itself (a
    vendor mapping): the batch's own model can then find nothing to refuse, and is skipped."""
    return _parse_reads(raw_reads, max_batch, _Errors())


def _parse_reads(raw_reads: list[Any], max_batch: int, errors: _Errors) -> list[ReadIn]:
    if len(raw_reads) > max_batch:
        errors.add("reads", f"at most {max_batch} reads per request")
        errors.raise_if_any()
    reads = []
    for i, raw in enumerate(raw_reads):
        read = _fast_read(raw)
        if read is None:
            read = _parse_read(raw, f"reads[{i}]", errors)
        if read is not None:
            reads.append(read)
    errors.raise_if_any()
    return reads


def parse_search_request(body: object, max_page_size: int) -> SearchRequest:
    """A well-formed search request, or ValidationError naming each bad field."""
    values, errors = salvage_search_request(body, max_page_size)
    if errors:
        raise ValidationError(errors)
    return SearchRequest(**values)


def salvage_search_request(
    body: object, max_page_size: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """A search request's parsable fields (``SearchRequest`` names) and its field errors.

    Every attempt is recorded, a malformed one included: what could be parsed is kept, and the
    free text of a field that broke only a length limit is kept up to that limit (it is sealed
    and screened by the access review like any other). Errors name fields, never values."""
    values, errors = salvage(SearchIn, body)
    size = values.get("page_size")
    if "page_size" in errors or (size is not None and size > max_page_size):
        errors["page_size"] = f"must be an integer from 1 to {max_page_size}"
        values.pop("page_size", None)
    if "plate" in values:
        values["plate"] = Plate(values["plate"])
    if isinstance(body, Mapping):
        for name, limit in (("purpose", 64), ("justification", 2000), ("case_number", 64)):
            raw = body.get(name)
            if name not in values and isinstance(raw, str):
                values[name] = storable(raw[:limit])
    return values, errors


def share_request_values(body: object) -> tuple[dict[str, Any], dict[str, str]]:
    """A share request's fields that parse (``recipient_ori``, ``purpose``, ``justification``,
    ``case_number``, ``read_ids``, ``search_id``) and the errors by field, never values. Free
    text that broke only a length limit is kept up to that limit, so that a refused attempt is
    recorded with what it said."""
    parsed, errors = salvage(ShareIn, body)
    if not isinstance(body, Mapping):
        return {}, errors
    values: dict[str, Any] = {}
    if "recipient" in parsed:
        values["recipient_ori"] = parsed["recipient"]
    for name, limit in (("purpose", 64), ("justification", 2000)):
        raw = body.get(name)
        if isinstance(raw, str):
            values[name] = storable(raw[:limit])
    case = body.get("case_number")
    if isinstance(case, str):
        values["case_number"] = case.strip()[:64] or None
    read_ids = parsed.get("read_ids")
    if read_ids is None:  # what parses of a bad list is still recorded
        read_ids = [i for i in _uuids(body.get("read_ids")) if i is not None]
    values["read_ids"] = tuple(dict.fromkeys(read_ids))
    values["search_id"] = parsed.get("search_id")
    if not errors:
        if bool(read_ids) == (values["search_id"] is not None):
            errors["read_ids"] = "give either read_ids or search_id"
        elif len(values["read_ids"]) > MAX_SHARE_READS:
            errors["read_ids"] = f"at most {MAX_SHARE_READS} reads per share"
    return values, errors


def _uuids(raw: object) -> list[uuid.UUID | None]:
    if not isinstance(raw, list):
        return []
    out: list[uuid.UUID | None] = []
    for item in raw:
        try:
            out.append(uuid.UUID(str(item)))
        except ValueError:
            out.append(None)
    return out


def hold_request(body: object) -> HoldRequest:
    hold = validate(HoldIn, body)
    return HoldRequest(
        case_number=hold.case_number,
        reason=hold.reason,
        review_by=hold.review_by,
        read_ids=tuple(hold.read_ids),
        search_id=hold.search_id,
    )
