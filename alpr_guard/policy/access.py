"""Who sees what: one rule, decided on every request and at every account change.

Each route declares what it exposes (an ``Exposure``). The operating agency owns the reads and
its records, so its users act in every role as their role allows. Any other agency is a
recipient of plate data, and may be one only while ``decide_recipient`` says so: the same
decision that governs shares and searches on another agency's behalf, taken again on every
request from the registry as it stands, so un-vetting an agency cuts its accounts off at once.
A partner that passes it may search under the sharing rules (``officer``) and audit the access
records of its own agency's users (``auditor``); nothing else. The rest of the record (the
compliance summary, the audit chain, purges, holds, shares) is the operating agency's.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from alpr_guard.policy.decisions import Decision, ReasonCode
from alpr_guard.policy.sharing import AgencyFacts, SharingRules, decide_recipient


class Exposure(StrEnum):
    """What a route lets its caller see or change."""

    PUBLIC = "public"  # no plate data and no records: health, API description, public key
    READS_WRITE = "reads_write"  # writes plate reads into the store (cameras)
    PLATE_READS = "plate_reads"  # plate reads, through a screened and recorded search
    AGENCY_RECORDS = "agency_records"  # access records, which can be cut to one agency's users
    OPERATOR_RECORDS = "operator_records"  # the whole instance's records and state
    ACCOUNT = "account"  # the caller's own account (who is signed in, their tokens, sign-out)


# What a user of a partner agency (one that passes decide_recipient) may do, per exposure.
PARTNER_ROLES: dict[Exposure, frozenset[str]] = {
    Exposure.PLATE_READS: frozenset({"officer"}),
    Exposure.AGENCY_RECORDS: frozenset({"auditor"}),
}
PARTNER_ACCOUNT_ROLES = frozenset().union(*PARTNER_ROLES.values())


def decide_access(
    agency: AgencyFacts | None,
    *,
    ori: str,
    role: str,
    operating: bool,
    exposure: Exposure,
    rules: SharingRules,
    home_state: str,
    now: datetime,
) -> Decision:
    """May a user of ``agency`` (its registry entry; None if it is not there) with ``role`` use
    a route that exposes ``exposure``? Whether the route accepts the role at all is the route's
    own declaration, checked apart; this decides what the agency may hold."""
    if exposure is Exposure.PUBLIC:
        return Decision.allow("public")
    if operating:
        return Decision.allow("operating_agency")
    recipient = decide_recipient(agency, rules=rules, home_state=home_state, now=now, ori=ori)
    if not recipient.allowed:
        return recipient
    if exposure is Exposure.ACCOUNT:
        # A partner's account exists only in the roles a partner may hold (decide_account).
        return Decision.allow("own_account")
    if role not in PARTNER_ROLES.get(exposure, frozenset()):
        return Decision.refuse(
            ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY,
            "partner_role",
            f"a {role} of agency {ori}, which is not the operating agency, may not do this",
        )
    return Decision.allow("partner_own_agency")


def decide_account(
    agency: AgencyFacts | None,
    *,
    ori: str,
    role: str,
    operating: bool,
    rules: SharingRules,
    home_state: str,
    now: datetime,
) -> Decision:
    """May an account with ``role`` exist (be created, or get a token) for a user of ``agency``?
    Only if some route would accept it: every role in the operating agency; in a partner
    agency that may receive plate data, the roles partners may use."""
    if operating:
        return Decision.allow("operating_agency")
    recipient = decide_recipient(agency, rules=rules, home_state=home_state, now=now, ori=ori)
    if not recipient.allowed:
        return recipient
    if role not in PARTNER_ACCOUNT_ROLES:
        allowed = ", ".join(sorted(PARTNER_ACCOUNT_ROLES))
        return Decision.refuse(
            ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY,
            "partner_role",
            f"agency {ori} is not the operating agency: its users may only be {allowed}",
        )
    return Decision.allow("partner_own_agency")
