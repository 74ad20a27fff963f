"""Access records bound to the audit chain, and the walk that checks them.

The audit chain proves its own events were not edited; the access records (``searches``,
``shares``, ``legal_holds``, ``review_findings``) live in tables of their own. Each record is
bound to the audit event that states it: the event's details carry ``record_mac``, an HMAC under
the audit key over the record's full canonical content (every column but its own ``audit_seq``),
and the record carries ``audit_seq``, the seq of the latest event stating its content (a hold
is restated on approval and release, a finding on resolution). Review findings are stated in
bulk by ``review.findings_recorded`` events (``{"findings": {"<search id>/<rule>": mac}}``).

``verify_records`` walks both sides and names each damaged record by table, id and kind of
damage:

* ``edited``: the record's content no longer matches the MAC of the event stating it;
* ``flipped``: an edit that changed a search's or share's outcome (refused to allowed, or back);
* ``deleted``: an event states a record that is gone, and the access records' retention did
  not remove it (``records.expired`` events carry each retention cutoff);
* ``inserted``: a record no event states (or one pointing at an event of another record).

Records older than the start of the chain (events removed by the audit log's own retention) and
holds or findings written before records were bound (no ``audit_seq``) cannot be checked; they
are counted, not reported. Searches and shares are walked in ``audit_seq`` order against their
events in seq order (a merge: memory stays flat); holds and findings, restated by later events,
are matched through a map of the latest statement of each.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import LargeBinary, Uuid, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.sqltypes import NullType

from alpr_guard.audit import _ENCODER, VerifyResult
from alpr_guard.crypto import KeyRing
from alpr_guard.db import UTCDateTime
from alpr_guard.models import AuditEvent, Finding, LegalHold, SearchRecord, Share
from alpr_guard.vocabulary import AuditKind, FindingStatus, HoldStatus

RECORD_MAC = "record_mac"
CAMERA_KEY = "camera:"
CONFIG_KEY = "config:"
PAGE = 5000

SEARCH_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    SearchRecord.created_at,
    SearchRecord.user_id,
    SearchRecord.username,
    SearchRecord.agency_ori,
    SearchRecord.purpose,
    SearchRecord.justification,
    SearchRecord.case_number,
    SearchRecord.on_behalf_of,
    SearchRecord.window_from,
    SearchRecord.window_to,
    SearchRecord.terms_sealed,
    SearchRecord.terms_token,
    SearchRecord.outcome,
    SearchRecord.reason_code,
    SearchRecord.rule,
    SearchRecord.matched,
    SearchRecord.result_count,
)
SHARE_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Share.created_at,
    Share.user_id,
    Share.username,
    Share.agency_ori,
    Share.recipient_ori,
    Share.purpose,
    Share.justification,
    Share.case_number,
    Share.search_id,
    Share.read_count,
    Share.outcome,
    Share.reason_code,
    Share.rule,
    Share.bundle_sha256,
    Share.text_sealed,
)
HOLD_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    LegalHold.case_number,
    LegalHold.reason,
    LegalHold.status,
    LegalHold.agency_ori,
    LegalHold.requested_by,
    LegalHold.created_at,
    LegalHold.approved_by,
    LegalHold.approved_at,
    LegalHold.review_by,
    LegalHold.search_id,
    LegalHold.read_count,
    LegalHold.key_id,
    LegalHold.released_by,
    LegalHold.released_at,
    LegalHold.release_reason,
    LegalHold.text_sealed,
    LegalHold.release_sealed,
)
FINDING_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Finding.severity,
    Finding.matched,
    Finding.status,
    Finding.verdict,
    Finding.note,
    Finding.created_at,
    Finding.resolved_at,
    Finding.resolved_by,
    Finding.note_sealed,
)


def _plain(value: object) -> object:
    """A value in its canonical form: datetimes as SQLite stores them (naive UTC text with
    microseconds, which is also what a PostgreSQL value is turned into), UUIDs as 32 hex
    digits (SQLite's form), bytes in base64."""
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return value.hex
    return value


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _mac_input(kind: str, key: str, canonical: list[object]) -> bytes:
    return b"record\x1f" + _ENCODER.encode([kind, key, canonical]).encode()


def content_mac(keyring: KeyRing, kind: str, key: str, values: Iterable[object]) -> str:
    """The MAC over a record's canonical content (domain-separated from event MACs, whose
    input is a JSON array, never starting with ``record``)."""
    return keyring.audit_mac(_mac_input(kind, key, [_plain(v) for v in values]))


class _Canon:
    """Raw driver rows (no SQLAlchemy result processing: the walk reads every record) turned
    into the canonical values ``_plain`` gives the same content at write time."""

    def __init__(self, columns: Sequence[InstrumentedAttribute[Any]]) -> None:
        self.datetimes = [i for i, c in enumerate(columns) if isinstance(c.type, UTCDateTime)]
        self.uuids = [i for i, c in enumerate(columns) if isinstance(c.type, Uuid)]
        self.binaries = [i for i, c in enumerate(columns) if isinstance(c.type, LargeBinary)]

    def __call__(self, raw: Sequence[Any]) -> list[object]:
        values = list(raw)
        for i in self.datetimes:
            value = values[i]
            if value is not None and type(value) is not str:  # PostgreSQL: an aware datetime
                values[i] = _utc_text(value)
        for i in self.uuids:
            value = values[i]
            if value is not None and type(value) is not str:  # PostgreSQL: a UUID
                values[i] = value.hex
        for i in self.binaries:
            value = values[i]
            if value is not None:
                values[i] = base64.b64encode(bytes(value)).decode()
        return values


def _raw(column: Any) -> Any:
    """A column read as the driver returns it, with no result processor."""
    return type_coerce(column, NullType())


def _record_id(raw: Any) -> str:
    """The dashed form of a Uuid column's raw value (SQLite: 32 hex digits; PostgreSQL: UUID)."""
    if type(raw) is str and len(raw) == 32:
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return str(raw if isinstance(raw, uuid.UUID) else uuid.UUID(hex=raw))


def _values(obj: object, columns: Sequence[InstrumentedAttribute[Any]]) -> list[object]:
    return [getattr(obj, c.key) for c in columns]


def search_mac(keyring: KeyRing, record: SearchRecord) -> str:
    return content_mac(keyring, "search", str(record.id), _values(record, SEARCH_COLUMNS))


def search_values_mac(keyring: KeyRing, values: Mapping[str, object]) -> str:
    """``search_mac`` of a record not built as an ORM object: its column values by name."""
    return content_mac(
        keyring, "search", str(values["id"]), [values[c.key] for c in SEARCH_COLUMNS]
    )


def share_mac(keyring: KeyRing, share: Share) -> str:
    return content_mac(keyring, "share", str(share.id), _values(share, SHARE_COLUMNS))


def hold_mac(keyring: KeyRing, hold: LegalHold) -> str:
    return content_mac(keyring, "hold", str(hold.id), _values(hold, HOLD_COLUMNS))


def finding_key(
    search_id: uuid.UUID | str | None,
    rule: str,
    finding_id: int | None = None,
    config_ref: str | None = None,
) -> str:
    """A finding's key in the chain: its search and rule (unique together); for a finding about
    the configuration, its policy hashes and rule (unique together too); for a finding about a
    camera (neither), its own id."""
    if config_ref is not None:
        return f"{CONFIG_KEY}{config_ref}/{rule}"
    if search_id is None:
        return f"{CAMERA_KEY}{finding_id}/{rule}"
    return f"{search_id}/{rule}"


def finding_mac_of(keyring: KeyRing, key: str, values: Iterable[object]) -> str:
    return content_mac(keyring, "finding", key, values)


def new_finding_mac(
    keyring: KeyRing, key: str, severity: str, matched: str, created_at: datetime
) -> str:
    """The MAC of a new finding's content (open, unresolved, no note), in
    ``FINDING_COLUMNS`` order."""
    values = [severity, matched, FindingStatus.OPEN, None, None, created_at, None, None, None]
    return finding_mac_of(keyring, key, values)


def finding_mac(keyring: KeyRing, finding: Finding) -> str:
    return finding_mac_of(
        keyring,
        finding_key(finding.search_id, finding.rule, finding.id, finding.config_ref),
        _values(finding, FINDING_COLUMNS),
    )


# -- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordDamage:
    table: str
    record: str
    damage: str  # edited, flipped, deleted, inserted
    seq: int | None = None

    def describe(self) -> str:
        where = f" (audit seq {self.seq})" if self.seq is not None else ""
        return f"{self.table} {self.record}: {self.damage}{where}"

    def as_json(self) -> dict[str, object]:
        return {"table": self.table, "id": self.record, "damage": self.damage, "seq": self.seq}


@dataclass(frozen=True)
class RecordsResult:
    checked: int
    unbound: int  # records that cannot be checked (written before binding, or older than the chain)
    damage: tuple[RecordDamage, ...]

    @property
    def ok(self) -> bool:
        return not self.damage


def _field(details: str, name: str) -> str | None:
    """A top-level string value of canonical JSON details without parsing them all. Canonical
    JSON escapes every quote inside a string, so ``"name":"`` only occurs as a real key."""
    marker = f'"{name}":"'
    at = details.find(marker)
    if at < 0:
        return None
    start = at + len(marker)
    end = details.find('"', start)
    return details[start:end] if end > 0 else None


def _stream(session: Session, stmt: Any) -> Iterator[Any]:
    return chain.from_iterable(
        session.connection().execute(stmt.execution_options(yield_per=PAGE)).partitions()
    )


def _events(session: Session, kinds: Sequence[str], first_seq: int) -> Iterator[Any]:
    return _stream(
        session,
        select(AuditEvent.seq, AuditEvent.kind, AuditEvent.subject, AuditEvent.details)
        .where(AuditEvent.kind.in_(kinds), AuditEvent.seq >= first_seq)
        .order_by(AuditEvent.seq),
    )


def _expiry_cutoff(session: Session) -> datetime | None:
    """The latest cutoff the access records' retention has removed records up to."""
    latest: datetime | None = None
    for details in session.scalars(
        select(AuditEvent.details).where(AuditEvent.kind == AuditKind.RECORDS_EXPIRED)
    ):
        value = _field(details, "cutoff")
        if value is None:
            continue
        cutoff = datetime.fromisoformat(value)
        latest = cutoff if latest is None or cutoff > latest else latest
    return latest


def _first_seq(session: Session) -> int:
    return int(session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq).limit(1)) or 1)


