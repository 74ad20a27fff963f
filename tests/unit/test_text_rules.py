"""Justification text rules: the hard cases from the real logs, the config contract, properties.

Everything here runs against the shipped California rules (config/rules.california.toml) unless a
test builds its own small table to show that a behaviour comes from configuration, not code.
"""

from __future__ import annotations

import copy
import csv
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from alpr_guard.errors import ConfigError
from alpr_guard.policy.text_rules import (
    ACTIONS,
    JUNK_RULE,
    SEVERITIES,
    TextMatch,
    TextRules,
    load_text_rules,
    scan,
    words_of,
)

REPO = Path(__file__).resolve().parents[2]
RULES_FILE = REPO / "config" / "rules.california.toml"
DATA = REPO / "tests" / "data" / "justifications.csv"
RAW: dict[str, Any] = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
RULES = load_text_rules(RAW, str(RULES_FILE))

PROHIBITED = "prohibited_purpose"
PROXY = "federal_or_out_of_state_proxy"
PROTECTED = "protected_activity"
NON_CRIMINAL = "non_criminal_use"
PERSONAL = "personal_use"
PROFILING = "profiling"


def codes(text: str, case_number: str | None = None, rules: TextRules = RULES) -> set[str]:
    return {m.rule for m in scan(rules, text, case_number)}


def by_rule(text: str, case_number: str | None = None) -> dict[str, TextMatch]:
    return {m.rule: m for m in scan(RULES, text, case_number)}


def order_key(m: TextMatch) -> tuple[int, int, str]:
    return (ACTIONS.index(m.action), SEVERITIES.index(m.severity), m.rule)


# --------------------------------------------------------------------------- ICE and immigration


@pytest.mark.parametrize(
    "text",
    [
        "ICE asked us to find this car",
        "ice asked us to find this car",  # lower case next to an agency word
        "per ice agent",
        "ICE WARRANT",  # all capitals: decided by the agency word, not by case
        "ICE",
        "ice",  # typed alone as the reason
        "assist I.C.E. with a detainer",
        "I C E",
        "i.c.e",
        "I. C. E. hold",
        "H.S.I.",
        "C.B.P.",
        "ICE/HSI",
        "ICE-ERO",
        "\uff29\uff23\uff25 request",  # fullwidth
        "I\u200bCE request",  # zero-width space inside the word
        "im\u200dmigration",  # zero-width joiner
        "immig",
        "immigr.",
        "inmigración",
        "inmigracion",
        "la migra",
        "deportación",
        "deportacion",
        "287(g) task force",
        "287g",
        "undocumented",
        "illegal alien",
        "overstay",
        "DHS request",  # decision: DHS is Homeland Security unless health/human services near
        "Border Patrol asked",
        "USCIS",
        "subject has final order of removal",
        "had an abortion, search for female",
        "abortion pills shipped, locate vehicle",
        "mifepristone delivery",
        "gender-affirming care investigation",
        "transition care for minor",
        "terminated her pregnancy",
    ],
)
def test_prohibited_purposes_are_refused(text: str) -> None:
    match = by_rule(text).get(PROHIBITED)
    assert match is not None, text
    assert match.action == "refuse" and match.severity == "high"
    assert match.matched


@pytest.mark.parametrize(
    "text",
    [
        "ice cream van broken into overnight",
        "ICE CREAM TRUCK VANDALIZED",
        "black ice collision, hit and run",
        "BLACK ICE CRASH, DRIVER FLED",
        "ice rink parking lot burglary",
        "iced coffee shop robbery",
        "police service call, price notice posted",
        "Alice reported her car stolen",
        "ice machine theft",
        "STOLEN VEHICLE, ICE BLUE ACCORD",  # capitals alone say nothing about the agency
        "VEH SLID ON ICE, DRIVER FLED",
        "suspect sold ice to undercover, vehicle used in sales",  # methamphetamine
        "known meth user looking for ice, warrant for possession",
        "suspect impersonating ICE officer to extort victims",  # a California crime
        "notario fraud, suspect posing as immigration consultant",
        "victim's phone lists an ICE contact, locate next of kin",
        "anti-ICE protest vehicles",  # protected activity, not enforcement
        "removal of abandoned vehicle",
        "suspect removed plates from stolen car",
        "removal order for abandoned vehicle on private property",
        "detained suspect fled in vehicle",
        "suspect fled toward the Oregon border, armed robbery warrant",
        "DHS nurse assaulted in hospital parking lot",
        "unlawful detainer served, tenant assaulted landlord",
        "undocumented firearm recovered",
        "arson at abortion clinic, suspect vehicle",
        "threats against abortion provider, suspect vehicle identified",
    ],
)
def test_look_alikes_are_not_prohibited(text: str) -> None:
    assert PROHIBITED not in codes(text), text


