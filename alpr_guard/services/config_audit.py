"""Configuration changes are audit events, and drift is a finding.

The published usage policy and the enforced rules come from the same config (Civil Code
1798.90.51(b)); a change to purposes, retention, sharing or screening changes what the law-facing
system does, so each process records, at start-up, a hash of the policy it enforces and, when it
differs from the last one recorded, a readable diff. "Who switched sharing back on, and when"
then has an answer in the chain. Recording the policy also brings stored reads to its
retention windows (``services.windows``).

The scheduler's daily drift check (``check_drift``) compares the policy a process enforces with
the config file on disk, the last one recorded and the last one an auditor approved; any
difference is a ``config_drift`` finding in the auditors' review queue, whose subject is the
configuration, and resolving it as ``justified`` approves the policy running then.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.errors import ConfigError
from alpr_guard.models import AuditEvent, Finding
from alpr_guard.record_chain import finding_key, new_finding_mac
from alpr_guard.services.deps import Deps
from alpr_guard.services.windows import apply_windows, windows_of
from alpr_guard.settings import load_settings
from alpr_guard.vocabulary import AuditKind, FindingStatus


@dataclass(frozen=True)
class ConfigChange:
    digest: str
    previous: str | None
    diff: tuple[dict[str, object], ...]

    @property
    def changed(self) -> bool:
        return self.digest != self.previous


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def policy_diff(before: Any, after: Any) -> tuple[dict[str, object], ...]:
    old, new = _flatten(before), _flatten(after)
    return tuple(
        {"key": key, "from": old.get(key), "to": new.get(key)}
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    )


def record_policy(session: Session, rt: Deps, actor: Actor) -> ConfigChange:
    """Append a ``config.policy`` event if the enforced policy differs from the last one."""
    current = rt.settings.policy_json
    digest = hashlib.sha256(current.encode()).hexdigest()
    last = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.kind == AuditKind.CONFIG_POLICY)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    previous = json.loads(last) if last else None
    previous_digest = previous["sha256"] if previous else None
    # Stored reads follow the windows in force; a shortened window is its own audit event,
    # with the number of reads it expired.
    apply_windows(session, rt, actor, windows_of(previous["policy"]) if previous else {})
    if previous_digest == digest:
        return ConfigChange(digest, previous_digest, ())
    diff = policy_diff(previous["policy"] if previous else {}, json.loads(current))
    rt.audit.append(
        session,
        AuditKind.CONFIG_POLICY,
        actor,
        details={
            "sha256": digest,
            "previous_sha256": previous_digest,
            "source": str(rt.settings.source),
            "diff": list(diff),
            "policy": json.loads(current),
        },
    )
    return ConfigChange(digest, previous_digest, diff)


DRIFT_KIND = AuditKind.CONFIG_DRIFT  # the name the drift tests query by
DRIFT_RULE = "config_drift"
DRIFT_SEVERITY = "high"
FINDINGS = cast(Table, Finding.__table__)
SHORT = 16  # hex digits of the other hashes in a drift's config_ref (matched has them in full)
# In place of the file's hash in the config_ref of a policy that ran between two checks
INTERIM = "interim"


@dataclass(frozen=True)
class Drift:
    running: str  # hash of the policy this process enforces
    on_disk: str | None  # hash of the config file as it is now; None if it no longer loads
    recorded: str | None  # hash of the last policy put on the record
    diff: tuple[dict[str, object], ...]
    approved: str | None = None  # hash of the last policy approved (None: nothing recorded yet)
    finding_id: int | None = None  # the finding this check raised; None if none was new
    # Findings about policies recorded since the approval that ran unapproved and are gone again
    interim_findings: tuple[int, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why this is drift, as codes an auditor reads in the finding."""
        out = []
        if self.on_disk is None:
            out.append("file_does_not_load")
        elif self.on_disk != self.running:
            out.append("file_differs_from_running")
        if self.recorded is None:
            out.append("running_not_recorded")
        elif self.recorded != self.running:
            out.append("recorded_differs_from_running")
        if self.approved is not None and self.approved != self.running:
            out.append("running_not_approved")
        return tuple(out)

    @property
    def drifted(self) -> bool:
        return bool(self.reasons or self.interim_findings)

    @property
    def config_ref(self) -> str:
        """The finding's subject: the running policy's hash, then short forms of the file's, the
        recorded and the approved one, so one state of drift is one finding however many days
        it lasts, and a new difference is a new finding."""
        return "/".join(
            (
                self.running,
                (self.on_disk or "unloadable")[:SHORT],
                (self.recorded or "none")[:SHORT],
                (self.approved or "none")[:SHORT],
            )
        )


