"""Vendor webhook bodies mapped onto the native read: every vendor's quirks, as data, here.

Each mapper turns one vendor body into native read objects (the fields of ``POST
/api/v1/reads``) and the images that came with them; ``to_reads`` then runs them through the
same parser as the native endpoint (``parsing.parse_reads``), so a vendor read is checked
and normalised exactly as a native one, and a problem is reported under the vendor's own field
name (``best_plate_number``, ``data.results[0].plate``), never with its value.

The quirks (``VENDORS``): the scale of the confidence (0-1 or 0-100), the unit of the time
(epoch seconds, epoch milliseconds, ISO 8601), whether a bare region code is a US state or a
country, and the fields each vendor documents. A field a vendor does not document is ignored
and counted (vendors add fields between versions; refusing them would stop a camera after an
upgrade). A required field that is missing is a 422 naming it.

Pure: no Flask, no database, no settings.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alpr_guard.api.parsing import parse_reads
from alpr_guard.errors import ValidationError
from alpr_guard.services.requests import ReadIn

PLATE, VEHICLE = "plate", "vehicle"
IMAGE_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


@dataclass(frozen=True)
class Quirks:
    """How one vendor says things."""

    name: str
    confidence_max: float  # 100: percentages; 1: fractions
    time: str  # "epoch_ms", "epoch_s" or "iso"
    bare_region_is_state: bool  # "mo" means Missouri (Rekor, US agents); "gb" is a country
    # Documented fields, per object of the body (dotted path of the object; "" is the root).
    known: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _fields(text: str) -> frozenset[str]:
    return frozenset(text.split())


VENDORS: dict[str, Quirks] = {
    "rekor": Quirks(
        name="Rekor Scout / OpenALPR agent",
        confidence_max=100,
        time="epoch_ms",
        bare_region_is_state=True,
        known={
            "": _fields(
                "version data_type epoch_start epoch_end frame_start frame_end company_id "
                "site_id agent_uid agent_version agent_type camera_id gps_latitude "
                "gps_longitude country uuids vehicle_path plate_indexes candidates best_plate "
                "best_confidence best_plate_number best_region best_region_confidence "
                "matches_template plate_path vehicle_crop_jpeg overview_jpeg best_uuid "
                "best_uuid_epoch_ms best_image_width best_image_height travel_direction "
                "is_parked is_preview vehicle_signature vehicle web_server_config "
                "direction_of_travel_id custom_data uuid epoch_time processing_time_ms "
                "img_width img_height results regions_of_interest"
            ),
            "best_plate": _fields(
                "plate confidence matches_template plate_index region region_confidence "
                "processing_time_ms requested_topn coordinates candidates plate_crop_jpeg "
                "vehicle_region"
            ),
            "results[]": _fields(
                "plate confidence matches_template plate_index region region_confidence "
                "processing_time_ms requested_topn coordinates candidates plate_crop_jpeg "
                "vehicle_region"
            ),
        },
    ),
    "platerecognizer": Quirks(
        name="Plate Recognizer Stream",
        confidence_max=1,
        time="iso",
        bare_region_is_state=False,
        known={
            "": _fields("hook data"),
            "hook": _fields("target id event filename"),
            "data": _fields("camera_id filename timestamp timestamp_local results"),
            "data.results[]": _fields(
                "box plate region score candidates dscore vehicle direction source_url "
                "position_sec model_make color orientation user_data"
            ),
        },
    ),
    "verkada": Quirks(
        name="Verkada LPR webhook",
        confidence_max=1,
        time="epoch_s",
        bare_region_is_state=True,
        known={
            "": _fields("org_id webhook_type created_at webhook_id data"),
            "data": _fields(
                "camera_id created detected license_plate_number confidence crop image_url "
                "license_plate_state"
            ),
        },
    ),
}


@dataclass
class VendorBatch:
    """A vendor body as native read objects, with the vendor's path of each native field."""

    vendor: str
    reads: list[dict[str, Any]] = field(default_factory=list)
    paths: list[dict[str, str]] = field(default_factory=list)  # native field -> vendor path
    images: list[dict[str, tuple[str, object]]] = field(default_factory=list)  # kind -> (path, b64)
    ignored: int = 0  # undocumented fields seen (ignored)
    errors: dict[str, str] = field(default_factory=dict)
    # A body that carries no read (an agent's heartbeat): answered, and the camera seen.
    keepalive: bool = False

    def add(
        self,
        read: dict[str, Any],
        paths: dict[str, str],
        images: dict[str, tuple[str, object]] | None = None,
    ) -> None:
        self.reads.append(read)
        self.paths.append(paths)
        self.images.append(images or {})


