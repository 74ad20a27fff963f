"""The justification detector: hard cases from real logs, config errors, properties."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpr_guard.errors import ConfigError
from alpr_guard.policy.text_rules import (
    TextRules,
    is_junk,
    load_text_rules,
    normalise_text,
    scan,
)
from tests.conftest import REPO

RULES_FILE = REPO / "config" / "rules.california.toml"


@pytest.fixture(scope="module")
def rules() -> TextRules:
    return load_text_rules(tomllib.loads(RULES_FILE.read_text()), str(RULES_FILE))


def fired(rules: TextRules, text: str, case: str | None = None) -> set[tuple[str, str]]:
    return {(m.rule, m.action) for m in scan(rules, text, case)}


@pytest.mark.parametrize(
    "text",
    [
        "ICE asked us to find this car",
        "ICE WARRANT",
        "per ice agent",
        "ice agents requested it",
        "I.C.E. request",
        "i.c.e detainer",
        "I C E asked",
        "ICE/HSI joint op",
        "per HSI request",
        "H.S.I. case agent",
        "Border Patrol request",
        "immig",
        "inmigración",
        "la migra",
        "deportation order",
        "287(g)",
        "illegal alien",
        "visa overstay",
        "ＩＣＥ request",
        "I\u200bCE request",
        "had an abortion, search for female",
        "mifepristone delivery",
        "gender-affirming care",
    ],
)
def test_prohibited_purposes_are_refused(rules: TextRules, text: str) -> None:
    assert ("prohibited_purpose", "refuse") in fired(rules, text)


@pytest.mark.parametrize(
    "text",
    [
        "ice cream van broken into overnight",
        "black ice collision, suspect fled",
        "theft of ice machine",
        "police service call",
        "Alice reported theft",
        "notice to appear",
        "burglary of a church on 5th",
        "vandalism at the synagogue",
        "felony child abduction warrant, parental abduction PC 278",
        "removal of abandoned vehicle",
        "suspect removed plates",
        "Marshall Street shooting",
        "detained suspect named this vehicle",
        "Deportivo soccer club bus stolen",
        "theft of personal property from vehicle",
        "burglary reported in March",
    ],
)
def test_hard_negatives_raise_nothing(rules: TextRules, text: str) -> None:
    assert fired(rules, text) == set()


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("inv", "vague_justification"),
        ("check", "vague_justification"),
        ("24-001234 case", "vague_justification"),
        ("PC 459", "vague_justification"),
        ("No Kings rally vehicles", "protected_activity"),
        ("mosque attendees parking lot", "protected_activity"),
        ("custody dispute with ex", "non_criminal_use"),
        ("repo company asked", "non_criminal_use"),
        ("my ex's new car", "personal_use"),
        ("B/M in hoodie", "profiling"),
        ("Venezuelan crew burglaries", "profiling"),
        ("assist US Marshals", "federal_or_out_of_state_proxy"),
        ("Texas DPS request", "federal_or_out_of_state_proxy"),
    ],
)
def test_flag_worthy_texts_are_flagged_not_refused(rules: TextRules, text: str, rule: str) -> None:
    found = fired(rules, text)
    assert (rule, "flag") in found
    assert not any(action == "refuse" for _, action in found)


def test_case_number_typed_as_the_reason(rules: TextRules) -> None:
    assert ("vague_justification", "flag") in fired(rules, "Case 26-004512", "26-004512")
    assert fired(rules, "stolen vehicle, case 26-004512", "26-004512") == set()


@pytest.mark.parametrize("text", ["", " ", ".", "x", "12345", "?!", "24-001234", "10-851"])
def test_junk_is_refused(rules: TextRules, text: str) -> None:
    assert is_junk(normalise_text(text))
    assert ("vague_justification", "refuse") in fired(rules, text)


def test_matches_name_the_words_and_order_refusals_first(rules: TextRules) -> None:
    matches = scan(rules, "per HSI request, overstay")
    assert matches[0].rule == "prohibited_purpose" and matches[0].action == "refuse"
    assert set(matches[0].matched) >= {"HSI", "overstay"}


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"bogus": 1}, "bogus"),
        ({"rules": {"x": {"action": "ban"}}}, "rules.x.action"),
        ({"rules": {"x": {"severity": "extreme"}}}, "rules.x.severity"),
        ({"rules": {"x": {"terms": "ice"}}}, "rules.x.terms"),
        ({"rules": {"x": {"patterns": ["("]}}}, "rules.x"),
        ({"rules": {"x": {"colour": "red"}}}, "rules.x.colour"),
        ({"junk": {"action": "ignore"}}, "junk.action"),
    ],
)
def test_config_errors_name_the_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_text_rules(table, "rules.toml")


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_scan_never_raises_and_is_deterministic(text: str) -> None:
    rules = load_text_rules(tomllib.loads(RULES_FILE.read_text()), str(RULES_FILE))
    assert scan(rules, text) == scan(rules, text)


LEGIT = [
    "stolen vehicle reported by owner",
    "armed robbery suspect vehicle",
    "missing elderly man with dementia",
    "hit and run felony injury suspect",
]
FILLER = st.lists(
    st.sampled_from(
        [
            "near",
            "Main",
            "St",
            "overnight",
            "witness",
            "camera",
            "suspect",
            "vehicle",
            "blue",
            "sedan",
            "report",
            "filed",
        ]
    ),
    max_size=8,
)


@settings(max_examples=100)
@given(st.sampled_from(LEGIT), FILLER, st.booleans())
def test_unrelated_words_and_case_never_make_a_legitimate_reason_prohibited(
    base: str, filler: list[str], upper: bool
) -> None:
    rules = load_text_rules(tomllib.loads(RULES_FILE.read_text()), str(RULES_FILE))
    text = " ".join([base, *filler])
    text = text.upper() if upper else text
    assert not any(m.action == "refuse" for m in scan(rules, text))


@given(
    st.sampled_from(["ICE asked us to find this car", "per HSI request", "immigration hold"]),
    FILLER,
)
def test_prohibited_stays_prohibited_with_unrelated_words(base: str, filler: list[str]) -> None:
    rules = load_text_rules(tomllib.loads(RULES_FILE.read_text()), str(RULES_FILE))
    assert any(m.rule == "prohibited_purpose" for m in scan(rules, " ".join([base, *filler])))
