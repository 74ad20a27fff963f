"""Every JSON request and response of the API, declared once (see ``api.contract``).

Where a field's rule is richer than JSON Schema can say (a plate is normalised before it is
checked; text is trimmed; a hit must name its list and entry), the rule is the field's
validator, declared next to the documented input type it accepts, and its message is the one a
caller reads in ``details.fields``. Messages name the rule, never the value.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from alpr_guard.api.contract import Msg, Response, Strict, invalid
from alpr_guard.policy.cameras import CAMERA_RE
from alpr_guard.policy.plates import normalise_plate
from alpr_guard.schemas import (
    CASE_RE,
    CLIENT_ID_RE,
    HIT_REQUIRED,
    HOT_ENTRY_RE,
    HOT_LIST_RE,
    NUL,
    ORI_RE,
    REGION_RE,
    normalise_confidence,
    parse_datetime,
)
from alpr_guard.services.requests import decode_cursor

# -- field rules ----------------------------------------------------------------------------


def _required(value: object) -> object:
    if value is None:
        raise invalid("is required")
    return value


def _plate(value: object) -> str:
    if not isinstance(_required(value), str):
        raise invalid("must be a string")
    try:
        return normalise_plate(str(value))
    except ValueError as exc:
        raise invalid(str(exc)) from None


def _when(value: object) -> datetime:
    try:
        return parse_datetime(_required(value))
    except ValueError as exc:
        raise invalid(str(exc)) from None


def _trimmed(
    pattern: Any, why: str, upper: bool = False, required: bool = False
) -> Callable[[object], str | None]:
    """Text that, trimmed (and upper-cased when ``upper``), matches ``pattern`` in full."""

    def rule(value: object) -> str | None:
        if value is None:
            if required:
                raise invalid("is required")
            return None
        if isinstance(value, str) and upper:
            value = value.upper()
        if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
            raise invalid(why)
        return value.strip()

    return rule


def _number(lo: float, hi: float, why: str) -> Callable[[object], float | None]:
    def rule(value: object) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid("must be a number")
        try:
            number = float(value)
        except OverflowError:
            raise invalid("is out of range") from None
        if not math.isfinite(number):
            raise invalid("must be a finite number")
        if not lo <= number <= hi:
            raise invalid(why)
        return number

    return rule


def _confidence(value: object) -> float | None:
    number = _number(-1e308, 1e308, "")(value)
    if number is None:
        return None
    try:
        return normalise_confidence(number)
    except ValueError as exc:
        raise invalid(str(exc)) from None


def _hit(value: object) -> object:
    """``false`` or null: no match. A match is an object naming list and entry; a bare
    ``true`` is the camera's word alone, and is refused."""
    if value is None or value is False:
        return None
    if not isinstance(value, dict):
        raise invalid(HIT_REQUIRED)
    return value


def _text(limit: int, why: str | None = None) -> Callable[[object], str]:
    def rule(value: object) -> str:
        if not isinstance(value, str):
            raise invalid(why or ("is required" if value is None else "must be a string"))
        text = str(value)
        if len(text) > limit:
            raise invalid(why or f"must be at most {limit} characters")
        if NUL in text:
            raise invalid("must not contain a NUL character")
        return text

    return rule


def _cursor(value: object) -> tuple[datetime, uuid.UUID] | None:
    if value is None:
        return None
    try:
        return decode_cursor(value)
    except ValueError as exc:
        raise invalid(str(exc)) from None


def _ids(why_list: str) -> Callable[[object], object]:
    def rule(value: object) -> object:
        if not isinstance(value, list):
            raise invalid(why_list)
        return value

    return rule


def _uuid(why: str) -> Callable[[object], uuid.UUID | None]:
    def rule(value: object) -> uuid.UUID | None:
        if value is None:
            return None
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise invalid(why) from None

    return rule


def _review_by(value: object) -> datetime:
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise invalid(str(exc)) from None


def _verdict(value: object) -> str:
    if not isinstance(value, str):
        raise invalid("is required (a string)")
    if value not in VERDICTS:
        raise invalid(f"must be one of {', '.join(VERDICTS)}")
    return value


def _note(value: object) -> str:
    if not isinstance(value, str):
        raise invalid("is required (a string)")
    if not value.strip() or len(value) > 4000:
        raise invalid("must be 1-4000 characters: say why")
    return value