@dataclass(frozen=True)
class VendorRead:
    read: ReadIn
    images: dict[str, tuple[str, bytes]]  # kind -> (content type, bytes)


# -- the quirks, applied ----------------------------------------------------------------------


def _count_unknown(batch: VendorBatch, quirks: Quirks, level: str, obj: Mapping[str, Any]) -> None:
    known = quirks.known.get(level, frozenset())
    batch.ignored += sum(1 for key in obj if key not in known)


def _time(quirks: Quirks, value: object) -> str:
    """The vendor's time as the ISO 8601 string the native parser takes (ValueError if bad)."""
    if quirks.time == "iso":
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time with a timezone")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a Unix time in " + _UNITS[quirks.time])
    seconds = value / 1000 if quirks.time == "epoch_ms" else float(value)
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        raise ValueError("must be a Unix time in " + _UNITS[quirks.time]) from None


_UNITS = {"epoch_ms": "milliseconds", "epoch_s": "seconds"}


def _confidence(quirks: Quirks, value: object) -> object:
    """On the native 0-1 scale. The vendor's own scale is checked first: 1.4 from a vendor
    that reports 0-1 is an error, not the percentage 1.4. Anything not a number is passed on
    for the parser to name."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not 0 <= value <= quirks.confidence_max:
        raise ValueError(f"must be between 0 and {quirks.confidence_max:g}")
    return value / quirks.confidence_max if quirks.confidence_max != 1 else value


def region_to_state(quirks: Quirks, value: object) -> str | None:
    """``us-ca`` -> ``CA``; a bare code is a state only where the vendor means one."""
    if not isinstance(value, str) or not value.strip():
        return None
    code = value.strip()
    if "-" in code:
        country, _, sub = code.partition("-")
        return sub.upper() if country.lower() == "us" and sub else None
    return code.upper() if quirks.bare_region_is_state else None


def _need(batch: VendorBatch, obj: Mapping[str, Any], key: str, path: str) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        batch.errors.setdefault(path, "is required")
    return value


def _put(
    batch: VendorBatch,
    read: dict[str, Any],
    paths: dict[str, str],
    native: str,
    path: str,
    convert: Callable[[Quirks, object], object],
    quirks: Quirks,
    value: object,
) -> None:
    try:
        read[native] = convert(quirks, value)
    except ValueError as exc:
        batch.errors.setdefault(path, str(exc))
    paths[native] = path


# -- Rekor Scout / OpenALPR ------------------------------------------------------------------


def rekor(body: object) -> VendorBatch:
    """``alpr_group`` (one read: the group's best plate) and ``alpr_results`` (one read per
    plate in the frame). ``heartbeat`` carries no read."""
    quirks = VENDORS["rekor"]
    batch = VendorBatch("rekor")
    if not isinstance(body, Mapping):
        raise ValidationError({"body": "must be a JSON object"})
    kind = body.get("data_type")
    if kind == "heartbeat":
        batch.keepalive = True
        return batch
    if kind not in ("alpr_group", "alpr_results"):
        raise ValidationError({"data_type": "must be alpr_group, alpr_results or heartbeat"})
    _count_unknown(batch, quirks, "", body)
    camera = _need(batch, body, "camera_id", "camera_id")
    camera_id = str(camera) if isinstance(camera, int | str) and camera != "" else camera
    if kind == "alpr_group":
        _rekor_group(batch, quirks, body, camera_id)
    else:
        _rekor_results(batch, quirks, body, camera_id)
    return batch


def _rekor_group(
    batch: VendorBatch, quirks: Quirks, body: Mapping[str, Any], camera_id: object
) -> None:
    best = body.get("best_plate")
    best = best if isinstance(best, Mapping) else {}
    if best:
        _count_unknown(batch, quirks, "best_plate", best)
    plate_path = "best_plate_number"
    plate = body.get("best_plate_number")
    if plate is None and best.get("plate") is not None:
        plate, plate_path = best.get("plate"), "best_plate.plate"
    if plate is None:
        batch.errors.setdefault("best_plate_number", "is required")
    uuid = _need(batch, body, "best_uuid", "best_uuid")
    epoch = _need(batch, body, "epoch_start", "epoch_start")
    read: dict[str, Any] = {"plate": plate, "camera_id": camera_id, "client_read_id": uuid}
    paths = {"plate": plate_path, "camera_id": "camera_id", "client_read_id": "best_uuid"}
    if epoch is not None:
        _put(batch, read, paths, "observed_at", "epoch_start", _time, quirks, epoch)
    confidence = body.get("best_confidence", best.get("confidence"))
    if confidence is not None:
        _put(batch, read, paths, "confidence", "best_confidence", _confidence, quirks, confidence)
    state = region_to_state(quirks, body.get("best_region", best.get("region")))
    if state is not None:
        read["plate_state"], paths["plate_state"] = state, "best_region"
    _location(body, read, paths)
    images: dict[str, tuple[str, object]] = {}
    if body.get("vehicle_crop_jpeg") is not None:
        images[VEHICLE] = ("vehicle_crop_jpeg", body["vehicle_crop_jpeg"])
    if best.get("plate_crop_jpeg") is not None:
        images[PLATE] = ("best_plate.plate_crop_jpeg", best["plate_crop_jpeg"])
    batch.add(read, paths, images)


def _rekor_results(
    batch: VendorBatch, quirks: Quirks, body: Mapping[str, Any], camera_id: object
) -> None:
    uuid = _need(batch, body, "uuid", "uuid")
    epoch = _need(batch, body, "epoch_time", "epoch_time")
    results = body.get("results")
    if not isinstance(results, list) or not results:
        batch.errors.setdefault("results", "must be a non-empty list")
        return
    for i, result in enumerate(results):
        path = f"results[{i}]"
        if not isinstance(result, Mapping):
            batch.errors.setdefault(path, "must be an object")
            continue
        _count_unknown(batch, quirks, "results[]", result)
        read = {
            "plate": _need(batch, result, "plate", f"{path}.plate"),
            "camera_id": camera_id,
            "client_read_id": f"{uuid}#{result.get('plate_index', i)}",
        }
        paths = {"plate": f"{path}.plate", "camera_id": "camera_id", "client_read_id": "uuid"}
        if epoch is not None:
            _put(batch, read, paths, "observed_at", "epoch_time", _time, quirks, epoch)
        if result.get("confidence") is not None:
            _put(
                batch,
                read,
                paths,
                "confidence",
                f"{path}.confidence",
                _confidence,
                quirks,
                result["confidence"],
            )
        state = region_to_state(quirks, result.get("region"))
        if state is not None:
            read["plate_state"], paths["plate_state"] = state, f"{path}.region"
        _location(body, read, paths)
        images = {}
        if result.get("plate_crop_jpeg") is not None:
            images[PLATE] = (f"{path}.plate_crop_jpeg", result["plate_crop_jpeg"])
        batch.add(read, paths, images)


def _location(body: Mapping[str, Any], read: dict[str, Any], paths: dict[str, str]) -> None:
    lat, lon = body.get("gps_latitude"), body.get("gps_longitude")
    # Agents without a GPS fix send 0, 0: no location, not the Gulf of Guinea.
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return
    read["latitude"], read["longitude"] = lat, lon
    paths["latitude"], paths["longitude"] = "gps_latitude", "gps_longitude"


# -- Plate Recognizer Stream -----------------------------------------------------------------


def plate_recognizer(body: object, image: bytes | None = None) -> VendorBatch:
    """``hook`` + ``data``: one read per entry of ``data.results``. The multipart form's
    ``upload`` (the frame) is kept as each read's vehicle image."""
    quirks = VENDORS["platerecognizer"]
    batch = VendorBatch("platerecognizer")
    if not isinstance(body, Mapping):
        raise ValidationError({"body": "must be a JSON object"})
    _count_unknown(batch, quirks, "", body)
    hook = body.get("hook")
    if isinstance(hook, Mapping):
        _count_unknown(batch, quirks, "hook", hook)
        if hook.get("event") not in (None, "recognition"):
            batch.keepalive = True  # Stream's heartbeats and other events: no read
            return batch
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise ValidationError({"data": "is required: an object"})
    _count_unknown(batch, quirks, "data", data)
    camera = _need(batch, data, "camera_id", "data.camera_id")
    stamp = _need(batch, data, "timestamp", "data.timestamp")
    results = data.get("results")
    if not isinstance(results, list):
        batch.errors.setdefault("data.results", "must be a list")
        return batch
    if not results:
        batch.keepalive = True
        return batch
    for i, result in enumerate(results):
        path = f"data.results[{i}]"
        if not isinstance(result, Mapping):
            batch.errors.setdefault(path, "must be an object")
            continue
        _count_unknown(batch, quirks, "data.results[]", result)
        read: dict[str, Any] = {
            "plate": _need(batch, result, "plate", f"{path}.plate"),
            "camera_id": camera,
            "client_read_id": f"pr:{stamp}#{i}" if isinstance(stamp, str) else None,
        }
        paths = {
            "plate": f"{path}.plate",
            "camera_id": "data.camera_id",
            "client_read_id": "data.timestamp",
        }
        if stamp is not None:
            _put(batch, read, paths, "observed_at", "data.timestamp", _time, quirks, stamp)
        if result.get("score") is not None:
            _put(
                batch,
                read,
                paths,
                "confidence",
                f"{path}.score",
                _confidence,
                quirks,
                result["score"],
            )
        region = result.get("region")
        if isinstance(region, Mapping):
            state = region_to_state(quirks, region.get("code"))
            if state is not None:
                read["plate_state"], paths["plate_state"] = state, f"{path}.region.code"
        images: dict[str, tuple[str, object]] = {}
        if image is not None:
            images[VEHICLE] = ("upload", image)
        batch.add(read, paths, images)
    return batch