def _recorded_policies(session: Session) -> list[tuple[int, dict[str, Any]]]:
    """Every recorded policy, oldest first (one event per change: few)."""
    return [
        (seq, json.loads(details))
        for seq, details in session.execute(
            select(AuditEvent.seq, AuditEvent.details)
            .where(AuditEvent.kind == AuditKind.CONFIG_POLICY)
            .order_by(AuditEvent.seq)
        ).all()
    ]


def approved_policy(session: Session) -> str | None:
    """The hash of the last approved policy: the running policy of the ``config_drift`` finding
    an auditor last resolved as justified, or else the first policy ever recorded (the one the
    programme started with). None if no policy was ever recorded."""
    approval = _approval(session)
    return approval[0] if approval else None


def _approval(session: Session) -> tuple[str, int] | None:
    """(hash of the approved policy, audit seq of its approval)."""
    # A policy that ran between two checks and is gone again is explained by "justified", not
    # approved: approving it would flag the policy running now.
    row = session.execute(
        select(Finding.config_ref, Finding.audit_seq)
        .where(
            Finding.rule == DRIFT_RULE,
            Finding.verdict == "justified",
            Finding.config_ref.not_like(f"%/{INTERIM}/%"),
        )
        .order_by(Finding.resolved_at.desc(), Finding.id.desc())
        .limit(1)
    ).first()
    if row is not None and row.config_ref:
        return row.config_ref.split("/", 1)[0], int(row.audit_seq or 0)
    first = session.execute(
        select(AuditEvent.seq, AuditEvent.details)
        .where(AuditEvent.kind == AuditKind.CONFIG_POLICY)
        .order_by(AuditEvent.seq)
        .limit(1)
    ).first()
    return (str(json.loads(first.details)["sha256"]), int(first.seq)) if first else None


def check_drift(session: Session, rt: Deps, actor: Actor) -> Drift:
    """Compare the running policy with the config file on disk, the last one recorded and the
    last one approved.

    A file edited without a restart, a process started with a different file, a file that no
    longer loads, or a policy running that no auditor has approved all mean the published policy
    and the enforced one may differ from what was agreed: each is a ``config.drift`` audit event
    with a readable diff and, once per distinct state, a ``config_drift`` finding (severity
    high) in the auditors' queue. Appends nothing when all agree.
    """
    running_json = rt.settings.policy_json
    running = hashlib.sha256(running_json.encode()).hexdigest()
    problem = None
    try:
        disk_json: str | None = load_settings(rt.settings.source).policy_json
    except ConfigError as exc:
        disk_json, problem = None, exc.message
    on_disk = hashlib.sha256(disk_json.encode()).hexdigest() if disk_json is not None else None
    policies = _recorded_policies(session)
    recorded = str(policies[-1][1]["sha256"]) if policies else None
    approval = _approval(session)
    approved = approval[0] if approval else None
    by_hash = {str(details["sha256"]): details["policy"] for _seq, details in policies}
    if on_disk is not None and on_disk != running:
        diff = policy_diff(json.loads(running_json), json.loads(disk_json or "{}"))
    elif recorded is not None and recorded != running:
        diff = policy_diff(by_hash[recorded], json.loads(running_json))
    elif approved is not None and approved != running and approved in by_hash:
        diff = policy_diff(by_hash[approved], json.loads(running_json))
    else:
        diff = ()
    drift = Drift(running, on_disk, recorded, diff, approved)
    finding_id = _record_drift(session, rt, actor, drift, problem) if drift.drifted else None
    # A policy put on the record since the approval and gone again before this check (changed
    # and changed back between two runs) ran unapproved all the same: a finding of its own.
    interim: list[int] = []
    for seq, recorded_policy in policies:
        digest = str(recorded_policy["sha256"])
        if approval is None or seq <= approval[1] or digest in (approved, running):
            continue
        if _has_finding(session, digest):
            continue
        raised = _record_drift(
            session,
            rt,
            actor,
            Drift(digest, None, recorded, (), approved),
            None,
            reasons=("recorded_not_approved",),
            diff=policy_diff(by_hash[approved], recorded_policy["policy"])
            if approved in by_hash
            else (),
            ref=f"{digest}/{INTERIM}/{(recorded or 'none')[:SHORT]}/{(approved or 'none')[:SHORT]}",
        )
        if raised is not None:
            interim.append(raised)
    return Drift(running, on_disk, recorded, diff, approved, finding_id, tuple(interim))