VERDICTS = ("justified", "misuse", "needs_follow_up")


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _rule(fn: Callable[[object], object], schema: Any) -> BeforeValidator:
    """A field's rule, run on the raw JSON value; ``schema`` is the input it documents."""
    return BeforeValidator(fn, json_schema_input_type=schema)


DateTimeIn = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
UuidIn = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
OriIn = Annotated[str, Field(pattern=r"^\s*[A-Za-z]{2}[A-Za-z0-9]{7}\s*$")]
CASE_TEXT = Annotated[str, Field(min_length=1, max_length=64)]

# -- requests -------------------------------------------------------------------------------


class HitIn(Strict):
    list: Annotated[
        str,
        Field(max_length=64, pattern=_anchored(HOT_LIST_RE.pattern)),
        Msg("must be 1-64 printable characters naming the hot list"),
    ]
    entry: Annotated[
        str,
        Field(max_length=128, pattern=_anchored(HOT_ENTRY_RE.pattern)),
        Msg("must be 1-128 printable characters: the entry matched"),
    ]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    """A model's documented examples; a test checks each against the document and the model."""
    return Strict.model_config | ConfigDict(json_schema_extra={"examples": list(examples)})


READ_EXAMPLE = {
    "plate": "7ABC123",
    "observed_at": "2026-11-19T08:00:00Z",
    "camera_id": "cam-1",
    "plate_state": "CA",
    "latitude": 37.77,
    "longitude": -122.42,
    "confidence": 94,
    "client_read_id": "r-1",
    "hit": {"list": "SVS", "entry": "NCIC-V-1"},
}


class CameraRead(Strict):
    """One plate read, as a camera sends it."""

    model_config = _examples(
        READ_EXAMPLE,
        {"plate": "8 xyz-999", "observed_at": "2026-11-19T10:00:00+02:00", "camera_id": "c2"},
    )

    plate: Annotated[
        str,
        _rule(_plate, str),
        Field(
            description="Normalised: NFKC, spaces and dashes removed, upper case; then 1-10 "
            "letters or digits"
        ),
    ]
    observed_at: Annotated[
        datetime, _rule(_when, DateTimeIn), Field(description="With a timezone; stored as UTC")
    ]
    camera_id: Annotated[
        str,
        _rule(_trimmed(CAMERA_RE, "must be 1-64 letters, digits or ._:/-", required=True), str),
        Field(description="1-64 letters, digits or ._:/- (surrounding spaces are trimmed)"),
    ]
    plate_state: Annotated[
        str | None,
        _rule(
            _trimmed(REGION_RE, "must be a 2 or 3 letter region code", upper=True),
            Annotated[str, Field(pattern=r"^\s*[A-Za-z]{2,3}\s*$")] | None,
        ),
    ] = None
    latitude: Annotated[
        float | None,
        _rule(
            _number(-90, 90, "must be between -90 and 90"),
            Annotated[float, Field(ge=-90, le=90)] | None,
        ),
        Field(description="Together with longitude, or neither"),
    ] = None
    longitude: Annotated[
        float | None,
        _rule(
            _number(-180, 180, "must be between -180 and 180"),
            Annotated[float, Field(ge=-180, le=180)] | None,
        ),
    ] = None
    confidence: Annotated[
        float | None,
        _rule(_confidence, Annotated[float, Field(ge=0, le=100)] | None),
        Field(description="0-1, or 0-100 (values above 1 are percentages)"),
    ] = None
    client_read_id: Annotated[
        str | None,
        _rule(
            _trimmed(CLIENT_ID_RE, "must be 1-128 printable characters without spaces"),
            Annotated[str, Field(min_length=1, max_length=128)] | None,
        ),
        Field(description="Idempotency key, unique per camera"),
    ] = None
    hit: Annotated[
        HitIn | None,
        _rule(_hit, HitIn | Literal[False] | None),
        Field(
            description="The hot-list match, if any: the list and the entry matched (kept a "
            "year, so it must be named; stored sealed). false, null or absent: no match. A "
            "bare true is refused (422, reads[i].hit)"
        ),
    ] = None