def plate_recognizer_form(form_json: str | None, image: bytes | None) -> VendorBatch:
    """The multipart form Stream sends with images: the body in ``json``, the frame in
    ``upload``."""
    if form_json is None:
        raise ValidationError({"json": "is required: the webhook body as a form field"})
    try:
        body = json.loads(form_json)
    except ValueError:
        raise ValidationError({"json": "is not valid JSON"}) from None
    return plate_recognizer(body, image)


# -- Verkada ---------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def verkada(body: object) -> VendorBatch:
    """``webhook_type: lpr``: one read. ``image_url`` is not fetched (no outbound requests)."""
    quirks = VENDORS["verkada"]
    batch = VendorBatch("verkada")
    if not isinstance(body, Mapping):
        raise ValidationError({"body": "must be a JSON object"})
    if str(body.get("webhook_type", "")).lower() != "lpr":
        raise ValidationError({"webhook_type": "must be lpr"})
    _count_unknown(batch, quirks, "", body)
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise ValidationError({"data": "is required: an object"})
    _count_unknown(batch, quirks, "data", data)
    created = _need(batch, data, "created", "data.created")
    detected = data.get("detected")
    read: dict[str, Any] = {
        "plate": _need(batch, data, "license_plate_number", "data.license_plate_number"),
        "camera_id": _need(batch, data, "camera_id", "data.camera_id"),
    }
    paths = {"plate": "data.license_plate_number", "camera_id": "data.camera_id"}
    if created is not None:
        _put(batch, read, paths, "observed_at", "data.created", _time, quirks, created)
    # The detection's own millisecond time, when sent, tells two reads of one second apart.
    # Every time the mapping accepts (a fractional one too) makes a client read id: without
    # one, a replayed request (a signed one, within the allowed skew) would store its read
    # again.
    marker = detected if _is_number(detected) else created
    if _is_number(marker) or isinstance(marker, str):
        read["client_read_id"] = f"vk:{marker}"
        paths["client_read_id"] = "data.detected"
    if data.get("confidence") is not None:
        _put(
            batch,
            read,
            paths,
            "confidence",
            "data.confidence",
            _confidence,
            quirks,
            data["confidence"],
        )
    state = region_to_state(quirks, data.get("license_plate_state"))
    if state is not None:
        read["plate_state"], paths["plate_state"] = state, "data.license_plate_state"
    batch.add(read, paths)
    return batch


