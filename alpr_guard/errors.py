"""One error hierarchy with stable codes and HTTP statuses (house rule 8).

Every error that can reach a client carries a stable ``code`` (part of the API contract),
an HTTP ``status`` and a ``message`` written for the caller. Messages never contain a plate,
SQL or a stack trace: callers build them from field names and limits, not from values.
"""

from __future__ import annotations

from collections.abc import Mapping


class AlprGuardError(Exception):
    """Base class: ``code`` and ``status`` are part of the API contract."""

    code = "internal_error"
    status = 500

    def __init__(self, message: str, *, details: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, object] = dict(details or {})


class ConfigError(AlprGuardError):
    """The configuration is invalid; the message names the key and the file (fails closed)."""

    code = "config_error"
    status = 500


class ValidationError(AlprGuardError):
    """Bad input. ``details["fields"]`` maps a field path (``reads[3].plate``) to a message."""

    code = "validation_error"
    status = 422

    def __init__(self, fields: Mapping[str, str], message: str | None = None) -> None:
        fields = dict(fields)
        if message is None:
            message = "; ".join(f"{path}: {why}" for path, why in sorted(fields.items()))
        super().__init__(message, details={"fields": fields})
        self.fields = fields


class Unauthorized(AlprGuardError):
    code = "unauthorized"
    status = 401


class Forbidden(AlprGuardError):
    code = "forbidden"
    status = 403


class NotFound(AlprGuardError):
    code = "not_found"
    status = 404


class Conflict(AlprGuardError):
    code = "conflict"
    status = 409


class AuditUnavailable(AlprGuardError):
    """The access record could not be written in time: the operation fails closed."""

    code = "audit_unavailable"
    status = 503


class KeyUnavailable(AlprGuardError):
    """A data key is missing or destroyed (crypto-shredded) or the master key is wrong."""

    code = "key_unavailable"
    status = 500


class Refused(AlprGuardError):
    """A policy refusal. ``code`` is the decision's reason code; the refusal is already recorded."""

    def __init__(self, code: str, status: int, message: str, **details: object) -> None:
        super().__init__(message, details=details)
        self.code = code
        self.status = status