class ReadBatchIn(Strict):
    """Up to ingest.max_batch reads; all or nothing."""

    model_config = _examples({"reads": [READ_EXAMPLE]})

    # Each read is checked apart (the fast path first, then CameraRead, which is the rule book),
    # so that one bad read names its index; the document shows the reads' model.
    reads: Annotated[
        list[Any],
        Field(min_length=1),
        _rule(lambda v: v, Annotated[list[CameraRead], Field(min_length=1)]),
        Msg("must be a non-empty list"),
    ]


class SearchIn(Strict):
    """A justified search for one plate."""

    model_config = _examples(
        {
            "plate": "7ABC123",
            "from": "2026-11-12T00:00:00Z",
            "to": "2026-11-19T00:00:00Z",
            "purpose": "stolen_vehicle",
            "justification": "Vehicle reported stolen, theft report filed this morning",
            "case_number": "26-004512",
        }
    )

    plate: Annotated[str, _rule(_plate, str)]
    window_from: Annotated[datetime, _rule(_when, DateTimeIn), Field(alias="from")]
    window_to: Annotated[
        datetime, _rule(_when, DateTimeIn), Field(alias="to", description="Exclusive")
    ]
    purpose: Annotated[
        str,
        _rule(_text(64), Annotated[str, Field(max_length=64)]),
        Field(description="A purpose code from the config"),
    ]
    # A blank justification is a policy refusal (recorded), not a malformed request.
    justification: Annotated[str, _rule(_text(2000), Annotated[str, Field(max_length=2000)])]
    case_number: Annotated[
        str | None,
        _rule(_trimmed(CASE_RE, "must be 1-64 printable characters"), CASE_TEXT | None),
    ] = None
    on_behalf_of: Annotated[
        str | None,
        _rule(_trimmed(ORI_RE, "must be a 9-character ORI", upper=True), OriIn | None),
        Field(description="ORI of the agency the search is run for; must pass the sharing rules"),
    ] = None
    page_size: Annotated[
        int | None,
        Field(ge=1, description="At most search.max_page_size"),
    ] = None
    cursor: Annotated[
        tuple[datetime, uuid.UUID] | None,
        _rule(_cursor, str | None),
        Field(description="next_cursor of the previous page; every page is a recorded search"),
    ] = None
    include_images: Annotated[
        bool,
        Field(
            description="Return each read's plate crop and vehicle image (counted in the "
            "access record)"
        ),
    ] = False


_ORI_WHY = "must be a 9-character ORI"


def _recipient(value: object) -> str:
    if not isinstance(value, str) or not ORI_RE.fullmatch(value.strip().upper()):
        raise invalid(_ORI_WHY)
    return value.strip().upper()


class ReadSelection(Strict):
    read_ids: Annotated[
        list[Annotated[uuid.UUID, _rule(_uuid("is not a read id"), UuidIn)]],
        _rule(_ids("must be a list of read ids"), list[UuidIn]),
        Field(default_factory=list),
    ]
    search_id: Annotated[uuid.UUID | None, _rule(_uuid("is not a search id"), UuidIn | None)] = None


class ShareIn(ReadSelection):
    """Reads (read_ids, or an allowed search's) for another agency."""

    model_config = _examples(
        {
            "recipient": "CA0190100",
            "search_id": "0b8f2c1e-6f0a-4a57-9d2b-3c1a2f5e7d90",
            "purpose": "stolen_vehicle",
            "justification": "Recovered in their city; they need the sightings for the case",
            "case_number": "26-004512",
        }
    )

    recipient: Annotated[str, _rule(_recipient, OriIn), Field(description="ORI"), Msg(_ORI_WHY)]
    purpose: Annotated[
        str,
        _rule(
            _text(64, "is required: a string of at most 64 characters"),
            Annotated[str, Field(max_length=64)],
        ),
        Msg("is required: a string of at most 64 characters"),
    ]
    justification: Annotated[
        str,
        _rule(
            _text(2000, "is required: a string of at most 2000 characters"),
            Annotated[str, Field(max_length=2000)],
        ),
        Msg("is required: a string of at most 2000 characters"),
    ]
    case_number: Annotated[
        str | None,
        _rule(_trimmed(CASE_RE, "must be 1-64 printable characters"), CASE_TEXT | None),
    ] = None


REASON_WHY = "is required: a string of at most 2000 characters"