def test_matched_words_are_reported_as_typed_after_normalisation() -> None:
    assert by_rule("assist I.C.E. with a detainer")[PROHIBITED].matched == ("I.C.E", "detainer")
    assert by_rule("ICE/HSI joint op")[PROHIBITED].matched == ("ICE", "HSI")
    assert by_rule("inmigración")[PROHIBITED].matched == ("inmigracion",)
    assert by_rule("\uff29\uff23\uff25")[PROHIBITED].matched == ("ICE",)
    # the longer phrase wins over the phrase it contains
    assert by_rule("my ex wife")[PERSONAL].matched == ("my ex wife",)


# --------------------------------------------------------------------------- other rules


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("No Kings rally vehicles", PROTECTED),
        ("vehicles at the march", PROTECTED),
        ("mosque attendees", PROTECTED),
        ("synagogue attendees", PROTECTED),
        ("church members", PROTECTED),
        ("reporter who wrote article about dept", PROTECTED),
        ("clinic visitors", PROTECTED),
        ("political signs on vehicle", PROTECTED),
        ("custody dispute", NON_CRIMINAL),
        ("civil matter", NON_CRIMINAL),
        ("repo", NON_CRIMINAL),
        ("bail bond", NON_CRIMINAL),
        ("parking study", NON_CRIMINAL),
        ("traffic study", NON_CRIMINAL),
        ("school residency", NON_CRIMINAL),
        ("my car", PERSONAL),
        ("my ex", PERSONAL),
        ("girlfriend's car", PERSONAL),
        ("girlfriends car", PERSONAL),
        ("my wife", PERSONAL),
        ("neighbor I know", PERSONAL),
        ("checking on my daughter", PERSONAL),
        ("B/M", PROFILING),
        ("H/M", PROFILING),
        ("W/M in truck", PROFILING),
        ("Venezuelan crew", PROFILING),
        ("suspicious traveler", PROFILING),
        ("develop PC", PROFILING),
        ("develop P.C.", PROFILING),
        ("interdiction", PROFILING),
        ("out of state plates looking suspicious", PROFILING),
    ],
)
def test_flag_rules(text: str, rule: str) -> None:
    match = by_rule(text).get(rule)
    assert match is not None, (text, scan(RULES, text))
    assert match.action == "flag"


@pytest.mark.parametrize(
    "text",
    [
        "burglary of a church",
        "vandalism at the synagogue",
        "theft from mosque donation box",
        "church van stolen from parking lot",
        "Church Street burglary",
        "Temple City burglary",
        "felony child abduction warrant, parental abduction PC 278",
        "PC 278.5 deprivation of custody, child concealed",
        "Marshall Street burglary suspect vehicle",
        "fire marshal arson investigation",
        "Nevada County Sheriff BOLO for stolen truck",  # a California county
        "NCIC entry by Texas DPS for stolen vehicle, confirm hit",
        "ATF trace on recovered firearm",
        "suspect ID via FBI number in CII",
        "my partner and I observed vehicle fleeing",
        "suspect struck my car during pursuit",
        "suspect's girlfriend's car used in burglary",
        "robbery suspect described as H/M 20s, red hoodie",  # a suspect description
        "stolen vehicle with out of state plates, victim report",
        "stolen vehicle, March 3, owner reported",
        "burglary occurred in March, suspect vehicle",
        "theft of campaign signs from yard, suspect pickup",
        "reporter's car broken into at newspaper office",
        "mandated reporter child abuse referral, locate parent",
        "290 registrant residency verification, failed to register",
        "fake repo agent stole vehicle from driveway",
        "personal property stolen from vehicle",
        "Vehicle reported stolen from Main St lot, report on file",
        "459 PC commercial burglary",
    ],
)
def test_hard_negatives_raise_nothing(text: str) -> None:
    assert scan(RULES, text) == (), text


