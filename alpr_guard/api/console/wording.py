"""Refusals in plain words for the people who meet them at the console. The decision's own
message (from the policy) is shown too; this says what it means and what to do next."""

from __future__ import annotations

from alpr_guard.policy.decisions import ReasonCode

PLAIN: dict[str, str] = {
    ReasonCode.UNKNOWN_PURPOSE: "Choose one of the purposes in the list: only those are allowed.",
    ReasonCode.PROHIBITED_PURPOSE: (
        "Plate data may not be used for what the justification describes (for example "
        "immigration enforcement, or watching people at a protest, a clinic or a place of "
        "worship). The search was not run. If you meant something else, describe the crime "
        "or the emergency you are working on."
    ),
    ReasonCode.JUSTIFICATION_REQUIRED: (
        "Say what you are investigating and why this plate: a word or two, or only a case "
        "number, is not enough."
    ),
    ReasonCode.INVALID_WINDOW: "The dates must run forwards, and not end in the future.",
    ReasonCode.WINDOW_TOO_LONG: (
        "Search a shorter period: the policy limits how far one search may reach."
    ),
    ReasonCode.UNKNOWN_AGENCY: "The agency you named is not in the registry.",
    ReasonCode.AGENCY_NOT_VETTED: "The agency you named has not been vetted for sharing yet.",
    ReasonCode.FEDERAL_AGENCY: "The law here does not allow this data to go to federal agencies.",
    ReasonCode.OUT_OF_STATE_AGENCY: (
        "The law here does not allow this data to go to agencies of other states."
    ),
    ReasonCode.PRIVATE_ENTITY: "This data may not go to private companies.",
    ReasonCode.KIND_NOT_ALLOWED: "The policy does not share with this kind of agency.",
    ReasonCode.ATTESTATION_EXPIRED: "The agency's signed promise to follow the policy has expired.",
    ReasonCode.ROLE_NOT_ALLOWED_FOR_AGENCY: (
        "Your agency's users may not run this kind of search here."
    ),
    ReasonCode.INVALID_REQUEST: "Some fields need fixing; they are listed above.",
}


def plain(reason: str | None) -> str:
    return PLAIN.get(reason or "", "The search was refused by the policy in force.")