def _retained(created: datetime, cutoff: datetime | None) -> bool:
    return cutoff is not None and created <= cutoff


class _Walk:
    def __init__(self, session: Session, keyring: KeyRing) -> None:
        self.session = session
        self.keyring = keyring
        self.first_seq = _first_seq(session)
        self.cutoff = _expiry_cutoff(session)
        self.checked = 0
        self.unbound = 0
        self.damage: list[RecordDamage] = []
        # Records gone by retention or whose deletion is already reported: a finding on such a
        # search is not reported again.
        self.missing_searches: set[str] = set()

    def report(self, table: str, record: str, damage: str, seq: int | None) -> None:
        self.damage.append(RecordDamage(table, record, damage, seq))

    def merge(
        self,
        table: str,
        kind: str,
        model: Any,
        columns: Sequence[InstrumentedAttribute[Any]],
        outcome_at: int | None,
    ) -> None:
        """Records with one statement each (searches, shares) against their events, both in
        seq order."""
        prefix = f"{kind}:"
        events = _events(self.session, (f"{kind}.allowed", f"{kind}.refused"), self.first_seq)
        records = _stream(
            self.session,
            select(_raw(model.id), model.audit_seq, *(_raw(c) for c in columns)).order_by(
                model.audit_seq, model.id
            ),
        )
        canon = _Canon(columns)
        event = next(events, None)
        record = next(records, None)
        mac = self.keyring.audit_mac
        while event is not None or record is not None:
            if record is not None and (event is None or record[1] < event[0]):
                if record[1] < self.first_seq:
                    self.unbound += 1  # its event was removed by the audit log's retention
                else:
                    self.report(table, _record_id(record[0]), "inserted", record[1])
                record = next(records, None)
                continue
            assert event is not None
            if record is None or record[1] > event[0]:
                self._gone(table, event, prefix)
                event = next(events, None)
                continue
            seq, event_kind, subject, details = event
            record_id = _record_id(record[0])
            if subject != prefix + record_id:
                # Another record's event: this row was made up; that record may be gone too.
                self.report(table, record_id, "inserted", record[1])
                record = next(records, None)
                continue
            expected = _field(details, RECORD_MAC)
            self.checked += 1
            if expected is None:
                self.unbound += 1  # stated before records were bound: nothing to compare
            elif mac(_mac_input(kind, record_id, canon(record[2:]))) != expected:
                flipped = (
                    outcome_at is not None
                    and record[2 + outcome_at] != event_kind.rsplit(".", 1)[1]
                )
                self.report(table, record_id, "flipped" if flipped else "edited", seq)
            record = next(records, None)
            event = next(events, None)

    def _gone(self, table: str, event: Any, prefix: str) -> None:
        seq, _, subject, details = event
        record_id = subject[len(prefix) :] if subject and subject.startswith(prefix) else subject
        created = _field(details, "created_at")
        at: datetime | None
        if created:
            at = datetime.fromisoformat(created)
        else:  # stated before events carried the record's time: the event's own
            at = self.session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq == seq))
        if table == "searches":
            self.missing_searches.add(str(record_id))
        if at is None or not _retained(at, self.cutoff):
            self.report(table, str(record_id), "deleted", seq)

    def restated(
        self,
        table: str,
        kinds: Sequence[str],
        rows: Iterator[Any],
        statements: dict[str, tuple[int, str | None, str | None]],
        present_search: Any = None,
    ) -> None:
        """Records restated by later events (holds, findings): each must match the latest
        statement of it. ``rows`` yield (key, audit_seq, created_at, status, mac of content);
        a statement is (seq, mac, the status it states)."""
        seen: set[str] = set()
        for key, audit_seq, created_at, status, computed in rows:
            seen.add(key)
            latest = statements.get(key)
            if audit_seq is None:
                if latest is None and (
                    self.first_binding is None or created_at < self.first_binding
                ):
                    self.unbound += 1
                else:
                    self.report(table, key, "inserted" if latest is None else "edited", None)
                continue
            if latest is None:
                if audit_seq < self.first_seq:
                    self.unbound += 1
                else:
                    self.report(table, key, "inserted", audit_seq)
                continue
            self.checked += 1
            seq, expected, stated = latest
            if audit_seq != seq or (expected is not None and computed != expected):
                flipped = stated is not None and status != stated
                self.report(table, key, "flipped" if flipped else "edited", seq)
        for key, (seq, _, _) in statements.items():
            if key in seen:
                continue
            if present_search is not None and not present_search(key):
                continue  # the finding went with its search (retention, or reported there)
            self.report(table, key, "deleted", seq)

    first_binding: datetime | None = None