def _has_finding(session: Session, digest: str) -> bool:
    """Is there a drift finding about the policy with this hash (running then)?"""
    return (
        session.scalar(
            select(Finding.id)
            .where(Finding.rule == DRIFT_RULE, Finding.config_ref.like(f"{digest}/%"))
            .limit(1)
        )
        is not None
    )


def _record_drift(
    session: Session,
    rt: Deps,
    actor: Actor,
    drift: Drift,
    problem: str | None,
    *,
    reasons: tuple[str, ...] | None = None,
    diff: tuple[dict[str, object], ...] | None = None,
    ref: str | None = None,
) -> int | None:
    """A ``config.drift`` audit event and, once per distinct drift, its finding."""
    details: dict[str, object] = {
        "severity": DRIFT_SEVERITY,
        "reasons": list(reasons if reasons is not None else drift.reasons),
        "running_sha256": drift.running,
        "file_sha256": drift.on_disk,
        "recorded_sha256": drift.recorded,
        "approved_sha256": drift.approved,
        "source": str(rt.settings.source),
        "file_error": problem,
        "diff": list(diff if diff is not None else drift.diff),
    }
    finding_id = _raise_finding(session, rt, actor, ref or drift.config_ref, details)
    rt.audit.append(
        session, AuditKind.CONFIG_DRIFT, actor, details={**details, "finding_id": finding_id}
    )
    return finding_id


def _raise_finding(
    session: Session, rt: Deps, actor: Actor, ref: str, details: dict[str, object]
) -> int | None:
    """A ``config_drift`` finding for this state of drift, stated in the chain like every
    finding; None if one for the same state exists (open, or already explained)."""
    exists = session.scalar(
        select(Finding.id).where(Finding.config_ref == ref, Finding.rule == DRIFT_RULE)
    )
    if exists is not None:
        return None
    matched = json.dumps(details, sort_keys=True)
    created_at = rt.clock.now()
    finding_id = int(
        session.execute(
            insert(FINDINGS)
            .values(
                search_id=None,
                camera_id=None,
                config_ref=ref,
                rule=DRIFT_RULE,
                severity=DRIFT_SEVERITY,
                matched=matched,
                status=FindingStatus.OPEN,
                created_at=created_at,
            )
            .returning(FINDINGS.c.id)
        ).scalar_one()
    )
    key = finding_key(None, DRIFT_RULE, finding_id, ref)
    mac = new_finding_mac(rt.keyring, key, DRIFT_SEVERITY, matched, created_at)
    event = rt.audit.append(
        session, AuditKind.REVIEW_FINDINGS_RECORDED, actor, details={"findings": {key: mac}}
    )
    session.execute(
        FINDINGS.update().where(FINDINGS.c.id == finding_id).values(audit_seq=event.seq)
    )
    return finding_id


@dataclass(frozen=True)
class PolicyChange:
    """One recorded change of the enforced policy: who started the process that recorded it,
    when, the hashes before and after, and what changed."""

    seq: int
    at: datetime
    actor: str
    digest: str
    previous: str | None
    diff: tuple[dict[str, object], ...]


def policy_history(session: Session, limit: int = 50) -> list[PolicyChange]:
    """The ``config.policy`` events, newest first."""
    rows = session.execute(
        select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.details)
        .where(AuditEvent.kind == AuditKind.CONFIG_POLICY)
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    ).all()
    changes = []
    for seq, at, actor, details in rows:
        data = json.loads(details)
        changes.append(
            PolicyChange(
                seq,
                at,
                actor,
                str(data.get("sha256")),
                data.get("previous_sha256"),
                tuple(data.get("diff") or ()),
            )
        )
    return changes