def _reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 2000:
        raise invalid(REASON_WHY)
    return value


ReasonIn = Annotated[
    str,
    _rule(_reason, Annotated[str, Field(min_length=1, max_length=2000)]),
    Msg(REASON_WHY),
]


class HoldIn(ReadSelection):
    """A legal hold on reads (read_ids and/or an allowed search's reads)."""

    model_config = _examples(
        {
            "case_number": "26-004512",
            "reason": "Evidence in a pending prosecution",
            "read_ids": ["0b8f2c1e-6f0a-4a57-9d2b-3c1a2f5e7d90"],
            "review_by": "2027-05-19T00:00:00Z",
        }
    )

    case_number: Annotated[
        str,
        _rule(
            _trimmed(CASE_RE, "is required: 1-64 printable characters"),
            CASE_TEXT,
        ),
        Msg("is required: 1-64 printable characters"),
    ]
    reason: ReasonIn
    review_by: Annotated[
        datetime,
        _rule(_review_by, DateTimeIn),
        Msg("must be an ISO 8601 string with a timezone"),
    ]


class ReleaseIn(Strict):
    model_config = _examples({"reason": "Case closed; the court released the evidence"})

    reason: ReasonIn


class ResolveIn(Strict):
    model_config = _examples({"verdict": "justified", "note": "Case file confirms the theft"})

    verdict: Annotated[
        str,
        _rule(_verdict, Literal["justified", "misuse", "needs_follow_up"]),
        Msg("is required (a string)"),
    ]
    note: Annotated[
        str,
        _rule(_note, Annotated[str, Field(min_length=1, max_length=4000)]),
        Msg("is required (a string)"),
    ]


# -- query and path parameters --------------------------------------------------------------


class HoldPath(Strict):
    hold_id: uuid.UUID


class ReceiptPath(Strict):
    run_id: Annotated[uuid.UUID, Msg("must be a purge run id (a UUID)")]


class FindingPath(Strict):
    finding_id: Annotated[int, Field(ge=1, le=2**31 - 1)]


class FindingsQuery(Strict):
    status: Literal["open", "resolved"] | None = None
    rule: str | None = None
    severity: Literal["high", "medium", "low"] | None = None
    user: str | None = None
    from_: Annotated[datetime | None, Field(alias="from")] = None
    to: datetime | None = None
    limit: Annotated[int, Field(ge=0, le=1000)] = 100
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0


class VagueRatesQuery(Strict):
    from_: Annotated[datetime, Field(alias="from")]
    to: datetime
    by: Literal["user", "agency"] = "user"


class SharesQuery(Strict):
    outcome: Literal["allowed", "refused"] | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class HoldsQuery(Strict):
    status: Literal["pending", "active", "released"] | None = None
    overdue: Literal["true", "false"] = "false"


class PurgesQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class PolicyQuery(Strict):
    format: Literal["html", "md", "pdf"] = "html"


class AccessReportQuery(Strict):
    from_: Annotated[datetime, Field(alias="from")]
    to: datetime
    format: Literal["csv", "json", "html"] = "json"
    user: str | None = None
    agency: str | None = None
    purpose: str | None = None
    outcome: Literal["allowed", "refused"] | None = None
    full: Literal["true", "false"] = "false"


class SummaryQuery(Strict):
    from_: Annotated[datetime, Field(alias="from")]
    to: datetime
    format: Literal["json", "html"] = "json"


# -- responses ------------------------------------------------------------------------------


class ErrorBody(Response):
    code: str
    message: str
    request_id: str
    details: dict[str, Any] | None = Field(
        default=None,
        description="fields: {path: rule} for invalid input (never a value); a refusal's "
        "record ids, rule and matched words",
    )


class ErrorOut(Response):
    """The one error shape."""

    error: ErrorBody


class StatusOut(Response):
    status: Literal["ok"]


class Check(Response):
    ok: bool
    detail: str


class ReadyOut(Response):
    status: Literal["ready"]
    checks: dict[str, Check]


class IngestOut(Response):
    accepted: int
    duplicates: int
    ids: list[uuid.UUID]


