"""run_search: a justified, recorded search for one plate over a time window.

Civil Code 1798.90.52 requires a record of every access (date and time, the data used to query,
the username and their organisation, the purpose); 1798.90.52(b) limits use to the policy's
purposes. So: screening first (``policy.screening``), before any key is touched or row read;
every decision, allowed or refused, is written as a search record plus an audit event in the
caller's transaction; results are returned to the caller, who must commit before sending them
(the API answers 503 ``audit_unavailable`` with no data if the commit fails: fail closed).

The plate used to query is sealed under the audit key in the record; the justification and case
number are stored with any occurrence of the queried plate masked, because officers do type the
plate into the reason field.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Table,
    TableClause,
    and_,
    bindparam,
    column,
    literal_column,
    select,
    table,
    union_all,
)
from sqlalchemy.orm import Session

from alpr_guard.crypto import DataKey, KeyRing
from alpr_guard.db import DriverSelect, RowInsert, from_driver_utc, from_driver_uuid
from alpr_guard.errors import KeyUnavailable
from alpr_guard.models import PlateRead, SearchRecord
from alpr_guard.policy.decisions import Decision, ReasonCode
from alpr_guard.policy.plates import Plate
from alpr_guard.policy.redaction import mask_known
from alpr_guard.policy.screening import SearchFacts, screen_search
from alpr_guard.record_chain import search_values_mac
from alpr_guard.services.agencies import facts_by_id, find_agency
from alpr_guard.services.deps import Deps
from alpr_guard.services.free_text import display, display_opt
from alpr_guard.services.images import ImageOut, images_for
from alpr_guard.services.keys import days_between, key_scope
from alpr_guard.services.partitions import keys_and_tables_for_search
from alpr_guard.services.principals import Principal
from alpr_guard.services.requests import SearchRequest, encode_cursor
from alpr_guard.services.sealed_reads import open_plate
from alpr_guard.services.windows import oldest_kept
from alpr_guard.vocabulary import AuditKind, Outcome, RetentionClass


@dataclass(frozen=True)
class ReadOut:
    id: uuid.UUID
    plate: Plate
    plate_state: str | None
    observed_at: datetime
    camera_id: str
    latitude: float | None
    longitude: float | None
    confidence: float | None

    def as_json(self) -> dict[str, object]:
        """The wire form of a read, shared by search results and share bundles."""
        return {
            "id": str(self.id),
            "plate": self.plate.value,
            "plate_state": self.plate_state,
            "observed_at": self.observed_at.isoformat(),
            "camera_id": self.camera_id,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class SearchOutcome:
    search_id: uuid.UUID
    decision: Decision
    results: tuple[ReadOut, ...] = field(default=())
    result_count: int = 0
    next_cursor: str | None = None
    # A malformed request: each bad field and the rule it broke (never its value).
    fields: Mapping[str, str] | None = None
    # Asked for (include_images): each returned read's images; None when not asked.
    images: Mapping[uuid.UUID, Sequence[ImageOut]] | None = None


def invalid_request(fields: Mapping[str, str]) -> Decision:
    """The refusal of a malformed request, naming its bad fields (never their values)."""
    return Decision.refuse(
        ReasonCode.INVALID_REQUEST,
        "invalid_request",
        "the request is malformed ("
        + ", ".join(sorted(fields))
        + "; details.fields says why); the attempt is recorded",
    )


def search_attempt(
    session: Session,
    rt: Deps,
    principal: Principal,
    values: Mapping[str, Any],
    fields: Mapping[str, str],
) -> SearchOutcome:
    """Run a search the wire layer parsed (``values``: ``SearchRequest`` field names); a
    malformed one (``fields``: its errors by field) is refused ``invalid_request`` and recorded
    like any other refusal, with what could be parsed (free text sealed)."""
    if not fields:
        return run_search(session, rt, principal, SearchRequest(**values))
    attempt = AttemptFacts(
        plate=values.get("plate"),
        purpose=values.get("purpose", ""),
        justification=values.get("justification", ""),
        case_number=values.get("case_number"),
        on_behalf_of=values.get("on_behalf_of"),
        window_from=values.get("window_from"),
        window_to=values.get("window_to"),
        page_cursor=values.get("cursor") is not None,
    )
    search_id = uuid.uuid4()
    decision = invalid_request(fields)
    write_record(session, rt, principal, attempt, search_id, decision, 0, rt.clock.now(), fields)
    return SearchOutcome(search_id, decision, fields=dict(fields))


def mask_plate(text: str, plate: Plate) -> str:
    """Replace the queried plate inside free text, however it was typed: the same forms the plate
    parser accepts (case, spaces, ASCII or Unicode dashes, full-width characters). The pattern
    is compiled once per plate (``policy.redaction``)."""
    return mask_known(text, (plate.value,))


def run_search(
    session: Session, rt: Deps, principal: Principal, request: SearchRequest
) -> SearchOutcome:
    now = rt.clock.now()
    requester = facts_by_id(session, principal.agency_id)
    on_behalf = find_agency(session, request.on_behalf_of) if request.on_behalf_of else None
    decision = screen_search(
        SearchFacts(
            purpose=request.purpose,
            justification=request.justification,
            case_number=request.case_number,
            window_from=request.window_from,
            window_to=request.window_to,
            requester=requester,
            on_behalf_of=request.on_behalf_of,
            on_behalf_agency=on_behalf,
        ),
        rt.settings,
        now,
    )

    decision = _masked(rt, decision, request.plate)
    search_id = uuid.uuid4()
    results: tuple[ReadOut, ...] = ()
    total = 0
    next_cursor = None
    if decision.allowed:
        page_size = request.page_size or rt.settings.search.page_size
        hits = find_reads(session, rt, request)
        total = len(hits)
        if request.cursor is not None:
            hits = [h for h in hits if (h.observed_at, h.id) < request.cursor]
        results = tuple(hits[:page_size])
        if len(hits) > page_size:
            next_cursor = encode_cursor(results[-1].observed_at, results[-1].id)

    images = None
    if request.include_images and decision.allowed:
        images = images_for(session, rt, [r.id for r in results])
    _record(
        session,
        rt,
        principal,
        request,
        search_id,
        decision,
        total,
        now,
        sum(map(len, images.values())) if images is not None else None,
    )
    return SearchOutcome(search_id, decision, results, total, next_cursor, images=images)


_READS = cast(Table, PlateRead.__table__)
_SELECTED = (
    "id",
    "key_id",
    "plate_ct",
    "plate_state",
    "observed_at",
    "camera_id",
    "latitude",
    "longitude",
    "confidence",
)


@lru_cache(maxsize=256)
def _reads_in(name: str) -> TableClause:
    """``plate_reads`` itself, or one of its PostgreSQL partitions by name (same columns)."""
    if name == _READS.name:
        return _READS
    return table(name, *(column(c.name, c.type) for c in _READS.columns))


def _live(reads: FromClause, cls: str) -> ColumnElement[bool]:
    """Past its retention window a read is gone, whether or not a purge has run yet. A held read
    has no expiry until its hold is released, and only held reads lack one (a CHECK
    constraint), so each branch needs just its own half of the test. The window in force is
    tested too (``oldest_<class>``: now minus the class's configured window), so a window
    shortened since ingest hides a read at once, before any recompute of stored expiries."""
    if cls == RetentionClass.HELD:
        return reads.c.expires_at.is_(None)
    return and_(
        reads.c.expires_at > bindparam("now"), reads.c.observed_at > bindparam(f"oldest_{cls}")
    )


def _equals_a_param(
    column: ColumnElement[Any], values: list[BindParameter[Any]]
) -> ColumnElement[bool]:
    """``column`` equal to one of separately bound parameters (not ``db.OneOf``'s one list:
    ``DriverSelect`` binds each key and token by name)."""
    return column == values[0] if len(values) == 1 else column.in_(values)


# The class of each branch is part of its shape, written into the SQL as a constant.
_CLASS_LITERALS: dict[str, str] = {
    RetentionClass.UNMATCHED: "'unmatched'",
    RetentionClass.HIT: "'hit'",
    RetentionClass.HELD: "'held'",
}


@lru_cache(maxsize=256)
def _find_statement(branches: tuple[tuple[str, str], ...], holds: int) -> DriverSelect:
    """One branch per (table, class) in ``branches``, each an exact (key, token) lookup in the
    window: the table is ``plate_reads`` on SQLite and the key's own partition on PostgreSQL,
    so the planner has one table per branch and nothing to prune. The last branch, if
    ``holds``, looks up all hold keys at once. Built and compiled once per shape: constructing
    the expression per search cost more than running it. Branches share the window and
    ``now`` parameters and alias their table ``r``, which keeps the SQL short enough for
    psycopg to cache its parsing."""
    selects = []
    for i, (name, cls) in enumerate(branches):
        if i == len(branches) - 1 and holds:
            keys_in: list[BindParameter[Any]] = [bindparam(f"k{i}_{n}") for n in range(holds)]
            tokens_in: list[BindParameter[Any]] = [bindparam(f"t{i}_{n}") for n in range(holds)]
        else:
            keys_in = [bindparam(f"k{i}")]
            tokens_in = [bindparam(f"t{i}")]
        reads = _reads_in(name).alias("r")
        selects.append(
            select(*(reads.c[c] for c in _SELECTED)).where(
                _equals_a_param(reads.c.key_id, keys_in),
                _equals_a_param(reads.c.plate_index, tokens_in),
                reads.c.retention_class == literal_column(_CLASS_LITERALS[cls]),
                reads.c.observed_at >= bindparam("window_from"),
                reads.c.observed_at < bindparam("window_to"),
                _live(reads, cls),
            )
        )
    union = union_all(*selects)
    return DriverSelect(
        union.order_by(union.selected_columns.observed_at.desc(), union.selected_columns.id.desc())
    )


# A key's scope follows from its id alone (a date parsed out of it): worked out once per key,
# not once per search for each of the window's ten or so keys.
_scope_of = lru_cache(maxsize=4096)(key_scope)


def search_statement(
    keys: list[DataKey],
    plate: str,
    window_from: datetime,
    window_to: datetime,
    now: datetime,
    tables: Mapping[str, str] | None = None,
    *,
    oldest: Mapping[str, datetime],
) -> tuple[DriverSelect, dict[str, Any]]:
    """The SELECT for ``plate`` under ``keys`` over [window_from, window_to), and its
    parameters: the tokens are computed here, one per key. ``tables`` maps a key id (and
    ``"held"``) to the table holding its reads (``partitions.keys_and_tables_for_search``); a
    key it does not name is read from ``plate_reads``. A day or hit-period key holds reads of
    its own day or month only, so the window alone bounds each branch. ``oldest``: per class,
    the observation time at or before which a read is past the window in force
    (``windows.oldest_kept``)."""
    tables = tables or {}
    params: dict[str, Any] = {
        "window_from": window_from,
        "window_to": window_to,
        "now": now,
        "oldest_unmatched": oldest[RetentionClass.UNMATCHED],
        "oldest_hit": oldest[RetentionClass.HIT],
    }
    branches: list[tuple[str, str]] = []
    held: list[tuple[str, int]] = []
    for key in keys:
        cls, start, _ = _scope_of(key.key_id)
        token = KeyRing.blind_index(key, plate)
        if start is None:
            held.append((key.key_id, token))
            continue
        params[f"k{len(branches)}"] = key.key_id
        params[f"t{len(branches)}"] = token
        branches.append((tables.get(key.key_id, _READS.name), cls))
    if held:
        i = len(branches)
        for n, (key_id, token) in enumerate(held):
            params[f"k{i}_{n}"] = key_id
            params[f"t{i}_{n}"] = token
        branches.append((tables.get(RetentionClass.HELD, _READS.name), RetentionClass.HELD))
    return _find_statement(tuple(branches), len(held)), params


def find_reads(session: Session, rt: Deps, request: SearchRequest) -> list[ReadOut]:
    """Every read of the plate in the window, newest first, false positives removed.

    Each key's token is only meaningful with its own key; a token of one key matching a row of
    another is a 64-bit coincidence that the decrypt-and-compare below rejects like any other.
    """
    # PostgreSQL: each key's reads are read from its own partition, chosen by name under the
    # partition lock (held until this transaction ends). SQLite: tables is {} (one table).
    keys, tables = keys_and_tables_for_search(
        session, rt, days_between(request.window_from, request.window_to)
    )
    if not keys:
        return []
    plate = request.plate.value
    by_key = {key.key_id: key for key in keys}
    now = rt.clock.now()
    statement, params = search_statement(
        keys,
        plate,
        request.window_from,
        request.window_to,
        now,
        tables,
        oldest=oldest_kept(rt.settings.retention, now),
    )
    found = []
    wanted = plate.encode()
    for raw_id, key_id, plate_ct, plate_state, raw_at, camera_id, lat, lon, conf in statement.rows(
        session, params
    ):
        read_id, observed_at = from_driver_uuid(raw_id), from_driver_utc(raw_at)
        try:
            clear = open_plate(by_key[key_id], plate_ct, read_id, observed_at, camera_id)
        except KeyUnavailable:
            continue  # a tampered or moved ciphertext is never returned
        if clear != wanted:
            continue  # a 64-bit token collision: the index shows buckets, not plates
        found.append(
            ReadOut(
                id=read_id,
                plate=request.plate,
                plate_state=plate_state,
                observed_at=observed_at,
                camera_id=camera_id,
                latitude=lat,
                longitude=lon,
                confidence=conf,
            )
        )
    return found


def _masked(rt: Deps, decision: Decision, plate: Plate | None) -> Decision:
    """Matched words come from the justification, which may hold plates: display copies."""
    plates = (plate.value,) if plate is not None else ()
    return replace(
        decision,
        matched=tuple(display(rt, m, plates) for m in decision.matched),
        flags=tuple(
            replace(f, matched=tuple(display(rt, m, plates) for m in f.matched))
            for f in decision.flags
        ),
    )


@dataclass(frozen=True)
class AttemptFacts:
    """What a search attempt said, as far as it could be parsed (all of it for a well-formed
    request; the salvaged fields of a malformed one)."""

    plate: Plate | None
    purpose: str
    justification: str = field(repr=False)
    case_number: str | None = field(default=None, repr=False)
    on_behalf_of: str | None = None
    window_from: datetime | None = None
    window_to: datetime | None = None
    page_cursor: bool = False

    @staticmethod
    def of(request: SearchRequest) -> AttemptFacts:
        return AttemptFacts(
            request.plate,
            request.purpose,
            request.justification,
            request.case_number,
            request.on_behalf_of,
            request.window_from,
            request.window_to,
            request.cursor is not None,
        )


def _record(
    session: Session,
    rt: Deps,
    principal: Principal,
    request: SearchRequest,
    search_id: uuid.UUID,
    decision: Decision,
    total: int,
    now: datetime,
    images_returned: int | None = None,
) -> None:
    write_record(
        session,
        rt,
        principal,
        AttemptFacts.of(request),
        search_id,
        decision,
        total,
        now,
        images_returned=images_returned,
    )


# The record's insert, prepared once: every column of the table.
_INSERT_RECORD = RowInsert(
    cast(Table, SearchRecord.__table__),
    [column.name for column in SearchRecord.__table__.columns],
)


def write_record(
    session: Session,
    rt: Deps,
    principal: Principal,
    attempt: AttemptFacts,
    search_id: uuid.UUID,
    decision: Decision,
    total: int,
    now: datetime,
    fields: Mapping[str, str] | None = None,
    *,
    images_returned: int | None = None,
) -> None:
    """The access record and its audit event. The plate and the free text as typed are sealed
    (bound to the search id); the columns and the event hold display copies with plates masked;
    the event carries the MAC of the record's content (``record_chain``)."""
    plate = attempt.plate
    plates = (plate.value,) if plate is not None else ()
    sealed = rt.keyring.seal(
        json.dumps(
            {
                "plate": plate.value if plate is not None else None,
                "purpose": attempt.purpose,
                "justification": attempt.justification,
                "case_number": attempt.case_number,
            }
        ).encode(),
        search_id.bytes,
    )
    justification = display(rt, attempt.justification, plates)
    case_number = display_opt(rt, attempt.case_number, plates)
    case_number = case_number[:64] if case_number is not None else None
    purpose = display(rt, attempt.purpose, plates)[:64]
    outcome = Outcome.ALLOWED if decision.allowed else Outcome.REFUSED
    matched = [
        {"rule": f.rule, "severity": f.severity, "matched": list(f.matched)} for f in decision.flags
    ]
    if not decision.allowed:
        matched.insert(
            0, {"rule": decision.rule, "severity": "high", "matched": list(decision.matched)}
        )
    reason_code = decision.reason.value if decision.reason else None
    matched_json = json.dumps(matched) if matched else None
    record: dict[str, Any] = {
        "id": search_id,
        "created_at": now,
        "user_id": principal.user_id,
        "username": principal.username,
        "agency_ori": principal.agency_ori,
        "purpose": purpose,
        "justification": justification,
        "case_number": case_number,
        "on_behalf_of": attempt.on_behalf_of,
        "window_from": attempt.window_from,
        "window_to": attempt.window_to,
        "terms_sealed": sealed,
        # No plate parsed: a token of its own, so attempts without one are never one "target".
        "terms_token": rt.keyring.term_token(plate.value) if plate is not None else search_id.hex,
        "outcome": outcome,
        "reason_code": reason_code,
        "rule": decision.rule,
        "matched": matched_json,
        "result_count": total,
    }
    details: dict[str, object] = {
        "search_id": str(search_id),
        "created_at": now.isoformat(),
        "purpose": purpose,
        "justification": justification,
        "case_number": case_number,
        "on_behalf_of": attempt.on_behalf_of,
        "from": attempt.window_from.isoformat() if attempt.window_from else None,
        "to": attempt.window_to.isoformat() if attempt.window_to else None,
        "outcome": outcome,
        "reason_code": reason_code,
        "rule": decision.rule,
        "matched": matched,
        "result_count": total,
        "page_cursor": attempt.page_cursor,
        "record_mac": search_values_mac(rt.keyring, record),
    }
    if fields is not None:
        details["fields"] = dict(fields)  # names and rules only, never values
    if images_returned is not None:
        details["images_returned"] = images_returned  # asked for: how many left with it
    event = rt.audit.append_row(
        session,
        AuditKind.SEARCH_ALLOWED if decision.allowed else AuditKind.SEARCH_REFUSED,
        principal.actor,
        subject=f"search:{search_id}",
        details=details,
        sealed=sealed,
    )
    record["audit_seq"] = event.seq
    # Written like the audit event, without the ORM, in the caller's transaction: an ORM
    # object and its flush, or a Core insert, cost more than the rest of the record's writing.
    _INSERT_RECORD(session, [record[name] for name in _INSERT_RECORD.columns])
