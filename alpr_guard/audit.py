"""Append-only, hash-chained audit log, and its verification.

Each event's ``hash`` is an HMAC (under a key derived from the master key, so someone with only
database access cannot forge a consistent chain) over the event's canonical form and the previous
event's hash. Sequence numbers are dense, so a deleted event leaves a gap, an edited one breaks
its MAC, and a reordered one breaks the link. Appends are serialised (``db.lock_audit_chain``) so
concurrent writers on either database still produce one chain.

The only deletion is the audit log's own retention (``services.records_retention``): it removes
a prefix of the chain, never the head, after writing a signed *retention* checkpoint of the last
event it removes, so the walk may then start just after that checkpoint.

Details are JSON without plates: query terms that contain a plate go in ``sealed``, encrypted
under the audit sealing key, readable only through auditors' reports.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from alpr_guard.clock import Clock
from alpr_guard.crypto import KeyRing
from alpr_guard.db import DriverSelect, RowInsert, lock_audit_chain
from alpr_guard.models import AuditEvent
from alpr_guard.progress import SILENT, Progress
from alpr_guard.vocabulary import AuditKind

GENESIS = "0" * 64
# The MAC input is a compact JSON array; one preconfigured encoder (same bytes as json.dumps
# with these options) keeps the chain walk fast.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Mapping[str, object]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _message(
    seq: int,
    occurred_at: str,
    kind: str,
    actor: str,
    actor_agency: str | None,
    subject: str | None,
    details: str,
    sealed: bytes | None,
    prev_hash: str,
) -> bytes:
    sealed_text = base64.b64encode(sealed).decode() if sealed is not None else None
    return _ENCODER.encode(
        [seq, occurred_at, kind, actor, actor_agency, subject, details, sealed_text, prev_hash]
    ).encode()


def event_hash(keyring: KeyRing, event: AuditEvent) -> str:
    return keyring.audit_mac(
        _message(
            event.seq,
            event.occurred_at.isoformat(),
            event.kind,
            event.actor,
            event.actor_agency,
            event.subject,
            event.details,
            event.sealed,
            event.prev_hash,
        )
    )


@dataclass(frozen=True)
class Actor:
    """Who did it: a user, or a system process such as ``system:purge``."""

    name: str
    agency: str | None


# Every write of the product appends one event: the head lookup is compiled once, and the row
# goes in without the ORM (constructing an ORM object and flushing it cost more than the rest
# of a one-read ingest transaction), through the driver on SQLite (``RowInsert``).
_HEAD = DriverSelect(
    select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
)


class Appended(NamedTuple):
    """An event as written: its columns, in the row's order (the INSERT's too)."""

    seq: int
    occurred_at: datetime
    kind: str
    actor: str
    actor_agency: str | None
    subject: str | None
    details: str
    sealed: bytes | None
    prev_hash: str
    hash: str


_INSERT = RowInsert(cast(Table, AuditEvent.__table__), Appended._fields)


class AuditLog:
    def __init__(self, keyring: KeyRing, clock: Clock, timeout_ms: int) -> None:
        self._keyring = keyring
        self._clock = clock
        self._timeout_ms = timeout_ms

    def append(
        self,
        session: Session,
        kind: AuditKind,
        actor: Actor,
        *,
        subject: str | None = None,
        details: Mapping[str, object] | None = None,
        sealed: bytes | None = None,
    ) -> AuditEvent:
        """Append one event in the caller's transaction (``append_row``), returned as a
        detached ORM object: the row is already written."""
        return AuditEvent(
            **self.append_row(
                session, kind, actor, subject=subject, details=details, sealed=sealed
            )._asdict()
        )

    def append_row(
        self,
        session: Session,
        kind: AuditKind,
        actor: Actor,
        *,
        subject: str | None = None,
        details: Mapping[str, object] | None = None,
        sealed: bytes | None = None,
    ) -> Appended:
        """Append one event in the caller's transaction; the event as written.

        Call it as late as possible in the transaction: on PostgreSQL the chain lock is held
        from here until commit.
        """
        lock_audit_chain(session, self._timeout_ms)
        last = _HEAD.rows(session, {})
        seq, prev_hash = (int(last[0][0]) + 1, str(last[0][1])) if last else (1, GENESIS)
        # Microsecond precision survives both databases, so the MAC input round-trips.
        occurred_at = self._clock.now()
        text = canonical_json(details or {})
        # The MAC input is spelled once (``_message``), as ``event_hash`` and the walk read it.
        digest = self._keyring.audit_mac(
            _message(
                seq,
                occurred_at.isoformat(),
                kind,
                actor.name,
                actor.agency,
                subject,
                text,
                sealed,
                prev_hash,
            )
        )
        row = Appended(
            seq,
            occurred_at,
            kind,
            actor.name,
            actor.agency,
            subject,
            text,
            sealed,
            prev_hash,
            digest,
        )
        _INSERT(session, row)
        return row


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    last_seq: int | None
    bad_seq: int | None = None
    # "edited", "deleted", "reordered", "broken_link", "truncated", "checkpoint_mismatch";
    # "checkpoint_dirs_disagree" (no bad_seq): the chain verifies, a directory does not agree
    problem: str | None = None
    checkpoints: int = 0
    # Where the walk began: above 1 once the audit log's retention has removed older events.
    first_seq: int | None = None
    # The newest event a signed checkpoint vouches for, and how many events follow it: those
    # could be cut off without the walk noticing, so they are always reported.
    last_checkpoint_seq: int | None = None
    events_after_checkpoint: int | None = None
    # Checkpoint directories missing checkpoints the others have, or disagreeing with them.
    directory_problems: tuple[str, ...] = ()
    # Access records that do not match the events stating them (``record_chain``), each
    # "table id: damage (audit seq N)"; any of them makes ``ok`` false.
    record_damage: tuple[str, ...] = ()
    records_checked: int = 0

    def describe(self) -> str:
        """One line for the chain, one for its unpinned tail, one per directory problem, then
        the access records: one line each that is damaged, or one saying they all verified."""
        lines = [self._describe_chain()]
        if self.events_after_checkpoint is not None:
            if self.last_checkpoint_seq is None:
                lines.append(
                    f"{self.events_after_checkpoint} events after the last checkpoint "
                    "(no signed checkpoint covers the chain)"
                )
            else:
                lines.append(
                    f"{self.events_after_checkpoint} events after the last checkpoint "
                    f"(seq {self.last_checkpoint_seq})"
                )
        lines.extend(f"checkpoint directory: {p}" for p in self.directory_problems)
        lines.extend(f"access record {d}" for d in self.record_damage)
        if self.records_checked and not self.record_damage:
            lines.append(f"access records verified: {self.records_checked} bound to the chain")
        return "\n".join(lines)

    def _describe_chain(self) -> str:
        anchored = f", {self.checkpoints} signed checkpoints matched" if self.checkpoints else ""
        retained = ""
        if self.first_seq is not None and self.first_seq > 1:
            retained = (
                f", first seq {self.first_seq} (events before it removed by retention, "
                f"vouched for by a signed retention checkpoint)"
            )
        # Record damage and directory problems leave the chain itself verified.
        if self.problem is None or self.bad_seq is None:
            verdict = "verified" if self.problem is None else f"verified, but {self.problem}"
            return (
                f"audit chain {verdict}: {self.checked} events, last seq {self.last_seq}"
                f"{retained}{anchored}"
            )
        return (
            f"audit chain BROKEN at seq {self.bad_seq}: {self.problem} "
            f"({self.checked} events checked before it)"
        )


@dataclass(frozen=True)
class Anchor:
    """A point of the chain vouched for outside the database (a signed checkpoint)."""

    seq: int
    hash: str
    # Written by the audit log's own retention purge: the chain may legitimately start after it.
    retention: bool = False


_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.occurred_at,
    AuditEvent.kind,
    AuditEvent.actor,
    AuditEvent.actor_agency,
    AuditEvent.subject,
    AuditEvent.details,
    AuditEvent.sealed,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def _rows(
    session: Session,
    through: int | None = None,
    batch: int = 10_000,
    progress: Progress = SILENT,
) -> Iterator[Any]:
    """Keyset pages of plain rows: memory stays flat, no server-side cursor outlives a page."""
    after = 0
    upto = () if through is None else (AuditEvent.seq <= through,)
    while True:
        page = session.execute(
            select(*_COLUMNS)
            .where(AuditEvent.seq > after, *upto)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not page:
            return
        yield from page
        progress.advance(len(page))
        after = page[-1][0]


def verify_chain(
    session: Session,
    keyring: KeyRing,
    anchors: Iterable[Anchor] = (),
    *,
    through: int | None = None,
    progress: Progress = SILENT,
) -> VerifyResult:
    """Walk the chain in sequence order and name the first event that does not verify.

    ``anchors`` are signed checkpoints: each must match the event at its sequence number, so
    deleting the newest events back past the last checkpoint shows as ``truncated``. The chain
    may start after seq 1 only where a *retention* checkpoint (left by the audit log's own
    retention purge) vouches for the hash just before it; deleting old events otherwise shows
    as ``deleted`` at the first missing seq (1, or just after the newest retention checkpoint
    below the chain's start), whatever ordinary checkpoints exist. Checkpoints below the start
    vouch for events retention removed and are not looked for; those in the remaining range must
    match.

    ``through`` stops the walk after that seq (the retention purge checks what it is about to
    remove, and the link into the first event it keeps); anchors past it are then not looked for.
    """
    anchors = list(anchors)
    by_seq = {a.seq: a.hash for a in anchors}
    starts = {a.seq: a.hash for a in anchors if a.retention}
    mac = keyring.audit_mac
    checked = matched = 0
    expected_seq: int | None = None
    first_seq: int | None = None
    prev_hash = GENESIS
    last_seq: int | None = None
    if progress is not SILENT:  # the count is an extra query: only when someone watches
        upto = () if through is None else (AuditEvent.seq <= through,)
        due = session.scalar(select(func.count()).select_from(AuditEvent).where(*upto))
        progress.start("audit verify: events", int(due or 0), "events")
    for row in _rows(session, through, progress=progress):
        seq, occurred_at, kind, actor, agency, subject, details, sealed, prev, digest = row
        if expected_seq is None:
            if seq != 1:
                start_anchor = starts.get(seq - 1)
                if start_anchor is None:
                    vouched = [s for s in starts if s < seq]
                    missing = max(vouched) + 1 if vouched else 1
                    return VerifyResult(False, 0, None, missing, "deleted", matched)
                prev_hash = start_anchor
            expected_seq = first_seq = seq
        if seq != expected_seq:
            problem = "deleted" if seq > expected_seq else "reordered"
            return VerifyResult(False, checked, last_seq, expected_seq, problem, matched, first_seq)
        computed = mac(
            _message(
                seq, occurred_at.isoformat(), kind, actor, agency, subject, details, sealed, prev
            )
        )
        if computed != digest:
            return VerifyResult(False, checked, last_seq, seq, "edited", matched, first_seq)
        if prev != prev_hash:
            return VerifyResult(False, checked, last_seq, seq, "broken_link", matched, first_seq)
        if seq in by_seq:
            if by_seq[seq] != digest:
                return VerifyResult(
                    False, checked, last_seq, seq, "checkpoint_mismatch", matched, first_seq
                )
            matched += 1
        checked += 1
        prev_hash = digest
        last_seq = seq
        expected_seq = seq + 1
    if through is None:
        beyond = [seq for seq in by_seq if last_seq is None or seq > last_seq]
        if beyond:
            return VerifyResult(
                False, checked, last_seq, min(beyond), "truncated", matched, first_seq
            )
    return VerifyResult(True, checked, last_seq, None, None, matched, first_seq)
