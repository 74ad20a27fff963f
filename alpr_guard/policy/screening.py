"""Screening a search before any data is touched.

Order matters for what is recorded: a prohibited purpose is named as such even when the request
is also wrong in other ways, because that is what an auditor (and the California Values Act,
Gov. Code 7284.6) cares about most. Then: an unknown purpose code, a transfer to an agency the
sharing rules forbid (a search run on another agency's behalf, or by another agency's user),
a junk justification, a bad window. Text rules whose action is "flag" do not refuse; they ride
along on the decision so the access review sees them the same day, and so does the statistical
second opinion (``second_opinion``) on a text the rules found nothing prohibited in, unless it
is all but certain of a prohibited purpose: then it refuses, as a prohibited purpose.

A justification that says the search is FOR a federal, out-of-state or private party ("per FBI",
"Texas DPS request", "repo company asked") is the same act as an on_behalf_of naming one, so it
is refused at the same point with the same reason code (federal_agency, out_of_state_agency,
private_entity), unless the profile's sharing rules allow that kind of party and the search
declares, in on_behalf_of, an agency they allow (which the text then merely names). A text that
only mentions such a party is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from alpr_guard.policy.decisions import Decision, Flag, ReasonCode
from alpr_guard.policy.second_opinion import SecondOpinion, opinion
from alpr_guard.policy.sharing import AgencyFacts, SharingRules, decide_recipient
from alpr_guard.policy.text_rules import TextMatch, TextRules, scan_words

JUNK_RULE = "vague_justification"


@dataclass(frozen=True)
class Purpose:
    """A purpose code a search or share may declare; a prohibited one is refused by name."""

    code: str
    description: str
    prohibited: bool
    statute: str


# What screening reads from the configuration, declared here so that policy never imports the
# settings loader; ``settings.Settings`` satisfies it as it stands (read-only attributes).
class _HomeState(Protocol):
    @property
    def home_state(self) -> str: ...


class _OperatingAgency(Protocol):
    @property
    def operating_agency(self) -> str: ...


class _Window(Protocol):
    @property
    def max_window_days(self) -> int: ...


class ScreeningConfig(Protocol):
    @property
    def screening(self) -> TextRules: ...
    @property
    def sharing(self) -> SharingRules: ...
    @property
    def jurisdiction(self) -> _HomeState: ...
    @property
    def instance(self) -> _OperatingAgency: ...
    @property
    def search(self) -> _Window: ...
    @property
    def second_opinion(self) -> SecondOpinion | None: ...
    def purpose(self, code: str) -> Purpose | None: ...


@dataclass(frozen=True)
class SearchFacts:
    purpose: str
    justification: str
    case_number: str | None
    window_from: datetime
    window_to: datetime
    requester: AgencyFacts
    on_behalf_of: str | None
    on_behalf_agency: AgencyFacts | None  # registry lookup of on_behalf_of; None if unknown


@dataclass(frozen=True)
class _Text:
    """What the purpose code and the justification text say, before anything else is checked."""

    refusal: Decision | None
    junk: TextMatch | None
    flags: tuple[Flag, ...]
    beneficiary: TextMatch | None = None  # the text says the search is for this kind of party


_PARTY_REASONS = {
    "federal": (ReasonCode.FEDERAL_AGENCY, "a federal agency"),
    "out_of_state": (ReasonCode.OUT_OF_STATE_AGENCY, "an agency of another state"),
    "private": (ReasonCode.PRIVATE_ENTITY, "a private party"),
}


def _screen_purpose_and_text(
    purpose_code: str, justification: str, case_number: str | None, settings: ScreeningConfig
) -> _Text:
    purpose = settings.purpose(purpose_code)
    if purpose is not None and purpose.prohibited:
        return _Text(
            Decision.refuse(
                ReasonCode.PROHIBITED_PURPOSE,
                "purpose_code",
                f"purpose {purpose.code} is prohibited ({purpose.statute})",
            ),
            None,
            (),
        )
    matches, words = scan_words(settings.screening, justification, case_number)
    flags = tuple(Flag(m.rule, m.severity, m.matched) for m in matches if m.action == "flag")
    second = settings.second_opinion
    if second is not None and not any(
        m.action == "refuse" or m.rule == second.rule for m in matches
    ):
        # The rules passed the text (or only flagged it for something else): the model's
        # opinion flags it, or, all but certain, refuses it as a rule would.
        said = opinion(second, words)
        if said is not None and said.refuses:
            assert second.refuse_from is not None
            return _Text(
                Decision.refuse(
                    ReasonCode.PROHIBITED_PURPOSE,
                    second.rule,
                    "the justification reads as a prohibited purpose to the statistical second "
                    f"opinion ({second.rule}: probability {said.probability:.2f}, refused from "
                    f"{second.refuse_from:.2f})",
                    said.matched,
                    flags,
                ),
                None,
                flags,
            )
        if said is not None:
            flags = (*flags, Flag(second.rule, second.severity, said.matched))
    junk = None
    beneficiary = None
    for match in matches:
        if match.action != "refuse":
            continue
        if match.rule == JUNK_RULE:
            junk = junk or match
            continue
        if match.party is not None:
            beneficiary = beneficiary or match
            continue
        if beneficiary is not None:  # a prohibited purpose wins; the beneficiary rides along
            flags = (*flags, Flag(beneficiary.rule, beneficiary.severity, beneficiary.matched))
        return _Text(
            Decision.refuse(
                ReasonCode.PROHIBITED_PURPOSE,
                match.rule,
                f"the justification indicates a prohibited purpose ({match.rule})",
                match.matched,
                flags,
            ),
            None,
            flags,
        )
    if purpose is None:
        if beneficiary is not None:  # the unknown purpose is named; the beneficiary rides along
            flags = (*flags, Flag(beneficiary.rule, beneficiary.severity, beneficiary.matched))
        return _Text(
            Decision.refuse(
                ReasonCode.UNKNOWN_PURPOSE,
                "purpose_code",
                "purpose is not one of the configured purpose codes",
                (),
                flags,
            ),
            None,
            flags,
        )
    return _Text(None, junk, flags, beneficiary)


def _beneficiary_refusal(
    text: _Text, declared: AgencyFacts | None, settings: ScreeningConfig
) -> Decision | None:
    """The refusal a justification naming who the search is for earns, or None.

    The profile's sharing rules decide, as they do for on_behalf_of: a kind they allow is no
    refusal. An out-of-state agency that the profile would accept with an attestation has to be
    declared in on_behalf_of, where its attestation is checked; only then is the text's naming
    of it no refusal.
    """
    match = text.beneficiary
    if match is None or match.party is None:
        return None
    rules = settings.sharing
    home = settings.jurisdiction.home_state
    party = match.party
    if party == "federal" and "federal" in rules.allowed_kinds:
        return None
    if party == "private" and "private" in rules.allowed_kinds:
        return None
    if party == "out_of_state":
        if not rules.home_state_only:
            return None
        if declared is not None and declared.jurisdiction != home:
            return None  # the declared agency passed decide_recipient: the text names it
    reason, who = _PARTY_REASONS[party]
    return Decision.refuse(
        reason,
        match.rule,
        f"the justification says the search is for {who}, which may not receive plate data "
        "under this profile",
        match.matched,
        text.flags,
    )


def _junk(match: TextMatch, flags: tuple[Flag, ...]) -> Decision:
    return Decision.refuse(
        ReasonCode.JUSTIFICATION_REQUIRED,
        match.rule,
        "a justification that explains the request is required",
        match.matched,
        flags,
    )


def screen_search(facts: SearchFacts, settings: ScreeningConfig, now: datetime) -> Decision:
    text = _screen_purpose_and_text(facts.purpose, facts.justification, facts.case_number, settings)
    if text.refusal is not None:
        return text.refusal
    flags = text.flags
    home = settings.jurisdiction.home_state
    operating = settings.instance.operating_agency
    if facts.on_behalf_of is not None and facts.on_behalf_of != operating:
        decision = decide_recipient(
            facts.on_behalf_agency,
            rules=settings.sharing,
            home_state=home,
            now=now,
            ori=facts.on_behalf_of,
        )
        if not decision.allowed:
            return _with_flags(decision, flags, prefix="on_behalf_of: ")
    declared = facts.on_behalf_agency if facts.on_behalf_of not in (None, operating) else None
    named = _beneficiary_refusal(text, declared, settings)
    if named is not None:
        return named
    if facts.requester.ori != operating:
        decision = decide_recipient(
            facts.requester,
            rules=settings.sharing,
            home_state=home,
            now=now,
            ori=facts.requester.ori,
        )
        if not decision.allowed:
            return _with_flags(decision, flags, prefix="requesting agency: ")
    if text.junk is not None:
        return _junk(text.junk, flags)

    if facts.window_from >= facts.window_to:
        return Decision.refuse(
            ReasonCode.INVALID_WINDOW, "window", "from must be earlier than to", (), flags
        )
    max_days = settings.search.max_window_days
    if facts.window_to - facts.window_from > timedelta(days=max_days):
        return Decision.refuse(
            ReasonCode.WINDOW_TOO_LONG,
            "window",
            f"the window may span at most {max_days} days",
            (),
            flags,
        )
    return Decision.allow(flags=flags)


@dataclass(frozen=True)
class ShareFacts:
    requester: AgencyFacts  # the sharing user's agency
    recipient_ori: str
    recipient: AgencyFacts | None  # registry lookup; None if unknown
    purpose: str
    justification: str
    case_number: str | None


def screen_share(facts: ShareFacts, settings: ScreeningConfig, now: datetime) -> Decision:
    """A transfer of reads to another agency: purpose and text first, then the recipient rule
    (Civil Code 1798.90.55(b)). Nothing is decrypted before this says yes."""
    text = _screen_purpose_and_text(facts.purpose, facts.justification, facts.case_number, settings)
    if text.refusal is not None:
        return text.refusal
    operating = settings.instance.operating_agency
    if facts.requester.ori != operating:
        # A user of another agency passing data on is a transfer to that agency first.
        outward = decide_recipient(
            facts.requester,
            rules=settings.sharing,
            home_state=settings.jurisdiction.home_state,
            now=now,
            ori=facts.requester.ori,
        )
        if not outward.allowed:
            return _with_flags(outward, text.flags, prefix="requesting agency: ")
    decision = decide_recipient(
        facts.recipient,
        rules=settings.sharing,
        home_state=settings.jurisdiction.home_state,
        now=now,
        ori=facts.recipient_ori,
    )
    if not decision.allowed:
        return _with_flags(decision, text.flags, prefix="recipient: ")
    named = _beneficiary_refusal(text, facts.recipient, settings)
    if named is not None:
        return named
    if text.junk is not None:
        return _junk(text.junk, text.flags)
    return Decision.allow("recipient_allowed", text.flags)


def _with_flags(decision: Decision, flags: tuple[Flag, ...], prefix: str) -> Decision:
    assert decision.reason is not None
    return Decision.refuse(
        decision.reason, decision.rule, prefix + decision.message, decision.matched, flags
    )
