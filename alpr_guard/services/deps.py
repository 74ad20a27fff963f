"""What a service needs of the process: the settings, the keys, the clock and the audit log.

Services take these, never the whole ``runtime.Runtime``: the engine and the session factory
belong to the edges (API views, CLI, ``jobs``), which own the transactions a service's work
runs in. ``Runtime`` satisfies ``Deps`` as it is, so an edge may pass its runtime; a job passes
a ``ServiceDeps`` so that nothing beneath it can reach the engine. ``Deps`` asks for the same
four parts as ``checkpoints.Signer``, so a service can hand its deps on to the checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alpr_guard.audit import AuditLog
from alpr_guard.clock import Clock
from alpr_guard.crypto import KeyRing
from alpr_guard.settings import Settings


class Deps(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def keyring(self) -> KeyRing: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def audit(self) -> AuditLog: ...


@dataclass(frozen=True)
class ServiceDeps:
    """Just the four parts, taken from a runtime (or anything else that has them)."""

    settings: Settings
    keyring: KeyRing
    clock: Clock
    audit: AuditLog

    @classmethod
    def of(cls, source: Deps) -> ServiceDeps:
        return cls(source.settings, source.keyring, source.clock, source.audit)
