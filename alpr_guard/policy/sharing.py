"""Who may receive plate data: every transfer to an agency other than the owner goes through
``decide_recipient`` — a share, a search by another agency's user, and a search that declares
it is run on another agency's behalf.

California (Civil Code 1798.90.55(b); AG bulletin 2023-DLE-06): only California state or local
public agencies. Never federal agencies (their police included), out-of-state agencies or
private entities. The test is the registry's ``kind`` and ``jurisdiction``, never the ORI's
first two letters: ICE's office in California has an ORI beginning "CA". Deny by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alpr_guard.policy.decisions import Decision, ReasonCode


@dataclass(frozen=True)
class SharingRules:
    """Who may receive reads (a share, or a search run on their behalf). Deny by default.

    Declared here, where it is decided; the settings loader builds it from the profile."""

    allowed_kinds: tuple[str, ...]
    home_state_only: bool
    require_vetted: bool
    require_attestation: bool
    allow_out_of_state_with_attestation: bool


@dataclass(frozen=True)
class AgencyFacts:
    ori: str
    name: str
    kind: str
    jurisdiction: str
    vetted: bool
    attestation_expires_at: datetime | None


def decide_recipient(
    agency: AgencyFacts | None, *, rules: SharingRules, home_state: str, now: datetime, ori: str
) -> Decision:
    """Decide whether ``agency`` (looked up by ``ori``; None when unknown) may receive reads."""
    if agency is None:
        return Decision.refuse(
            ReasonCode.UNKNOWN_AGENCY, "registry", f"agency {ori} is not in the agency registry"
        )
    if agency.kind == "federal" and "federal" not in rules.allowed_kinds:
        return Decision.refuse(
            ReasonCode.FEDERAL_AGENCY, "kind", f"agency {ori} is a federal agency"
        )
    if agency.kind == "private" and "private" not in rules.allowed_kinds:
        return Decision.refuse(
            ReasonCode.PRIVATE_ENTITY,
            "kind",
            f"agency {ori} is a private entity, not a public agency",
        )
    if agency.kind not in rules.allowed_kinds:
        return Decision.refuse(
            ReasonCode.KIND_NOT_ALLOWED,
            "kind",
            f"agency {ori} is of kind {agency.kind}, which may not receive "
            "plate data under this profile",
        )
    attestation_valid = (
        agency.attestation_expires_at is not None and agency.attestation_expires_at > now
    )
    in_state = agency.jurisdiction == home_state
    if (
        rules.home_state_only
        and not in_state
        and not (rules.allow_out_of_state_with_attestation and attestation_valid)
    ):
        if rules.allow_out_of_state_with_attestation and agency.attestation_expires_at:
            return Decision.refuse(
                ReasonCode.ATTESTATION_EXPIRED,
                "attestation",
                f"agency {ori}'s attestation has expired",
            )
        return Decision.refuse(
            ReasonCode.OUT_OF_STATE_AGENCY, "jurisdiction", f"agency {ori} is outside {home_state}"
        )
    if rules.require_vetted and not agency.vetted:
        return Decision.refuse(
            ReasonCode.AGENCY_NOT_VETTED, "vetting", f"agency {ori} has not been vetted"
        )
    needs_attestation = rules.require_attestation or (
        not in_state and rules.allow_out_of_state_with_attestation
    )
    if needs_attestation and not attestation_valid:
        return Decision.refuse(
            ReasonCode.ATTESTATION_EXPIRED, "attestation", f"agency {ori} has no valid attestation"
        )
    return Decision.allow("recipient_allowed")