_HOLD_STATES = {
    AuditKind.HOLD_APPROVED: HoldStatus.ACTIVE,
    AuditKind.HOLD_RELEASED: HoldStatus.RELEASED,
}


def _hold_statements(
    session: Session, first_seq: int
) -> dict[str, tuple[int, str | None, str | None]]:
    out: dict[str, tuple[int, str | None, str | None]] = {}
    for seq, kind, subject, details in _events(
        session,
        (AuditKind.HOLD_PLACED, AuditKind.HOLD_APPROVED, AuditKind.HOLD_RELEASED),
        first_seq,
    ):
        mac = _field(details, RECORD_MAC)
        if mac is None:
            continue  # stated before records were bound: such a hold is counted as unbound
        if subject and subject.startswith("hold:"):
            state = _HOLD_STATES.get(kind) or _field(details, "status")
            out[subject[5:]] = (seq, mac, state)
    return out


def _finding_statements(
    session: Session, first_seq: int
) -> tuple[dict[str, tuple[int, str | None, str | None]], datetime | None]:
    out: dict[str, tuple[int, str | None, str | None]] = {}
    first: datetime | None = None
    for seq, kind, _, details in _events(
        session, (AuditKind.REVIEW_FINDINGS_RECORDED, AuditKind.REVIEW_FINDING_RESOLVED), first_seq
    ):
        if kind == AuditKind.REVIEW_FINDINGS_RECORDED:
            if first is None:
                first = session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq == seq))
            for key, mac in json.loads(details).get("findings", {}).items():
                out[key] = (seq, mac, FindingStatus.OPEN)
            continue
        parsed = json.loads(details)
        mac = parsed.get(RECORD_MAC)
        if mac is None:
            continue  # a resolution from before records were bound
        key = finding_key(
            parsed.get("search_id"),
            parsed["rule"],
            parsed.get("finding_id"),
            parsed.get("config_ref"),
        )
        out[key] = (seq, mac, FindingStatus.RESOLVED)
    return out, first