def test_protest_site_crime_is_still_flagged_decision() -> None:
    # Decision (documented in the config): a crime at a protest is still flagged for review,
    # because the people present were exercising a right and "protest" reasons are how attendee
    # sweeps appear in the logs; a place of worship as a crime victim is not flagged.
    text = "stolen vehicle recovered at protest site, owner reported theft"
    assert codes(text) == {PROTECTED}
    assert codes("burglary of a church") == set()


# --------------------------------------------------------------------------- junk and vague


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("", "blank"),
        ("   \t\n", "blank"),
        ("\u200b", "blank"),
        (".", "punctuation only"),
        ("?!", "punctuation only"),
        ("#", "punctuation only"),
        ("x", "single character"),
        ("x.", "single character"),
        ("0042", "digits only"),
        ("1234567", "digits only"),
        ("10851", "digits only"),
    ],
)
def test_junk_is_refused_with_a_label_not_the_text(text: str, label: str) -> None:
    (match,) = scan(RULES, text, "26-004512")
    assert match == TextMatch(JUNK_RULE, "medium", "refuse", (label,))


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("inv", ("inv",)),
        ("Inv.", ("inv",)),
        ("investigation", ("investigation",)),
        ("check", ("check",)),
        ("sus", ("sus",)),
        ("other", ("other",)),
        ("n/a", ("n", "a")),
        ("test", ("test",)),
        ("per sgt", ("per", "sgt")),
        ("reason for search", ("reason", "for", "search")),
        ("24-001234", ("case number",)),
        ("CR25-004412", ("case number",)),
        ("10-851", ("radio code",)),
        ("11-99", ("radio code",)),
        ("aaaa", ("repeated keystroke",)),
        ("inv2", ("code typed as the reason",)),
        ("criminal investigation", ("criminal", "investigation")),
    ],
)
def test_vague_reasons_are_flagged(text: str, matched: tuple[str, ...]) -> None:
    assert scan(RULES, text) == (TextMatch(JUNK_RULE, "low", "flag", matched),)


def test_the_case_number_typed_as_the_reason_is_vague() -> None:
    vague = TextMatch(JUNK_RULE, "low", "flag", ("case number",))
    assert scan(RULES, "24-001234", "24-001234") == (vague,)
    # digits only, but they are the case number: vague, not junk
    assert scan(RULES, "0042", "0042") == (vague,)
    assert scan(RULES, "case # 0042", "0042") == (
        TextMatch(JUNK_RULE, "low", "flag", ("case", "case number")),
    )
    assert scan(RULES, "stolen vehicle, case 0042", "0042") == ()


def test_the_case_number_field_is_scanned_but_never_junk() -> None:
    assert scan(RULES, "stolen vehicle", "26-004512") == ()
    assert scan(RULES, "stolen vehicle", "") == ()
    assert codes("stolen vehicle", "HSI-2025-0042") == {PROHIBITED}


def test_order_is_refuse_then_severity_then_code() -> None:
    matches = scan(RULES, "ICE asked, FBI also on it, my ex, B/M")
    assert [m.rule for m in matches] == [PROHIBITED, PROXY, PERSONAL, PROFILING]
    assert matches == tuple(sorted(matches, key=order_key))


# --------------------------------------------------------------------------- configuration

MINIMAL: dict[str, Any] = {
    "lists": {"agency_words": ["agent*", "asked"]},
    "rules": {
        "sample": {
            "action": "flag",
            "severity": "low",
            "exclude": ["ice cream"],
            "match": [{"terms": ["ice"], "after": ["@agency_words"], "window": 2}],
        }
    },
}


def table(**changes: Any) -> dict[str, Any]:
    """A copy of MINIMAL with dotted keys replaced (or removed when the value is ...)."""
    result = copy.deepcopy(MINIMAL)
    for dotted, value in changes.items():
        node: Any = result
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return result


