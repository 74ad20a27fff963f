"""What a service needs of the process: the settings, the keys, the clock and the audit log.

Services take these, never the whole ``runtime.Runtime``: the engine and the session factory
belong to the edges (API views, CLI, ``jobs``), which own the transactions a service's work
runs in. ``Runtime`` satisfies ``Deps`` as it is, so an edge may pass its runtime; a job passes
a ``ServiceDeps`` so that nothing beneath it can reach the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from alpr_guard.audit import AuditLog
from alpr_guard.checkpoints import Signer
from alpr_guard.clock import Clock
from alpr_guard.crypto import KeyRing
from alpr_guard.settings import Settings

# The same four parts a checkpoint's signer needs: checkpoints sits below the services and
# declares them, so a service hands its deps on to the checkpoints as they are.
Deps: TypeAlias = Signer


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