def verify_records(session: Session, keyring: KeyRing) -> RecordsResult:
    """Walk every access-record table against the audit events that state its records."""
    walk = _Walk(session, keyring)
    walk.merge(
        "searches",
        "search",
        SearchRecord,
        SEARCH_COLUMNS,
        SEARCH_COLUMNS.index(SearchRecord.outcome),
    )
    walk.merge("shares", "share", Share, SHARE_COLUMNS, SHARE_COLUMNS.index(Share.outcome))

    holds = _hold_statements(session, walk.first_seq)
    first_hold = session.scalar(
        select(AuditEvent.occurred_at)
        .where(
            AuditEvent.kind == AuditKind.HOLD_PLACED, AuditEvent.details.like(f'%"{RECORD_MAC}":%')
        )
        .order_by(AuditEvent.seq)
        .limit(1)
    )
    walk.first_binding = first_hold

    def hold_rows() -> Iterator[Any]:
        for row in _stream(session, select(LegalHold.id, LegalHold.audit_seq, *HOLD_COLUMNS)):
            key = str(row[0])
            values = row[2:]
            yield key, row[1], values[5], values[2], content_mac(keyring, "hold", key, values)

    walk.restated("legal_holds", ("hold",), hold_rows(), holds)

    findings, first_finding = _finding_statements(session, walk.first_seq)
    walk.first_binding = first_finding

    def finding_rows() -> Iterator[Any]:
        for row in _stream(
            session,
            select(
                Finding.search_id,
                Finding.rule,
                Finding.audit_seq,
                Finding.id,
                Finding.config_ref,
                *FINDING_COLUMNS,
            ),
        ):
            key = finding_key(row[0], row[1], row[3], row[4])
            values = row[5:]
            yield key, row[2], values[5], values[2], finding_mac_of(keyring, key, values)

    def present(key: str) -> bool:
        if key.startswith((CAMERA_KEY, CONFIG_KEY)):
            # A camera's or the configuration's finding has no search: it is legitimately gone
            # only if the access records' retention removed it (resolved, and stated before the
            # latest cutoff).
            seq = findings[key][0]
            stated_at = session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq == seq))
            return not (stated_at is not None and _retained(stated_at, walk.cutoff))
        search_id = key.split("/", 1)[0]
        if search_id in walk.missing_searches:
            return False
        return session.get(SearchRecord, uuid.UUID(search_id)) is not None

    walk.restated("review_findings", ("finding",), finding_rows(), findings, present)
    return RecordsResult(walk.checked, walk.unbound, tuple(walk.damage))