def test_exclusions_and_contexts_come_from_the_config() -> None:
    rules = load_text_rules(MINIMAL, "t.toml")
    assert codes("ice agents on scene", rules=rules) == {"sample"}
    assert codes("ice asked", rules=rules) == {"sample"}
    assert codes("ice cream agent", rules=rules) == set()  # excluded
    assert codes("ice on the road", rules=rules) == set()  # no context
    # without the exclusion the same text fires: nothing is hard-coded
    loose = load_text_rules(table(rules__sample__exclude=[]), "t.toml")
    assert codes("ice cream agent", rules=loose) == {"sample"}


@pytest.mark.parametrize(
    ("entry", "fires", "quiet"),
    [
        ({"terms": ["ICE"], "case_sensitive": True}, ["per ICE"], ["per ice", "Ice"]),
        (
            {"terms": ["ICE"], "case_sensitive": True, "skip_if_all_caps": True},
            ["per ICE"],
            ["PER ICE"],
        ),
        ({"terms": ["ice"], "alone": True}, ["ice", " ICE. "], ["ice cold"]),
        ({"terms": ["deport*"]}, ["deported", "deportation"], ["depot", "report"]),
        ({"terms": ["case <num>"]}, ["case 12"], ["case twelve"]),
        ({"terms": ["{a|b} crew"]}, ["a crew", "b crew"], ["c crew"]),
        ({"terms": ["my {|own} car"]}, ["my car", "my own car"], ["my red car"]),
        ({"terms": ["@agency_words"]}, ["agents", "asked"], ["ask"]),
        ({"terms": ["march"], "not_after": ["<num>"]}, ["the march"], ["march 3"]),
        ({"terms": ["march"], "before": ["the"]}, ["the march"], ["march the"]),
        ({"terms": ["march"], "after": ["on"]}, ["march on"], ["on march"]),
        ({"terms": ["church"], "near": ["members"]}, ["church members"], ["church"]),
        (
            {"terms": ["church"], "near": ["members"], "not_near": ["stolen"], "window": 2},
            ["church members"],
            ["stolen church members", "church members stolen"],
        ),
        (
            {"terms": ["ice"], "not_near": ["meth"], "window": 1, "not_window": 3},
            ["ice", "meth is in on ice"],
            ["meth a ice"],
        ),
        ({"terms": ["car"], "not_before": ["his"]}, ["car his"], ["his car"]),
        ({"patterns": [r"\bb/m\b"]}, ["B/M"], ["BM", "b/mx"]),
        ({"patterns": [r"\bICE\b"], "case_sensitive": True}, ["ICE"], ["ice"]),
    ],
)
def test_entry_options(entry: dict[str, Any], fires: list[str], quiet: list[str]) -> None:
    rules = load_text_rules(table(rules__sample__match=[entry]), "t.toml")
    for text in fires:
        assert codes(text, rules=rules) == {"sample"}, text
    for text in quiet:
        assert codes(text, rules=rules) == set(), text


def test_junk_is_refused_even_without_a_vague_table() -> None:
    rules = load_text_rules(MINIMAL, "t.toml")
    assert scan(rules, " . ") == (TextMatch(JUNK_RULE, "medium", "refuse", ("punctuation only",)),)
    assert scan(rules, "inv") == ()  # no word list configured: nothing is vague


