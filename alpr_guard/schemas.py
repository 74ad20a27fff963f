"""Parsing untrusted input into frozen dataclasses, with field-level errors.

Shared by the HTTP API and the CLI. Every error names the field path (``reads[3].plate``) and the
rule it broke, never the offending value: a value may be a plate. Unknown fields are refused, so
a client can never set an agency, an id, an expiry or an outcome (the retention class follows
from ``hit``, the camera's hot-list match, under the configured windows).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alpr_guard.clock import ensure_utc
from alpr_guard.errors import ValidationError
from alpr_guard.policy.plates import Plate, normalise_plate

READ_FIELDS = frozenset(
    {
        "plate",
        "observed_at",
        "camera_id",
        "plate_state",
        "latitude",
        "longitude",
        "confidence",
        "client_read_id",
        "hit",
    }
)
SEARCH_FIELDS = frozenset(
    {
        "plate",
        "from",
        "to",
        "purpose",
        "justification",
        "case_number",
        "on_behalf_of",
        "page_size",
        "cursor",
        "include_images",
    }
)
CAMERA_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
CLIENT_ID_RE = re.compile(r"[\x21-\x7e]{1,128}")
REGION_RE = re.compile(r"[A-Z]{2,3}")
ORI_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{7}")
CASE_RE = re.compile(r"[\x20-\x7e]{1,64}")
HOT_LIST_RE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?")  # 1-64, no edge space
HOT_ENTRY_RE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?")  # 1-128
HIT_FIELDS = frozenset({"list", "entry"})
HIT_REQUIRED = 'must name the hot list and entry it matched: {"list": "...", "entry": "..."}'


@dataclass(frozen=True)
class ReadIn:
    plate: Plate
    observed_at: datetime
    camera_id: str
    plate_state: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    confidence: float | None = None
    client_read_id: str | None = None
    hit: bool = False  # matched a hot list: picks the class, and is kept a year, so...
    # ...it must name what it matched: (hot list, entry). Sealed at rest; an entry may be a plate.
    hit_ref: tuple[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SearchRequest:
    plate: Plate
    window_from: datetime
    window_to: datetime
    purpose: str
    justification: str = field(repr=False)
    case_number: str | None = field(default=None, repr=False)  # officers type plates here too
    on_behalf_of: str | None = None
    page_size: int | None = None
    cursor: tuple[datetime, uuid.UUID] | None = None  # (observed_at, id) of the last read seen
    include_images: bool = False  # return each read's plate crop and vehicle image


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, path: str, why: str) -> None:
        self.fields.setdefault(path, why)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationError(self.fields)


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string with a timezone")
    try:
        parsed = datetime.fromisoformat(
            value.replace("Z", "+00:00") if value.endswith("Z") else value
        )
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time with a timezone") from None
    return ensure_utc(parsed, "value")


def query_int(raw: str, lo: int, hi: int) -> int | None:
    """A query-string integer within [lo, hi], or None. ASCII digits only: ``str.isdigit``
    accepts "²", which int() refuses, and int() refuses more than 4,300 digits."""
    if _QUERY_INT.fullmatch(raw) is None:
        return None
    value = int(raw)
    return value if lo <= value <= hi else None


_QUERY_INT = re.compile(r"[0-9]{1,18}")


def _float(value: int | float) -> float:
    """A JSON number as a float; an integer too large for one (10**400) is out of range."""
    try:
        return float(value)
    except OverflowError:
        raise ValueError("is out of range") from None


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    number = _float(value)
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def _text(value: object, pattern: re.Pattern[str], why: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
        raise ValueError(why)
    return value.strip()


def normalise_confidence(value: float) -> float:
    """Cameras report 0-1 or 0-100; both are stored as 0-1. Values above 1 are percentages."""
    if value < 0 or value > 100:
        raise ValueError("must be between 0 and 1, or between 0 and 100")
    return value / 100 if value > 1 else value


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


def _hit_ref(value: object, path: str, errors: _Errors) -> tuple[str, str] | None:
    """``false`` (or absent): no match. A match names its hot list and entry; a bare
    ``true`` is the camera's word alone, and is refused."""
    if value is False:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(HIT_REQUIRED)
    for key in sorted(set(value) - HIT_FIELDS, key=str):
        errors.add(f"{path}.hit.{key}", "unknown field")
    hot_list, entry = value.get("list"), value.get("entry")
    if not isinstance(hot_list, str) or not HOT_LIST_RE.fullmatch(hot_list):
        errors.add(f"{path}.hit.list", "must be 1-64 printable characters naming the hot list")
    if not isinstance(entry, str) or not HOT_ENTRY_RE.fullmatch(entry):
        errors.add(f"{path}.hit.entry", "must be 1-128 printable characters: the entry matched")
    if not isinstance(hot_list, str) or not isinstance(entry, str):
        return None
    return (hot_list, entry)