def with_records(session: Session, keyring: KeyRing, result: VerifyResult) -> VerifyResult:
    """``result`` (the chain walk) with the access records' walk added to it."""
    records = verify_records(session, keyring)
    return replace(
        result,
        ok=result.ok and records.ok,
        record_damage=tuple(d.describe() for d in records.damage),
        records_checked=records.checked,
    )


_SEARCH_CANON = _Canon(SEARCH_COLUMNS)


def check_search_rows(
    session: Session, keyring: KeyRing, rows: Sequence[tuple[Any, int, Sequence[object]]]
) -> dict[Any, str]:
    """For the access report: each search row (id, audit_seq, values in ``SEARCH_COLUMNS``
    order) against the event stating it: ``verified``, ``unbound`` (stated before records were
    bound, or its event removed by retention), or the damage (``edited``, ``flipped``,
    ``inserted``)."""
    seqs = sorted({seq for _, seq, _ in rows})
    events: dict[int, tuple[str, str | None, str]] = {}
    for start in range(0, len(seqs), 500):
        for seq, kind, subject, details in (
            session.connection()
            .execute(
                select(
                    AuditEvent.seq, AuditEvent.kind, AuditEvent.subject, AuditEvent.details
                ).where(AuditEvent.seq.in_(seqs[start : start + 500]))
            )
            .all()
        ):
            events[seq] = (kind, subject, details)
    first = _first_seq(session) if rows else 1
    outcome_at = SEARCH_COLUMNS.index(SearchRecord.outcome)
    canon, mac = _SEARCH_CANON, keyring.audit_mac
    out: dict[Any, str] = {}
    for record_id, seq, values in rows:
        event = events.get(seq)
        if event is None:
            out[record_id] = "unbound" if seq < first else "inserted"
            continue
        kind, subject, details = event
        key = str(record_id)
        if subject != f"search:{key}" or not kind.startswith("search."):
            out[record_id] = "inserted"
            continue
        expected = _field(details, RECORD_MAC)
        if expected is None:
            out[record_id] = "unbound"
        elif mac(_mac_input("search", key, canon(values))) == expected:
            out[record_id] = "verified"
        else:
            flipped = values[outcome_at] != kind.rsplit(".", 1)[1]
            out[record_id] = "flipped" if flipped else "edited"
    return out