def test_the_brief_example_message() -> None:
    raw = copy.deepcopy(RAW)
    raw["rules"]["profiling"]["severity"] = "urgent"
    with pytest.raises(ConfigError) as info:
        load_text_rules(raw, "config/california.toml: screening")
    assert info.value.message == (
        "config/california.toml: screening.rules.profiling.severity: "
        "must be one of high, medium, low"
    )


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"rules": ...}, "rules"),
        ({"rules": {}}, "rules"),
        ({"rules": []}, "rules"),
        ({"lists": []}, "lists"),
        ({"lists__Bad": ["x"]}, "lists.Bad"),
        ({"lists__other": ["@agency_words"]}, "lists.other[0]"),
        ({"lists__other": [""]}, "lists.other[0]"),
        ({"rules__Bad-Code": {}}, "rules.Bad-Code"),
        ({"rules__sample__colour": "red"}, "rules.sample.colour"),
        ({"rules__sample__words": ["inv"]}, "rules.sample.words"),
        ({"rules__sample__action": "block"}, "rules.sample.action"),
        ({"rules__sample__action": ...}, "rules.sample.action"),
        ({"rules__sample__severity": 3}, "rules.sample.severity"),
        ({"rules__sample__description": 3}, "rules.sample.description"),
        ({"rules__sample__exclude": "ice cream"}, "rules.sample.exclude"),
        ({"rules__sample__exclude": ["!!!"]}, "rules.sample.exclude[0]"),
        ({"rules__sample__match": []}, "rules.sample.match"),
        ({"rules__sample__match": {"terms": ["x"]}}, "rules.sample.match"),
        ({"rules__sample__match__0__terms": ...}, "rules.sample.match[0]"),
        ({"rules__sample__match__0__colour": 1}, "rules.sample.match[0].colour"),
        ({"rules__sample__match__0__terms": ["ice", 3]}, "rules.sample.match[0].terms[1]"),
        ({"rules__sample__match__0__terms": ["@nope"]}, "rules.sample.match[0].terms[0]"),
        ({"rules__sample__match__0__terms": ["{a|@nope}"]}, "rules.sample.match[0].terms[0]"),
        ({"rules__sample__match__0__terms": ["{a|{b}}"]}, "rules.sample.match[0].terms[0]"),
        ({"rules__sample__match__0__terms": ["a*b"]}, "rules.sample.match[0].terms[0]"),
        ({"rules__sample__match__0__terms": ["ab*"]}, "rules.sample.match[0].terms[0]"),
        ({"rules__sample__match__0__after": ["<num>*"]}, "rules.sample.match[0].after[0]"),
        ({"rules__sample__match__0__window": 0}, "rules.sample.match[0].window"),
        ({"rules__sample__match__0__window": True}, "rules.sample.match[0].window"),
        ({"rules__sample__match__0__not_window": 99}, "rules.sample.match[0].not_window"),
        ({"rules__sample__match__0__alone": "yes"}, "rules.sample.match[0].alone"),
        ({"rules__sample__match__0__patterns": ["(unclosed"]}, "match[0].patterns[0]"),
        ({"rules__sample__match__0__patterns": ["x?"]}, "rules.sample.match[0].patterns[0]"),
        (
            {"rules__vague_justification": {"action": "flag", "severity": "low", "words": ["a b"]}},
            "rules.vague_justification.words[0]",
        ),
        (
            {
                "rules__vague_justification": {
                    "action": "flag",
                    "severity": "low",
                    "whole_text": [{"pattern": "x+", "label": ""}],
                }
            },
            "rules.vague_justification.whole_text[0].label",
        ),
        (
            {
                "rules__vague_justification": {
                    "action": "flag",
                    "severity": "low",
                    "junk_action": "ignore",
                }
            },
            "rules.vague_justification.junk_action",
        ),
    ],
)
def test_bad_config_names_the_key(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_text_rules(table(**changes), "config/california.toml: screening")
    message = info.value.message
    assert message.startswith("config/california.toml: screening")
    assert key in message
    assert "\n" not in message


def test_a_bare_file_name_prefixes_messages_with_a_colon() -> None:
    with pytest.raises(ConfigError) as info:
        load_text_rules(table(rules__sample__severity="x"), "rules.toml")
    assert info.value.message.startswith("rules.toml: rules.sample.severity: ")


# --------------------------------------------------------------------------- properties

ARBITRARY = settings(max_examples=400, deadline=None)

# Words whose meaning does not depend on case, and filler around them. Not "ICE" (capitals are
# the agency), nor single letters: capitals separated by spaces are joined ("I C E", "A A A").
CASELESS_WORDS = [
    "immigration", "deportation", "HSI", "per", "FBI", "protest", "mosque", "attendees", "my",
    "ex", "custody", "dispute", "B/M", "stolen", "vehicle", "burglary", "church", "of", "an",
    "inv", "suspect", "Venezuelan", "crew", "Texas", "DPS", "out", "state", "plates", "the",
    "march", "3", "repo", "girlfriend's", "car", "develop", "PC", "victim", "Marshall", "street",
]  # fmt: skip
WHITESPACE = st.text(alphabet=" \t\n\r\u00a0\u2003\u3000", min_size=1, max_size=4)

# Ordinary words and trap words that carry no prohibited meaning, in any order, next to any text.
NEUTRAL_WORDS = [
    "stolen", "vehicle", "burglary", "suspect", "fled", "northbound", "sedan", "police",
    "service", "price", "notice", "Alice", "iced", "removed", "detained", "border", "Marshall",
    "Street", "report", "victim", "witness", "camera", "lot", "black", "cream", "truck", "rink",
    "Oregon", "collision", "church", "members", "nurse", "health", "custody",
    # (not "warrant": "removal warrant" is ICE's warrant of removal, form I-205; not "clinic":
    # the base texts name other states, and another state's plate or warrant next to a clinic,
    # "fled to Arizona, warrant issued clinic", is what the reproductive-care entries look for)
    "removal", "crossing", "status", "robbery", "hit", "and", "run", "DUI",
    "Nevada", "County", "white", "male", "on", "the", "at", "#", "2026", "PC", "459",
]  # fmt: skip


def legitimate_texts() -> list[str]:
    with DATA.open(newline="", encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh) if row["label"] == "legitimate"]


