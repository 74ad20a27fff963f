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
