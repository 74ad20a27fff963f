"""What the tests of the screening rules' classes share: a search by an in-state officer whose
justification is the text under test, and the decision screening takes on it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.screening import SearchFacts, screen_search
from alpr_guard.policy.sharing import AgencyFacts
from alpr_guard.settings import Settings
from tests.conftest import REPO

RULES_FILE = REPO / "config" / "rules.california.toml"
# The reason codes a text naming who the search is for earns.
FEDERAL = ReasonCode.FEDERAL_AGENCY
OUT_OF_STATE = ReasonCode.OUT_OF_STATE_AGENCY
PRIVATE = ReasonCode.PRIVATE_ENTITY
CONFIG = REPO / "config" / "alpr_guard.toml"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
HOME = AgencyFacts("CA0199900", "Demo City PD", "local", "CA", True, None)
FACTS = SearchFacts(
    purpose="criminal_investigation",
    justification="",
    case_number="26-004512",
    window_from=NOW - timedelta(days=7),
    window_to=NOW,
    requester=HOME,
    on_behalf_of=None,
    on_behalf_agency=None,
)


def decide(settings: Settings, text: str) -> tuple[ReasonCode | None, set[str]]:
    """The word lists' decision on a search whose justification is ``text``: (refusal, flagged
    rules). Without the statistical second opinion: these are the rules' contract, text by
    text, and a flag from the model must not stand in for a rule that stopped firing (the model
    is judged by its rates on the labelled parts, in test_screening_accuracy)."""
    d = screen_search(
        replace(FACTS, justification=text), replace(settings, second_opinion=None), NOW
    )
    return d.reason, {f.rule for f in d.flags}


def assert_clean(settings: Settings, text: str) -> None:
    assert decide(settings, text) == (None, set()), text