def rule_codes(matches: Iterable[TextMatch]) -> set[str]:
    return {m.rule for m in matches}


@ARBITRARY
@given(st.text(), st.one_of(st.none(), st.text(max_size=30)))
def test_scan_never_raises_and_is_well_formed(text: str, case_number: str | None) -> None:
    matches = scan(RULES, text, case_number)
    assert isinstance(matches, tuple)
    assert list(matches) == sorted(matches, key=order_key)
    assert len({m.rule for m in matches}) == len(matches)
    for m in matches:
        assert m.rule in RULES.codes
        assert m.action in ACTIONS and m.severity in SEVERITIES
        assert m.matched and all(isinstance(w, str) and w for w in m.matched)


RELOADED = load_text_rules(tomllib.loads(RULES_FILE.read_text(encoding="utf-8")), "again")


@ARBITRARY
@given(st.text(max_size=200))
def test_scan_is_deterministic(text: str) -> None:
    assert scan(RULES, text) == scan(RULES, text) == scan(RELOADED, text)


@ARBITRARY
@given(
    st.lists(st.sampled_from(CASELESS_WORDS), min_size=1, max_size=12),
    st.lists(WHITESPACE, min_size=12, max_size=12),
)
# A slash pair after the "s" of "girlfriend's": once joined into an acronym in capitals ("MBM")
# but not in lower case ("w/" shorthand), which moved the descriptor out of a victim's window.
@example(["girlfriend's", "B/M", "B/M", "B/M", "church", "victim"], [" "] * 12)
@example(["stolen", "B/M", "girlfriend's", "B/M", "B/M"], [" "] * 12)
@example(["car", "girlfriend's", "B/M", "B/M", "girlfriend's", "mosque", "suspect"], [" "] * 12)
def test_case_and_whitespace_do_not_change_the_rules(words: list[str], gaps: list[str]) -> None:
    plain = " ".join(words)
    spaced = "".join(w + gap for w, gap in zip(words, gaps, strict=False))
    expected = rule_codes(scan(RULES, plain))
    assert rule_codes(scan(RULES, plain.upper())) == expected
    assert rule_codes(scan(RULES, plain.lower())) == expected
    assert rule_codes(scan(RULES, plain.title())) == expected
    assert rule_codes(scan(RULES, spaced)) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("girlfriend's B/M B/M B/M church victim", "girlfriend s b m b m b m church victim"),
        ("stolen B/M girlfriend's B/M B/M", "stolen b m girlfriend s b m b m"),
        ("boyfriend's W/F H/M, W/M at the park", "boyfriend s w f h m w m at the park"),
        ("I.C.E W/SUBJ", "ice w subj"),
        ("I C E/H S I", "ice hsi"),
        ("I-C-E/H-S-I", "ice hsi"),
    ],
)
def test_slash_pairs_are_read_the_same_in_any_case(text: str, words: str) -> None:
    # A descriptor "B/M" next to a lone letter (the "s" of "girlfriend's") is a pair of its own
    # in any case: it was joined with the letters around it into an acronym ("SBM", "MBM") in
    # capitals but not in lower case (where "b/" read as shorthand), which moved the words out
    # of a victim's window and so changed the decision.
    for variant in (text, text.lower(), text.upper(), text.title()):
        assert " ".join(words_of(variant)) == words, variant
    if "/M" in text:
        expected = rule_codes(scan(RULES, text))
        assert expected == {PROFILING}
        for variant in (text.lower(), text.upper(), text.title()):
            assert rule_codes(scan(RULES, variant)) == expected, variant


