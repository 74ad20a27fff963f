"""Append-only, hash-chained audit log, and its verification.

Each event's ``hash`` is an HMAC (under a key derived from the master key, so someone with only
database access cannot forge a consistent chain) over the event's canonical form and the previous
event's hash. Sequence numbers are dense, so a deleted event leaves a gap, an edited one breaks
its MAC, and a reordered one breaks the link. Appends are serialised (``db.lock_audit_chain``) so
concurrent writers on either database still produce one chain.

Details are JSON without plates: query terms that contain a plate go in ``sealed``, encrypted
under the audit sealing key, readable only through auditors' reports.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.clock import Clock
from alpr_guard.crypto import KeyRing
from alpr_guard.db import lock_audit_chain
from alpr_guard.models import AuditEvent

GENESIS = "0" * 64


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
    return json.dumps(
        [seq, occurred_at, kind, actor, actor_agency, subject, details, sealed_text, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
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


class AuditLog:
    def __init__(self, keyring: KeyRing, clock: Clock, timeout_ms: int) -> None:
        self._keyring = keyring
        self._clock = clock
        self._timeout_ms = timeout_ms

    def append(
        self,
        session: Session,
        kind: str,
        actor: Actor,
        *,
        subject: str | None = None,
        details: Mapping[str, object] | None = None,
        sealed: bytes | None = None,
    ) -> AuditEvent:
        """Append one event in the caller's transaction.

        Call it as late as possible in the transaction: on PostgreSQL the chain lock is held
        from here until commit.
        """
        lock_audit_chain(session, self._timeout_ms)
        last = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        # Microsecond precision survives both databases, so the MAC input round-trips.
        event = AuditEvent(
            seq=seq,
            occurred_at=self._clock.now(),
            kind=kind,
            actor=actor.name,
            actor_agency=actor.agency,
            subject=subject,
            details=canonical_json(details or {}),
            sealed=sealed,
            prev_hash=prev_hash,
            hash="",
        )
        event.hash = event_hash(self._keyring, event)
        session.add(event)
        session.flush()
        return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    last_seq: int | None
    bad_seq: int | None = None
    problem: str | None = None  # "edited", "deleted", "reordered", "broken_link"

    def describe(self) -> str:
        if self.ok:
            return f"audit chain verified: {self.checked} events, last seq {self.last_seq}"
        return (
            f"audit chain BROKEN at seq {self.bad_seq}: {self.problem} "
            f"({self.checked} events checked before it)"
        )


def _iter_events(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    """Keyset pages: memory stays flat and no server-side cursor outlives a page."""
    after = 0
    while True:
        page = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not page:
            return
        yield from page
        after = page[-1].seq
        session.expunge_all()


def verify_chain(session: Session, keyring: KeyRing) -> VerifyResult:
    """Walk the chain in sequence order and name the first event that does not verify."""
    checked = 0
    expected_seq = 1
    prev_hash = GENESIS
    last_seq: int | None = None
    for event in _iter_events(session):
        if event.seq != expected_seq:
            problem = "deleted" if event.seq > expected_seq else "reordered"
            return VerifyResult(False, checked, last_seq, expected_seq, problem)
        if event_hash(keyring, event) != event.hash:
            return VerifyResult(False, checked, last_seq, event.seq, "edited")
        if event.prev_hash != prev_hash:
            return VerifyResult(False, checked, last_seq, event.seq, "broken_link")
        checked += 1
        prev_hash = event.hash
        last_seq = event.seq
        expected_seq = event.seq + 1
    return VerifyResult(True, checked, last_seq)
