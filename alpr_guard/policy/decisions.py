"""Decisions and their reason codes (house rule 7: denials are data).

Reason codes are part of the API contract: clients and auditors key on them, so they never
change meaning. Each maps to the HTTP status its refusal answers with.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonCode(StrEnum):
    # Screening a search (Civil Code 1798.90.52(b): use only for the policy's purposes).
    UNKNOWN_PURPOSE = "unknown_purpose"
    PROHIBITED_PURPOSE = "prohibited_purpose"
    JUSTIFICATION_REQUIRED = "justification_required"
    INVALID_WINDOW = "invalid_window"
    WINDOW_TOO_LONG = "window_too_long"
    # Transfers to another agency (1798.90.55(b); AG bulletin 2023-DLE-06).
    UNKNOWN_AGENCY = "unknown_agency"
    AGENCY_NOT_VETTED = "agency_not_vetted"
    FEDERAL_AGENCY = "federal_agency"
    OUT_OF_STATE_AGENCY = "out_of_state_agency"
    PRIVATE_ENTITY = "private_entity"
    KIND_NOT_ALLOWED = "kind_not_allowed"
    ATTESTATION_EXPIRED = "attestation_expired"
    # Accounts of a partner agency: only the roles a partner may hold (search, own records).
    ROLE_NOT_ALLOWED_FOR_AGENCY = "role_not_allowed_for_agency"
    # A malformed request (details.fields names each bad field): still recorded as an attempt.
    INVALID_REQUEST = "invalid_request"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    ReasonCode.UNKNOWN_PURPOSE: 422,
    ReasonCode.PROHIBITED_PURPOSE: 403,
    ReasonCode.JUSTIFICATION_REQUIRED: 422,
    ReasonCode.INVALID_WINDOW: 422,
    ReasonCode.WINDOW_TOO_LONG: 422,
    ReasonCode.UNKNOWN_AGENCY: 403,
    ReasonCode.AGENCY_NOT_VETTED: 403,
    ReasonCode.FEDERAL_AGENCY: 403,
    ReasonCode.OUT_OF_STATE_AGENCY: 403,
    ReasonCode.PRIVATE_ENTITY: 403,
    ReasonCode.KIND_NOT_ALLOWED: 403,
    ReasonCode.ATTESTATION_EXPIRED: 403,
    ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY: 403,
    ReasonCode.INVALID_REQUEST: 422,
}


@dataclass(frozen=True)
class Flag:
    """A misuse signal that does not refuse the search but is kept for the access review."""

    rule: str
    severity: str
    matched: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: ReasonCode | None
    rule: str  # which rule fired (or "allowed"), recorded with the decision
    message: str
    matched: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()

    @staticmethod
    def allow(rule: str = "allowed", flags: tuple[Flag, ...] = ()) -> Decision:
        return Decision(True, None, rule, "allowed", (), flags)

    @staticmethod
    def refuse(
        reason: ReasonCode,
        rule: str,
        message: str,
        matched: tuple[str, ...] = (),
        flags: tuple[Flag, ...] = (),
    ) -> Decision:
        return Decision(False, reason, rule, message, matched, flags)