# -- into native reads -----------------------------------------------------------------------


def decode_image(value: object, max_bytes: int) -> tuple[str, bytes]:
    """(content type, bytes) of a base64 (or raw, from a form) JPEG or PNG; ValueError names
    the rule broken, never the content."""
    if isinstance(value, bytes):
        raw = value
    elif isinstance(value, str):
        if len(value) > (max_bytes * 4) // 3 + 8:
            raise ValueError(f"must be at most {max_bytes} bytes")
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be a base64 JPEG or PNG image") from None
    else:
        raise ValueError("must be a base64 JPEG or PNG image")
    if len(raw) > max_bytes:
        raise ValueError(f"must be at most {max_bytes} bytes")
    for magic, content_type in IMAGE_TYPES:
        if raw.startswith(magic):
            return content_type, raw
    raise ValueError("must be a base64 JPEG or PNG image")


def to_reads(batch: VendorBatch, max_batch: int, max_image_bytes: int) -> list[VendorRead]:
    """The batch's reads through the native parser, all or nothing; every error under the
    vendor's field name."""
    errors = dict(batch.errors)
    decoded: list[dict[str, tuple[str, bytes]]] = []
    for images in batch.images:
        out: dict[str, tuple[str, bytes]] = {}
        for kind, (path, value) in images.items():
            try:
                out[kind] = decode_image(value, max_image_bytes)
            except ValueError as exc:
                errors.setdefault(path, str(exc))
        decoded.append(out)
    if errors:
        raise ValidationError(errors)
    if not batch.reads:
        return []
    try:
        reads = parse_reads(batch.reads, max_batch)
    except ValidationError as exc:
        raise ValidationError(vendor_fields(exc.fields, batch)) from None
    return [VendorRead(r, images) for r, images in zip(reads, decoded, strict=True)]


def vendor_fields(fields: Mapping[str, str], batch: VendorBatch) -> dict[str, str]:
    """``reads[2].plate`` -> the vendor field it came from; others keep their native name.
    For the parser's errors and for the checks made after it (a time from the future)."""
    paths = batch.paths
    renamed: dict[str, str] = {}
    for native, why in fields.items():
        target = native
        if native.startswith("reads[") and "]." in native:
            index, _, name = native[6:].partition("].")
            if index.isdigit() and int(index) < len(paths):
                target = paths[int(index)].get(name.split(".")[0], native)
        elif native == "reads":
            target = "results"
        renamed.setdefault(target, why)
    return renamed
