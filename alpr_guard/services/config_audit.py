"""Configuration changes are audit events.

The published usage policy and the enforced rules come from the same config (Civil Code
1798.90.51(b)); a change to purposes, retention, sharing or screening changes what the law-facing
system does, so each process records, at start-up, a hash of the policy it enforces and, when it
differs from the last one recorded, a readable diff. "Who switched sharing back on, and when"
then has an answer in the chain. Recording the policy also brings stored reads to its
retention windows (``services.windows``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alpr_guard.audit import Actor
from alpr_guard.models import AuditEvent
from alpr_guard.runtime import Runtime
from alpr_guard.services.windows import apply_windows, windows_of

KIND = "config.policy"


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


def record_policy(session: Session, rt: Runtime, actor: Actor) -> ConfigChange:
    """Append a ``config.policy`` event if the enforced policy differs from the last one."""
    current = rt.settings.policy_json
    digest = hashlib.sha256(current.encode()).hexdigest()
    last = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.kind == KIND)
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
        KIND,
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


DRIFT_KIND = "config.drift"


@dataclass(frozen=True)
class Drift:
    running: str  # hash of the policy this process enforces
    on_disk: str | None  # hash of the config file as it is now; None if it no longer loads
    recorded: str | None  # hash of the last policy put on the record (the approved one)
    diff: tuple[dict[str, object], ...]

    @property
    def drifted(self) -> bool:
        return not (self.running == self.on_disk == self.recorded)


def check_drift(session: Session, rt: Runtime, actor: Actor) -> Drift:
    """Compare the running policy with the config file on disk and the last one recorded.

    A file edited without a restart, a process started with a different file, or a file that no
    longer loads all mean the published policy and the enforced one may differ: each is a
    ``config.drift`` audit event (severity high) with a readable diff, for an auditor to explain.
    Appends nothing when all three agree.
    """
    from alpr_guard.errors import ConfigError
    from alpr_guard.settings import load_settings

    running_json = rt.settings.policy_json
    running = hashlib.sha256(running_json.encode()).hexdigest()
    problem = None
    try:
        disk_json: str | None = load_settings(rt.settings.source).policy_json
    except ConfigError as exc:
        disk_json, problem = None, exc.message
    on_disk = hashlib.sha256(disk_json.encode()).hexdigest() if disk_json is not None else None
    last = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.kind == KIND)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    previous = json.loads(last) if last else None
    recorded = previous["sha256"] if previous else None
    if on_disk is not None and on_disk != running:
        diff = policy_diff(json.loads(running_json), json.loads(disk_json or "{}"))
    elif previous is not None and recorded != running:
        diff = policy_diff(previous["policy"], json.loads(running_json))
    else:
        diff = ()
    drift = Drift(running, on_disk, recorded, diff)
    if drift.drifted:
        rt.audit.append(
            session,
            DRIFT_KIND,
            actor,
            details={
                "severity": "high",
                "running_sha256": running,
                "file_sha256": on_disk,
                "recorded_sha256": recorded,
                "source": str(rt.settings.source),
                "file_error": problem,
                "diff": list(diff),
            },
        )
    return drift


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
        .where(AuditEvent.kind == KIND)
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