def _parse_read(raw: object, path: str, errors: _Errors) -> ReadIn | None:
    if not isinstance(raw, Mapping):
        errors.add(path, "must be an object")
        return None
    for key in sorted(set(raw) - READ_FIELDS):
        errors.add(f"{path}.{key}", "unknown field")
    values: dict[str, Any] = {}

    def take(name: str, convert: Any, required: bool = False) -> None:
        if name not in raw or raw[name] is None:
            if required:
                errors.add(f"{path}.{name}", "is required")
            return
        try:
            values[name] = convert(raw[name])
        except ValueError as exc:
            errors.add(f"{path}.{name}", str(exc))

    def plate(value: object) -> Plate:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return Plate(normalise_plate(value))

    def lat(value: object) -> float:
        number = _number(value)
        if not -90 <= number <= 90:
            raise ValueError("must be between -90 and 90")
        return number

    def lon(value: object) -> float:
        number = _number(value)
        if not -180 <= number <= 180:
            raise ValueError("must be between -180 and 180")
        return number

    take("plate", plate, required=True)
    take("observed_at", parse_datetime, required=True)
    take(
        "camera_id",
        lambda v: _text(v, CAMERA_RE, "must be 1-64 letters, digits or ._:/-"),
        required=True,
    )
    take(
        "plate_state",
        lambda v: _text(
            v.upper() if isinstance(v, str) else v, REGION_RE, "must be a 2 or 3 letter region code"
        ),
    )
    take("latitude", lat)
    take("longitude", lon)
    take("confidence", lambda v: normalise_confidence(_number(v)))
    take(
        "client_read_id",
        lambda v: _text(v, CLIENT_ID_RE, "must be 1-128 printable characters without spaces"),
    )
    if raw.get("hit") is not None:
        try:
            ref = _hit_ref(raw["hit"], path, errors)
        except ValueError as exc:
            errors.add(f"{path}.hit", str(exc))
        else:
            if ref is not None:
                values["hit"], values["hit_ref"] = True, ref
    if (
        ("latitude" in values) != ("longitude" in values)
        and f"{path}.latitude" not in errors.fields
        and f"{path}.longitude" not in errors.fields
    ):
        errors.add(f"{path}.latitude", "latitude and longitude go together")
    if not {"plate", "observed_at", "camera_id"} <= set(values):
        return None
    return ReadIn(**values)


def parse_read_batch(body: object, max_batch: int) -> list[ReadIn]:
    """All-or-nothing: one bad read and the whole batch is refused, naming each bad field."""
    errors = _Errors()
    if not isinstance(body, Mapping):
        raise ValidationError({"body": "must be a JSON object"})
    for key in sorted(set(body) - {"reads"}):
        errors.add(key, "unknown field")
    raw_reads = body.get("reads")
    if not isinstance(raw_reads, list) or not raw_reads:
        errors.add("reads", "must be a non-empty list")
        errors.raise_if_any()
        return []
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


def parse_one_read(raw: object, path: str = "read") -> ReadIn:
    """One read, checked as in a batch (ValidationError naming each bad field under ``path``):
    for importers, which refuse a bad row on its own instead of its whole batch."""
    read = _fast_read(raw)
    if read is not None:
        return read
    errors = _Errors()
    read = _parse_read(raw, path, errors)
    errors.raise_if_any()
    assert read is not None
    return read


def parse_read_selection(
    body: Mapping[str, Any], errors: dict[str, str]
) -> tuple[tuple[uuid.UUID, ...], uuid.UUID | None]:
    """``read_ids`` (in body order, so that errors can name their index) and ``search_id`` of a
    share or hold body; each bad one is named in ``errors``."""
    read_ids: list[uuid.UUID] = []
    raw_ids = body.get("read_ids", [])
    if not isinstance(raw_ids, list):
        errors["read_ids"] = "must be a list of read ids"
    else:
        for i, raw in enumerate(raw_ids):
            try:
                read_ids.append(uuid.UUID(str(raw)))
            except ValueError:
                errors[f"read_ids[{i}]"] = "is not a read id"
    search_id = None
    if body.get("search_id") is not None:
        try:
            search_id = uuid.UUID(str(body["search_id"]))
        except ValueError:
            errors["search_id"] = "is not a search id"
    return tuple(read_ids), search_id


