"""request_share: transfer reads to another agency, only if the sharing rules allow it.

Civil Code 1798.90.55(b) and AG bulletin 2023-DLE-06: a California public agency may share ALPR
information only with another California public agency. The decision (``policy.screening.
screen_share``) is made before anything is decrypted; every decision, allowed or refused, is a
share record plus an audit event. An allowed share returns a bundle signed with the instance's
Ed25519 key; the recipient verifies it against ``GET /api/v1/signing-key`` (or
``alpr-guard shares verify``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.audit import canonical_json
from alpr_guard.crypto import key_fingerprint, verify_signature
from alpr_guard.errors import KeyUnavailable, NotFound, ValidationError
from alpr_guard.models import PlateRead, SearchRecord, Share
from alpr_guard.policy.decisions import Decision
from alpr_guard.policy.plates import Plate
from alpr_guard.policy.screening import ShareFacts, screen_share
from alpr_guard.record_chain import share_mac
from alpr_guard.services.agencies import find_agency
from alpr_guard.services.deps import Deps
from alpr_guard.services.free_text import display, display_opt, seal_texts, share_aad
from alpr_guard.services.principals import Principal
from alpr_guard.services.requests import SearchRequest
from alpr_guard.services.sealed_reads import open_plate
from alpr_guard.services.search import ReadOut, find_reads, invalid_request, mask_plate
from alpr_guard.services.windows import live
from alpr_guard.vocabulary import AuditKind, Outcome

BUNDLE_FORMAT = "alpr_guard.share.v1"
MAX_READS = 1000


@dataclass(frozen=True)
class ShareRequest:
    recipient_ori: str
    purpose: str
    justification: str = field(repr=False)
    case_number: str | None = field(default=None, repr=False)
    read_ids: tuple[uuid.UUID, ...] = ()
    search_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ShareOutcome:
    share_id: uuid.UUID
    decision: Decision
    bundle: dict[str, Any] | None = None  # {"bundle": {...}, "signature": {...}}
    # A malformed request: each bad field and the rule it broke (never its value).
    fields: Mapping[str, str] | None = None


def signing_key_info(rt: Deps) -> dict[str, str]:
    raw = rt.keyring.public_key_raw()
    return {
        "algorithm": "Ed25519",
        "key_id": key_fingerprint(raw),
        "public_key": base64.b64encode(raw).decode(),
    }


def sign_bundle(rt: Deps, bundle: dict[str, Any]) -> dict[str, Any]:
    message = canonical_json(bundle).encode()
    signature = rt.keyring.signing_key().sign(message)
    return {
        "bundle": bundle,
        "signature": {
            "algorithm": "Ed25519",
            "key_id": key_fingerprint(rt.keyring.public_key_raw()),
            "value": base64.b64encode(signature).decode(),
        },
    }


def verify_bundle(document: object, public_key: bytes) -> tuple[bool, str]:
    """Check a signed bundle against a public key; (ok, explanation)."""
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("bundle"), dict)
        or not isinstance(document.get("signature"), dict)
    ):
        return False, "not a signed bundle (needs 'bundle' and 'signature' objects)"
    signature = document["signature"]
    if signature.get("algorithm") != "Ed25519":
        return False, "unsupported signature algorithm"
    if signature.get("key_id") != key_fingerprint(public_key):
        return False, "signed by another key than the one given"
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
    except (binascii.Error, ValueError):
        return False, "signature is not base64"
    if not verify_signature(public_key, value, canonical_json(document["bundle"]).encode()):
        return False, "signature does not match the bundle: it was altered or forged"
    bundle = document["bundle"]
    return True, (
        f"valid bundle {bundle.get('bundle_id')} from {bundle.get('issuer', {})}"
        f" to {bundle.get('recipient', {})}: {len(bundle.get('reads', []))} reads"
    )


def _reads_by_id(
    session: Session, rt: Deps, principal: Principal, ids: tuple[uuid.UUID, ...]
) -> list[ReadOut]:
    """The caller's own agency's reads that are still within retention and still readable."""
    rows = session.scalars(
        select(PlateRead)
        .where(
            PlateRead.id.in_(ids),
            PlateRead.agency_id == principal.agency_id,
            live(PlateRead.__table__, rt.settings.retention, rt.clock.now()),
        )
        .order_by(PlateRead.observed_at.desc(), PlateRead.id.desc())
    ).all()
    reads = []
    for row in rows:
        try:
            key = rt.keyring.data_key(row.key_id)
            plate = open_plate(key, row.plate_ct, row.id, row.observed_at, row.camera_id).decode()
        except KeyUnavailable:
            continue  # crypto-shredded: it no longer exists to share

        reads.append(
            ReadOut(
                id=row.id,
                plate=Plate(plate),
                plate_state=row.plate_state,
                observed_at=row.observed_at,
                camera_id=row.camera_id,
                latitude=row.latitude,
                longitude=row.longitude,
                confidence=row.confidence,
            )
        )
    found = {r.id for r in reads}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise NotFound(
            f"{len(missing)} of the requested reads do not exist, are not this agency's or are "
            f"past retention (first: {missing[0]})"
        )
    return reads


def reads_of_search(session: Session, rt: Deps, record: SearchRecord) -> list[ReadOut]:
    """The reads an allowed search finds now (its sealed plate over its window)."""
    plate = json.loads(rt.keyring.unseal(record.terms_sealed, record.id.bytes))["plate"]
    assert record.window_from is not None
    assert record.window_to is not None
    request = SearchRequest(
        plate=Plate(plate),
        window_from=record.window_from,
        window_to=record.window_to,
        purpose=record.purpose,
        justification=record.justification,
    )
    return find_reads(session, rt, request)


def share_attempt(
    session: Session,
    rt: Deps,
    principal: Principal,
    values: Mapping[str, Any],
    fields: Mapping[str, str],
) -> ShareOutcome:
    """Decide a share the wire layer parsed (``values``: ``recipient_ori``, ``purpose``,
    ``justification``, ``case_number``, ``read_ids``, ``search_id``); a malformed one
    (``fields``: its errors by field) is refused ``invalid_request`` and recorded like any
    other refusal, with what could be parsed (free text sealed)."""
    request = ShareRequest(
        recipient_ori=values.get("recipient_ori", ""),
        purpose=values.get("purpose", ""),
        justification=values.get("justification", ""),
        case_number=values.get("case_number"),
        read_ids=values.get("read_ids", ()),
        search_id=values.get("search_id"),
    )
    if not fields:
        return request_share(session, rt, principal, request)
    share_id = uuid.uuid4()
    decision = invalid_request(fields)
    write_share_record(
        session,
        rt,
        principal,
        share_id,
        request,
        decision,
        rt.clock.now(),
        plates=[],
        read_ids=[str(i) for i in request.read_ids],
        read_count=len(request.read_ids),
        digest=None,
        fields=fields,
    )
    return ShareOutcome(share_id, decision, fields=dict(fields))


def request_share(
    session: Session, rt: Deps, principal: Principal, request: ShareRequest
) -> ShareOutcome:
    if bool(request.read_ids) == (request.search_id is not None):
        raise ValidationError({"read_ids": "give either read_ids or search_id"})
    if len(request.read_ids) > MAX_READS:
        raise ValidationError({"read_ids": f"at most {MAX_READS} reads per share"})
    record = None
    if request.search_id is not None:
        record = session.get(SearchRecord, request.search_id)
        if (
            record is None
            or record.outcome != Outcome.ALLOWED
            or (record.agency_ori != principal.agency_ori)
        ):
            raise NotFound(
                f"search {request.search_id} does not exist, was refused or is another agency's"
            )

    now = rt.clock.now()
    recipient = find_agency(session, request.recipient_ori)
    requester = find_agency(session, principal.agency_ori)
    assert requester is not None  # a user's agency is always registered
    decision = screen_share(
        ShareFacts(
            requester=requester,
            recipient_ori=request.recipient_ori,
            recipient=recipient,
            purpose=request.purpose,
            justification=request.justification,
            case_number=request.case_number,
        ),
        rt.settings,
        now,
    )

    share_id = uuid.uuid4()
    signed = None
    reads: list[ReadOut] = []
    justification = request.justification
    if decision.allowed:
        reads = (
            _reads_by_id(session, rt, principal, request.read_ids)
            if record is None
            else reads_of_search(session, rt, record)
        )
        for plate in {r.plate for r in reads}:
            justification = mask_plate(justification, plate)
        assert recipient is not None
        signed = sign_bundle(
            rt,
            {
                "format": BUNDLE_FORMAT,
                "bundle_id": str(share_id),
                "created_at": now.isoformat(),
                "issuer": {
                    "ori": rt.settings.instance.operating_agency,
                    "name": rt.settings.instance.operating_agency_name,
                },
                "recipient": {"ori": recipient.ori, "name": recipient.name},
                "purpose": request.purpose,
                "case_number": request.case_number,
                "justification": justification,
                "search_id": str(record.id) if record else None,
                "shared_by": principal.username,
                "reads": [r.as_json() for r in reads],
            },
        )
    digest = (
        hashlib.sha256(canonical_json(signed["bundle"]).encode()).hexdigest() if signed else None
    )
    share = write_share_record(
        session,
        rt,
        principal,
        share_id,
        request,
        decision,
        now,
        plates=[r.plate.value for r in reads],
        read_ids=[str(r.id) for r in reads]
        if decision.allowed
        else [str(i) for i in request.read_ids],
        read_count=len(reads) if decision.allowed else len(request.read_ids),
        digest=digest,
    )
    return ShareOutcome(share.id, decision, signed)


def write_share_record(
    session: Session,
    rt: Deps,
    principal: Principal,
    share_id: uuid.UUID,
    request: ShareRequest,
    decision: Decision,
    now: datetime,
    *,
    plates: list[str],
    read_ids: list[str],
    read_count: int,
    digest: str | None,
    fields: Mapping[str, str] | None = None,
) -> Share:
    """The share record and its audit event, allowed or refused. The free text as typed is
    sealed (bound to the share id); the columns and the event hold display copies with plates
    masked; the event carries the MAC of the record's content (``record_chain``)."""
    outcome = Outcome.ALLOWED if decision.allowed else Outcome.REFUSED
    sealed = seal_texts(
        rt,
        {
            "purpose": request.purpose,
            "justification": request.justification,
            "case_number": request.case_number,
        },
        share_aad(share_id.bytes),
    )
    case_number = display_opt(rt, request.case_number, plates)
    share = Share(
        id=share_id,
        created_at=now,
        user_id=principal.user_id,
        username=principal.username,
        agency_ori=principal.agency_ori,
        recipient_ori=request.recipient_ori[:9],
        purpose=display(rt, request.purpose, plates)[:64],
        justification=display(rt, request.justification, plates),
        case_number=case_number[:64] if case_number is not None else None,
        search_id=request.search_id,
        read_count=read_count,
        outcome=outcome,
        reason_code=decision.reason.value if decision.reason else None,
        rule=decision.rule,
        bundle_sha256=digest,
        audit_seq=0,
        text_sealed=sealed,
    )
    details: dict[str, object] = {
        "share_id": str(share_id),
        "created_at": now.isoformat(),
        "recipient": share.recipient_ori,
        "purpose": share.purpose,
        "case_number": share.case_number,
        "justification": share.justification,
        "search_id": str(request.search_id) if request.search_id else None,
        "read_count": share.read_count,
        "outcome": outcome,
        "reason_code": share.reason_code,
        "rule": decision.rule,
        "matched": [display(rt, m, plates) for m in decision.matched],
        "bundle_sha256": digest,
        # What was disclosed (or asked for): read ids identify records, never plates.
        "read_ids": read_ids,
        "record_mac": share_mac(rt.keyring, share),
    }
    if fields is not None:
        details["fields"] = dict(fields)  # names and rules only, never values
    session.add(share)
    event = rt.audit.append(
        session,
        AuditKind.SHARE_ALLOWED if decision.allowed else AuditKind.SHARE_REFUSED,
        principal.actor,
        subject=f"share:{share_id}",
        details=details,
        sealed=sealed,
    )
    share.audit_seq = event.seq
    session.flush()
    return share


@dataclass(frozen=True)
class ShareView:
    id: uuid.UUID
    created_at: datetime
    username: str
    recipient_ori: str
    purpose: str
    case_number: str | None
    read_count: int
    outcome: str
    reason_code: str | None
    rule: str | None
    bundle_sha256: str | None


def list_shares(
    session: Session,
    rt: Deps,
    principal: Principal,
    *,
    limit: int = 100,
    offset: int = 0,
    outcome: str | None = None,
) -> list[ShareView]:
    stmt = select(Share).order_by(Share.created_at.desc(), Share.id)
    if outcome is not None:
        stmt = stmt.where(Share.outcome == outcome)
    shares = session.scalars(stmt.limit(limit).offset(offset)).all()
    rt.audit.append(
        session,
        AuditKind.SHARES_LISTED,
        principal.actor,
        details={"returned": len(shares), "outcome": outcome},
    )
    return [
        ShareView(
            s.id,
            s.created_at,
            s.username,
            s.recipient_ori,
            s.purpose,
            s.case_number,
            s.read_count,
            s.outcome,
            s.reason_code,
            s.rule,
            s.bundle_sha256,
        )
        for s in shares
    ]
