"""alpr_guard: privacy-preserving storage and access control for ALPR plate reads.

``create_app`` is the one way to get an application (house rule 1): nothing is created at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from alpr_guard.runtime import Runtime
    from alpr_guard.settings import Settings


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Build the WSGI app from settings (loaded from ALPR_GUARD_CONFIG when omitted)."""
    from alpr_guard.api import build_app
    from alpr_guard.audit import Actor
    from alpr_guard.db import session_scope
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.config_audit import record_policy
    from alpr_guard.settings import load_settings

    if runtime is None:
        runtime = build_runtime(settings or load_settings())
    with session_scope(runtime.sessions) as session:
        record_policy(
            session, runtime, Actor("system:startup", runtime.settings.instance.operating_agency)
        )
    return build_app(runtime)