def encode_cursor(observed_at: datetime, read_id: uuid.UUID) -> str:
    """An opaque page cursor: a read's time and id, never anything about the plate."""
    raw = json.dumps([observed_at.isoformat(), str(read_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: object) -> tuple[datetime, uuid.UUID]:
    if not isinstance(cursor, str) or len(cursor) > 200:
        raise ValueError("is not a cursor this service issued")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, rid = json.loads(raw)
        return ensure_utc(datetime.fromisoformat(at), "cursor"), uuid.UUID(rid)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValueError("is not a cursor this service issued") from None


def parse_search_request(body: object, max_page_size: int) -> SearchRequest:
    values, errors = search_request_values(body, max_page_size)
    errors.raise_if_any()
    return SearchRequest(**values)


NUL = "\x00"


def storable(text: str) -> str:
    """Free text as it can be stored: PostgreSQL text holds no NUL character, so one in a
    refused attempt's text is kept as U+FFFD (the sealed original keeps every byte)."""
    return text.replace(NUL, "\ufffd")


def salvage_search_request(
    body: object, max_page_size: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """A malformed search's parsable fields (``SearchRequest`` names) and its field errors.

    Every attempt is recorded, a malformed one included: what could be parsed is kept, and the
    free text of a field that broke only a length limit is kept up to that limit (it is sealed
    and screened by the access review like any other). Errors name fields, never values."""
    values, errors = search_request_values(body, max_page_size)
    if isinstance(body, Mapping):
        for name, target, limit in (
            ("purpose", "purpose", 64),
            ("justification", "justification", 2000),
            ("case_number", "case_number", 64),
        ):
            raw = body.get(name)
            if target not in values and isinstance(raw, str):
                values[target] = storable(raw[:limit])
    return values, errors.fields


def search_request_values(body: object, max_page_size: int) -> tuple[dict[str, Any], _Errors]:
    """The search request's fields that parse (``SearchRequest`` names), and the errors."""
    errors = _Errors()
    if not isinstance(body, Mapping):
        errors.add("body", "must be a JSON object")
        return {}, errors
    for key in sorted(set(body) - SEARCH_FIELDS):
        errors.add(key, "unknown field")
    values: dict[str, Any] = {}

    def take(name: str, target: str, convert: Any, required: bool = False) -> None:
        if name not in body or body[name] is None:
            if required:
                errors.add(name, "is required")
            return
        try:
            values[target] = convert(body[name])
        except ValueError as exc:
            errors.add(name, str(exc))

    def plate(value: object) -> Plate:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return Plate(normalise_plate(value))

    def string(limit: int) -> Any:
        def convert(value: object) -> str:
            if not isinstance(value, str):
                raise ValueError("must be a string")
            if len(value) > limit:
                raise ValueError(f"must be at most {limit} characters")
            if NUL in value:
                raise ValueError("must not contain a NUL character")
            return value

        return convert

    def page_size(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= max_page_size:
            raise ValueError(f"must be an integer from 1 to {max_page_size}")
        return value

    take("plate", "plate", plate, required=True)
    take("from", "window_from", parse_datetime, required=True)
    take("to", "window_to", parse_datetime, required=True)
    take("purpose", "purpose", string(64), required=True)
    # A blank justification is a policy refusal (recorded), not a malformed request.
    take("justification", "justification", string(2000), required=True)
    take(
        "case_number",
        "case_number",
        lambda v: _text(v, CASE_RE, "must be 1-64 printable characters"),
    )
    take(
        "on_behalf_of",
        "on_behalf_of",
        lambda v: _text(
            v.upper() if isinstance(v, str) else v, ORI_RE, "must be a 9-character ORI"
        ),
    )
    take("page_size", "page_size", page_size)
    take("cursor", "cursor", decode_cursor)

    def flag(value: object) -> bool:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    take("include_images", "include_images", flag)
    return values, errors


SHARE_FIELDS = frozenset(
    {"recipient", "read_ids", "search_id", "purpose", "justification", "case_number"}
)
MAX_SHARE_READS = 1000


def share_request_values(body: object) -> tuple[dict[str, Any], dict[str, str]]:
    """A share request's fields that parse (``recipient_ori``, ``purpose``, ``justification``,
    ``case_number``, ``read_ids``, ``search_id``) and the errors by field, never values. Free
    text that broke only a length limit is kept up to that limit, so that a refused attempt is
    recorded with what it said."""
    if not isinstance(body, Mapping):
        return {}, {"body": "must be a JSON object"}
    errors = dict.fromkeys(sorted(set(body) - SHARE_FIELDS), "unknown field")
    values: dict[str, Any] = {}
    recipient = body.get("recipient")
    if isinstance(recipient, str) and ORI_RE.fullmatch(recipient.strip().upper()):
        values["recipient_ori"] = recipient.strip().upper()
    else:
        errors["recipient"] = "must be a 9-character ORI"
    for name, limit in (("purpose", 64), ("justification", 2000)):
        value = body.get(name)
        if isinstance(value, str):
            values[name] = storable(value[:limit])
        if not isinstance(value, str) or len(value) > limit:
            errors[name] = f"is required: a string of at most {limit} characters"
        elif NUL in value:
            errors[name] = "must not contain a NUL character"
    case = body.get("case_number")
    if case is not None and (not isinstance(case, str) or not CASE_RE.fullmatch(case.strip())):
        errors["case_number"] = "must be 1-64 printable characters"
    if isinstance(case, str):
        values["case_number"] = case.strip()[:64] or None
    read_ids, search_id = parse_read_selection(body, errors)
    values["read_ids"] = tuple(dict.fromkeys(read_ids))
    values["search_id"] = search_id
    if not errors:
        if bool(read_ids) == (search_id is not None):
            errors["read_ids"] = "give either read_ids or search_id"
        elif len(values["read_ids"]) > MAX_SHARE_READS:
            errors["read_ids"] = f"at most {MAX_SHARE_READS} reads per share"
    return values, errors