@ARBITRARY
@given(st.lists(st.sampled_from(CASELESS_WORDS), min_size=1, max_size=8), st.data())
def test_zero_width_characters_inside_words_change_nothing(words: list[str], data: Any) -> None:
    plain = " ".join(words)
    hidden = "".join(c + ("\u200b" if data.draw(st.booleans()) else "") for c in plain)
    assert rule_codes(scan(RULES, hidden)) == rule_codes(scan(RULES, plain))


@ARBITRARY
@given(
    st.sampled_from(legitimate_texts()),
    st.lists(st.sampled_from(NEUTRAL_WORDS), max_size=6),
    st.lists(st.sampled_from(NEUTRAL_WORDS), max_size=6),
)
def test_adding_unrelated_words_creates_no_prohibited_match(
    base: str, head: list[str], tail: list[str]
) -> None:
    text = " ".join([*head, base, *tail])
    assert PROHIBITED not in rule_codes(scan(RULES, text)), text


def test_every_legitimate_text_stays_clean_next_to_a_lower_case_word() -> None:
    # Exhaustive companion of the property above: a lower-case word makes an all-capitals text
    # mixed-case, so "ICE" in it counts as the agency again unless an exclusion covers it.
    dirty = [
        text
        for base in legitimate_texts()
        for text in (f"stolen {base}", f"{base} per report", f"Alice {base}")
        if PROHIBITED in rule_codes(scan(RULES, text))
    ]
    assert dirty == []


# Known limitation, found by this property: an exclusion is a collocation, so a word that forms
# one with the reason masks it ("black ICE asked ..." reads as black ice, as "anti-ICE protest"
# must read as a protest). "black" is left out here for that reason only.
NOT_COLLOCATING = [w for w in NEUTRAL_WORDS if w != "black"]


@ARBITRARY
@given(
    # (not "abortion": next to a crime word such as "burglary" the clinic is the victim)
    st.sampled_from(["ICE asked for the location", "per HSI", "immigration detainer", "287(g)"]),
    st.lists(st.sampled_from(NOT_COLLOCATING), max_size=6),
    st.lists(st.sampled_from(NOT_COLLOCATING), max_size=6),
)
def test_a_prohibited_reason_stays_prohibited_among_other_words(
    reason: str, head: list[str], tail: list[str]
) -> None:
    text = " ".join([*head, reason, *tail])
    assert PROHIBITED in rule_codes(scan(RULES, text)), text


def test_the_collocation_limitation_is_real() -> None:
    # Documented above: if this starts failing, the limitation is gone; update the comment.
    assert PROHIBITED not in codes("black ICE asked for the location")


def test_a_pattern_only_of_letters_outside_ascii_is_skipped_for_ascii_text_only() -> None:
    rules = load_text_rules(
        table(
            rules__sample__match=[
                {"patterns": ["集会|示威"]},  # only letters outside ASCII: ASCII text skips it
                {"patterns": ["protest|集会"]},  # an ASCII alternative: tried on every text
            ]
        ),
        "t.toml",
    )
    assert rules.non_ascii_only == frozenset({0})
    assert scan(rules, "plates at the 示威 on Main") != ()
    assert scan(rules, "plates at the protest") != ()
    assert scan(rules, "plates at the parade") == ()
