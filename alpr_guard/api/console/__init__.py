"""The console: server-rendered pages for auditors, supervisors, admins and officers.

Every page calls the same services as the JSON API and is an audited read like its API twin;
authentication goes through ``api.console.auth`` alone.
"""

from __future__ import annotations

from alpr_guard.api.console import (
    admin,
    chain,
    findings,
    home,
    reports,
    search,
    summary,
    supervisors,
)
from alpr_guard.api.console.blueprint import bp

__all__ = [
    "admin",
    "bp",
    "chain",
    "findings",
    "home",
    "reports",
    "search",
    "summary",
    "supervisors",
]