class WebhookOut(Response):
    """Stored (replays answered with their ids)"""

    accepted: int
    duplicates: int
    ids: list[uuid.UUID]
    images: Annotated[int, Field(description="Images stored with the new reads")]
    ignored_fields: Annotated[
        int, Field(description="Fields the vendor does not document: ignored, counted, not named")
    ]


class ImageOut(Response):
    kind: Literal["plate", "vehicle"]
    content_type: str
    data: Annotated[str, Field(description="Base64 of the image bytes")]


class ReadOut(Response):
    id: uuid.UUID
    plate: str
    plate_state: str | None
    observed_at: datetime
    camera_id: str
    latitude: float | None
    longitude: float | None
    confidence: float | None
    images: Annotated[
        list[ImageOut] | None, Field(description="Only when the search asked (include_images)")
    ] = None


class SearchOut(Response):
    search_id: uuid.UUID
    result_count: int
    results: list[ReadOut]
    next_cursor: str | None


class Signature(Response):
    algorithm: Literal["Ed25519"]
    key_id: str
    value: str


class ShareOut(Response):
    """An allowed share: the bundle and its Ed25519 signature over the canonical JSON."""

    share_id: uuid.UUID
    bundle: dict[str, Any]
    signature: Signature


class ShareRow(Response):
    id: uuid.UUID
    created_at: datetime
    username: str
    recipient: str
    purpose: str
    case_number: str | None
    read_count: int
    outcome: Literal["allowed", "refused"]
    reason_code: str | None
    rule: str | None
    bundle_sha256: str | None


class SharesOut(Response):
    shares: list[ShareRow]


class SigningKeyOut(Response):
    algorithm: Literal["Ed25519"]
    key_id: str
    public_key: str


class HoldOut(Response):
    id: uuid.UUID
    case_number: str
    reason: str
    status: Literal["pending", "active", "released"]
    agency: str
    requested_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    review_by: datetime
    search_id: uuid.UUID | None
    read_count: int
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None
    overdue: bool


class HoldsOut(Response):
    holds: list[HoldOut]


class PurgeRun(Response):
    model_config = Response.model_config | {"extra": "allow"}

    run_id: uuid.UUID
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    cutoff: datetime
    deleted_by_class: dict[str, int]
    keys_destroyed: list[str]
    records_expired: dict[str, Any]


class PurgesOut(Response):
    purges: list[PurgeRun]


class FindingOut(Response):
    id: int
    search_id: uuid.UUID | None
    camera_id: str | None
    rule: str
    severity: str
    matched: str | None
    status: Literal["open", "resolved"]
    verdict: str | None
    note: str | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    username: str | None
    agency: str | None
    searched_at: datetime | None
    purpose: str | None


class FindingsOut(Response):
    findings: list[FindingOut]
    total: Annotated[int, Field(description="Findings matching the filters, on every page")]
    offset: int
    limit: int


class Rate(Response):
    key: str
    searches: int
    vague: int
    rate: float


class VagueRatesOut(Response):
    by: Literal["user", "agency"]
    rates: list[Rate]


class VerifyOut(Response):
    ok: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    bad_seq: int | None
    problem: str | None
    checkpoints_matched: int
    last_checkpoint_seq: int | None
    events_after_checkpoint: int | None
    checkpoint_dir_problems: list[str]
    records_checked: int
    record_damage: list[Any]
    message: str


class Figures(Response):
    """The public transparency figures: aggregates only, no person and no plate"""

    model_config = Response.model_config | {"extra": "allow"}


class SummaryOut(Response):
    """The compliance summary for the period (its sections follow the configured policy)"""

    model_config = Response.model_config | {"extra": "allow"}


class Spec(Response):
    """This document"""

    model_config = Response.model_config | {"extra": "allow"}

    openapi: str


class CallbackQuery(Strict):
    """What the identity provider sends back (documented; providers may add more)."""

    state: str | None = None
    code: str | None = None
    error: str | None = None


class MeOut(Response):
    """The signed-in account"""

    username: str
    name: str | None
    role: str
    agency: str
    credential: Annotated[str, Field(description="session, or the kind of token")]
    csrf_token: Annotated[
        str | None, Field(description="For state-changing requests made with the cookie")
    ] = None


class PersonalTokenOut(Response):
    """The token, shown once"""

    token: str
    expires_at: datetime
    role: str


class SignedOutOut(Response):
    """Signed out"""

    signed_out: bool
