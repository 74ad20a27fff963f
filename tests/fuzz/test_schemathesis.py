"""No input answers 5xx: schemathesis over /api/v1/openapi.json, in-process through WSGI.

Every operation gets schema-conforming (positive) and schema-violating (negative) cases, each
sent mostly with a token of a role the operation allows, and every fourth case with a token of
any role, or none. Seeded (``derandomize``), so a run is
repeatable; the only 5xx allowed is a 503 that carries Retry-After (the writer was busy).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from itertools import count
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from alpr_guard.api.openapi import spec
from tests.conftest import auth

EXAMPLES = int(os.environ.get("ALPR_GUARD_FUZZ_EXAMPLES", "35"))  # per operation and mode
ROLES = (None, "ingest", "officer", "supervisor", "auditor", "admin", "officer@CA0190100")


def has_input(operation: Any) -> bool:
    """Whether a case can break the schema at all (no parameters and no body: it cannot)."""
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def _operations(app: Flask) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def allowed_roles(client: FlaskClient, tokens: dict[str, str], operation: Any) -> list[str]:
    """The roles whose token gets past authentication and the role check (a probe request)."""
    path = re.sub(r"{[^}]+}", "1", operation.path)
    allowed = []
    for role in ROLES[1:]:
        assert role is not None
        response = client.open(
            path, method=operation.method.upper(), json={}, headers=auth(tokens[role])
        )
        if response.status_code not in (401, 403):
            allowed.append(role)
    return allowed


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_answers_5xx(app: Flask, tokens: dict[str, str], mode: GenerationMode) -> None:
    failures: list[str] = []
    seen: Counter[tuple[str, int]] = Counter()
    operations = _operations(app)
    # Every operation the document describes (schemathesis leaves out the document itself).
    described = {f"{m.upper()} {p}" for p, item in spec()["paths"].items() for m in item}
    assert described - {op.label for op in operations} == {"GET /api/v1/openapi.json"}
    client = app.test_client()
    roles_used: set[str | None] = set()

    def fuzz(operation: Any, allowed: list[str | None]) -> None:
        sent = count()

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def send(case: Any) -> None:
            n = next(sent)
            role = ROLES[(n // 4) % len(ROLES)] if n % 4 == 3 else allowed[n % len(allowed)]
            roles_used.add(role)
            # The token is the role's (a generated Authorization header would only mean 401).
            case.headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
            }
            response = case.call(headers=auth(tokens[role]) if role else {})
            status = response.status_code
            seen[operation.label, status] += 1
            if status >= 500 and not (status == 503 and response.headers.get("Retry-After")):
                failures.append(
                    f"{operation.label} as {role}: {status} "
                    f"{case.path_parameters!r} {case.query!r} {str(case.body)[:200]!r}"
                )

        send()

    for operation in operations:
        # Most cases carry a token that reaches the view (the roles allowed, in turn); every
        # fourth one the next of all the roles, none included, so every role is tried everywhere.
        if has_input(operation) or mode is GenerationMode.POSITIVE:
            fuzz(operation, [*allowed_roles(client, tokens, operation)] or [None])
    if os.environ.get("ALPR_GUARD_FUZZ_REPORT"):
        print(sorted(seen.items()))
    assert roles_used == set(ROLES)
    assert sum(seen.values()) >= len(operations) * EXAMPLES // 2
    assert not failures, "\n".join(failures[:20])
