"""The classes of miss a blind set found, generalised (not the strings it used).

Engine: misspellings of the configured agency and act words ([fuzzy]) are read as the word, and
list items may hold alternatives. California rules: detention facilities and checkpoints by
name, status and removal paraphrases, out-of-state, private and federal requesters named in the
text, and the flag classes (terse reasons, personal grudges, meetings, courier profiling). Every
class has texts beyond the blind set's own, and hard legitimate texts that must stay clean.
"""

from __future__ import annotations

import copy
import gc
import random
import string
import time
import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpr_guard.errors import ConfigError
from alpr_guard.policy.decisions import ReasonCode
from alpr_guard.policy.text_rules import load_text_rules, scan
from alpr_guard.settings import Settings
from tests.unit.screening_cases import RULES_FILE, decide

RAW: dict[str, Any] = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
RULES = load_text_rules(RAW, str(RULES_FILE))


# --------------------------------------------------------------------------- engine: [fuzzy]


def small(fuzzy: dict[str, Any] | None = None, **lists: list[str]) -> dict[str, Any]:
    table: dict[str, Any] = {
        "lists": dict(lists),
        "rules": {
            "prohibited_purpose": {
                "action": "refuse",
                "severity": "high",
                "match": [{"terms": ["border patrol", "immigration", "deport*", "detainer"]}],
            }
        },
    }
    if fuzzy is not None:
        table["fuzzy"] = fuzzy
    return table


FUZZY = {
    "words": ["border", "patrol", "immigration", "deport", "detainer"],
    "never": ["depart", "detained"],
}


@pytest.mark.parametrize(
    "text",
    [
        "boarder patrol",  # a letter added
        "bordr patrl",  # letters dropped, a five-letter word typed
        "border ptarol",  # two letters swapped
        "immgration",  # one dropped from a long word
        "imigrasion",  # two edits of a word of nine letters or more
        "IMMGRATION HOLD",  # capitals
        "deprot",  # a swap in a six-letter word
        "detaner on file",
    ],
)
def test_misspellings_of_fuzzy_words_are_read_as_the_word(text: str) -> None:
    rules = load_text_rules(small(FUZZY), "t.toml")
    assert [m.rule for m in scan(rules, text)] == ["prohibited_purpose"], text
    # without the [fuzzy] table the same text passes: the repair is what catches it
    assert scan(load_text_rules(small(), "t.toml"), text) == (), text


@pytest.mark.parametrize(
    "text",
    [
        "suspect departed the scene",  # "depart" is listed under never
        "detained subject",  # never
        "order patrol",  # another first letter
        "imnigrxtiom",  # three edits
        "patrol",  # the word itself: not a phrase alone
        "boarder at the house",  # repaired to "border", which triggers nothing alone
    ],
)
def test_ordinary_words_near_a_fuzzy_word_are_left_alone(text: str) -> None:
    rules = load_text_rules(small(FUZZY), "t.toml")
    assert scan(rules, text) == (), text


def test_never_and_short_words() -> None:
    rules = load_text_rules(small(FUZZY), "t.toml")
    assert scan(rules, "depot") != ()  # five letters, one edit of "deport": repaired...
    never = copy.deepcopy(FUZZY)
    never["never"].append("depot")
    assert scan(load_text_rules(small(never), "t.toml"), "depot") == ()  # ...unless listed
    assert scan(rules, "dept") == ()  # four letters: never looked at
    assert scan(rules, "7BORDR1 patrol") == ()  # not all letters: a plate is never a word


@pytest.mark.parametrize(
    ("fuzzy", "key"),
    [
        ({"words": ["border"], "colour": 1}, "fuzzy.colour"),
        ({"words": "border"}, "fuzzy.words"),
        ({"words": ["border patrol"]}, "fuzzy.words[0]"),
        ({"words": ["bord"]}, "fuzzy.words[0]"),
        ({"words": ["abc123"]}, "fuzzy.words[0]"),
        ({"words": ["customs"]}, "fuzzy.words[0]"),  # no phrase has it: nothing to repair to
        ({"never": [""]}, "fuzzy.never[0]"),
    ],
)
def test_a_bad_fuzzy_table_names_the_key(fuzzy: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_text_rules(small(fuzzy), "t.toml")
    assert f"t.toml: {key}:" in str(err.value)


def test_list_items_may_hold_alternatives_and_lists_defined_above() -> None:
    table = small(states=["texas", "nevada"], who=["{policia|sheriff} de {@states}"])
    table["rules"]["prohibited_purpose"]["match"] = [{"terms": ["@who"]}]
    rules = load_text_rules(table, "t.toml")
    assert scan(rules, "policia de Nevada")[0].matched == ("policia de Nevada",)
    assert scan(rules, "sheriff de texas") != ()
    assert scan(rules, "policia de Oregon") == ()
    # a list may only use lists defined above it, so lists never refer to each other in a circle
    backwards = small(who=["{policia} de {@states}"], states=["texas"])
    with pytest.raises(ConfigError, match=r"lists\.who\[0\]: names no list in \[lists\]"):
        load_text_rules(backwards, "t.toml")


@given(st.data())
def test_any_one_edit_of_a_long_word_is_caught(data: Any) -> None:
    # "immigration" with one letter (not the first) dropped, added, changed or swapped with the
    # next: every such spelling is refused in a sentence.
    word = "immigration"
    k = data.draw(st.integers(1, len(word) - 1))
    c = data.draw(st.sampled_from(string.ascii_lowercase))
    kind = data.draw(st.sampled_from(["drop", "add", "change", "swap"]))
    if kind == "drop":
        typed = word[:k] + word[k + 1 :]
    elif kind == "add":
        typed = word[:k] + c + word[k:]
    elif kind == "change":
        typed = word[:k] + c + word[k + 1 :]
    else:
        k = min(k, len(word) - 2)
        typed = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    text = f"{typed} hold on the driver"
    assert any(m.rule == "prohibited_purpose" and m.action == "refuse" for m in scan(RULES, text))


def test_misspelling_repair_stays_linear() -> None:
    """Every word different (so the per-word memo never helps): four times the words cost about
    four times the time."""
    rng = random.Random(7)

    def words(n: int) -> str:
        return " ".join(
            "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 14)))
            for _ in range(n)
        )

    def cost(n: int) -> float:
        best = float("inf")
        gc.collect()
        gc.disable()
        try:
            for _ in range(5):
                text = words(n)  # fresh words every round
                RULES.fixes.clear()
                # CPU time of this thread: on a shared machine, waiting for a CPU is not cost
                t0 = time.thread_time()
                scan(RULES, text)
                best = min(best, time.thread_time() - t0)
        finally:
            gc.enable()
        return best

    small_, large = cost(1_000), cost(4_000)
    assert large / small_ < 8, (small_, large)


# --------------------------------------------------------------------------- California rules


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # misspelt agency and act words
        ("boarder patrol chula vista stn wants hits", ReasonCode.PROHIBITED_PURPOSE),
        ("bordr patrl req", ReasonCode.PROHIBITED_PURPOSE),
        ("Boarder Patroll agent asked for the reads", ReasonCode.PROHIBITED_PURPOSE),
        ("immgration", ReasonCode.PROHIBITED_PURPOSE),
        ("deportaton case, locate", ReasonCode.PROHIBITED_PURPOSE),
        ("custums officer request", ReasonCode.PROHIBITED_PURPOSE),
        # programmes, status and removal paraphrases
        ("S-Comm match, locate", ReasonCode.PROHIBITED_PURPOSE),
        ("removal case, subject vehicle", ReasonCode.PROHIBITED_PURPOSE),
        ("deportation hearing no-show, find car", ReasonCode.PROHIBITED_PURPOSE),
        ("undoc'd RO", ReasonCode.PROHIBITED_PURPOSE),
        ("verify RO's legal presence in US", ReasonCode.PROHIBITED_PURPOSE),
        ("driver has no papers, locate", ReasonCode.PROHIBITED_PURPOSE),
        ("confirm occupant's lawful status", ReasonCode.PROHIBITED_PURPOSE),
        # detention facilities and checkpoints by name
        ("Otay Mesa detention ctr request", ReasonCode.PROHIBITED_PURPOSE),
        ("Adelanto processing center walkaway, locate", ReasonCode.PROHIBITED_PURPOSE),
        ("Golden State Annex release, family car", ReasonCode.PROHIBITED_PURPOSE),
        ("Temecula checkpoint agents want hits", ReasonCode.PROHIBITED_PURPOSE),
        ("helping the green uniforms at the checkpoint", ReasonCode.PROHIBITED_PURPOSE),
        ("San Clemente checkpoint referral", ReasonCode.PROHIBITED_PURPOSE),
        # the requester named in the text
        ("NYPD det called, wants hits", ReasonCode.OUT_OF_STATE_AGENCY),
        ("pidió la policía de Arizona", ReasonCode.OUT_OF_STATE_AGENCY),
        ("for Chicago PD homicide", ReasonCode.OUT_OF_STATE_AGENCY),
        ("for our Nevada partners", ReasonCode.OUT_OF_STATE_AGENCY),
        ("on behalf of State Farm SIU", ReasonCode.PRIVATE_ENTITY),
        ("for a PI client", ReasonCode.PRIVATE_ENTITY),
        ("requested by Recovery Plus repo agent", ReasonCode.PRIVATE_ENTITY),
        ("for the bail agent", ReasonCode.PRIVATE_ENTITY),
        ("USPIS inspector request", ReasonCode.FEDERAL_AGENCY),
        ("per the feebs", ReasonCode.FEDERAL_AGENCY),
        ("for HHS OIG", ReasonCode.FEDERAL_AGENCY),
        # 300 North Los Angeles Street houses ICE's Los Angeles field office: the address names
        # the immigration agency, and a prohibited purpose is named before the beneficiary
        ("for our federal partners at 300 N Los Angeles St", ReasonCode.PROHIBITED_PURPOSE),
        ("for our federal partners at the Roybal building", ReasonCode.FEDERAL_AGENCY),
        # second round, variations of the same classes
        ("check if driver is legal", ReasonCode.PROHIBITED_PURPOSE),
        ("detention center walkaway Adelanto", ReasonCode.PROHIBITED_PURPOSE),
        ("Calexico station agents asked", ReasonCode.PROHIBITED_PURPOSE),
        ("green and whites want reads", ReasonCode.PROHIBITED_PURPOSE),
        ("San Ysidro POE request", ReasonCode.PROHIBITED_PURPOSE),
        ("for Maricopa deputies", ReasonCode.OUT_OF_STATE_AGENCY),
        ("Carfax request", ReasonCode.PRIVATE_ENTITY),
        ("for Enterprise rental loss prevention", ReasonCode.PRIVATE_ENTITY),
        ("skip tracer asked", ReasonCode.PRIVATE_ENTITY),
        # third round
        ("CPB wants hits", ReasonCode.PROHIBITED_PURPOSE),
        ("fed partners on removal", ReasonCode.PROHIBITED_PURPOSE),
        ("removal warrant subject", ReasonCode.PROHIBITED_PURPOSE),
        ("no green card locate", ReasonCode.PROHIBITED_PURPOSE),
        ("alphabet boys asked", ReasonCode.FEDERAL_AGENCY),
        ("our fed partners want hits", ReasonCode.FEDERAL_AGENCY),
        ("federal building guys asked", ReasonCode.FEDERAL_AGENCY),
        ("Vegas PD request", ReasonCode.OUT_OF_STATE_AGENCY),
        ("for an agency in Idaho", ReasonCode.OUT_OF_STATE_AGENCY),
        ("Mercury Insurance investigator", ReasonCode.PRIVATE_ENTITY),
        ("bail enforcement agent asked", ReasonCode.PRIVATE_ENTITY),
        ("tow yard wants owner info", ReasonCode.PRIVATE_ENTITY),
    ],
)
def test_the_classes_the_blind_set_found_are_refused(
    settings: Settings, text: str, code: ReasonCode
) -> None:
    assert decide(settings, text)[0] == code, (text, decide(settings, text))


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("ck plate", "vague_justification"),
        ("routine", "vague_justification"),
        ("random spot check", "vague_justification"),
        ("attendees of the anti-ALPR council mtg", "protected_activity"),
        ("cars at the police commission meeting", "protected_activity"),
        ("anti flock group members", "protected_activity"),
        ("neighbor keeps parking in my spot", "personal_use"),
        ("bro-in-law's truck", "personal_use"),
        ("guy who cut me off on the way in to work", "personal_use"),
        ("driver flipped me off on my commute", "personal_use"),
        ("out of state rental on 101, typical courier pattern", "profiling"),
        ("third party rental on the I-5 corridor", "profiling"),
        ("Gypsy crew", "profiling"),
        ("Irish Travellers group", "profiling"),
        ("FBI bulletin stolen veh recovered by our unit", "federal_or_out_of_state_proxy"),
        ("daughter's boyfriend's car", "personal_use"),
        ("landlord of my rental", "personal_use"),
        ("car full of Mexicans", "profiling"),
        ("drug courier southbound", "profiling"),
        ("for a friend", "personal_use"),
        ("kids from the wrong side of town", "profiling"),
        ("Reno PD recovered our stolen veh 10851", "federal_or_out_of_state_proxy"),
    ],
)
def test_the_flag_classes_the_blind_set_found_are_flagged(
    settings: Settings, text: str, rule: str
) -> None:
    code, flags = decide(settings, text)
    assert code is None and rule in flags, (text, code, flags)


@pytest.mark.parametrize(
    "text",
    [
        "594 PC vandalism at immigration law office on Broadway, susp veh",
        "459 PC at immigration legal services center, susp veh",
        "graffiti removal case on Elm",
        "encampment removal case follow up",
        "DUI checkpoint at Temecula Pkwy, stolen veh hit",
        "suspect departed in white sedan",
        "detained suspect's associate vehicle 26-1",
        "bus depot robbery susp veh",
        "custom wheels stolen off Civic",
        "State Farm office burglary susp veh",
        "PI TC hit and run susp veh",
        "police commission meeting theft of laptop",
        "anti-theft device tampered 10851",
        "Nevada County deputies assist on our 10851",
        "Adelanto PD mutual aid stolen veh",
        "Mesa Verde Dr burglary suspect vehicle",
        "victim's sister-in-law's car stolen",
        "suspect cut off victim then assaulted him 245",
        "boarder at the victim's house is the burglary suspect",
        "federal express van stolen",
        "immigration office burglarized",
        "check if window tint is legal",
        "Chula Vista PD mutual aid 10851",
        "stolen veh crossed at San Ysidro, 10851 victim report",
        "Hertz rental stolen 10851",
        "juvenile detention center escapee, our warrant",
        "suspect's daughter's boyfriend's car used in 211",
        "witness saw two Hispanics in the car flee the 211",
        "FedEx driver victim of 211",
        "green card found in recovered stolen wallet 487",
        "tow yard burglary susp veh",
        "Mercury sedan stolen 10851",
        "progressive lane closure crash hit and run",
    ],
)
def test_hard_legitimate_texts_stay_clean(settings: Settings, text: str) -> None:
    assert decide(settings, text) == (None, set()), text


def test_the_same_rules_are_compiled_once_and_a_change_compiles_anew() -> None:
    table = small(FUZZY)
    first = load_text_rules(table, "t.toml")
    assert load_text_rules(copy.deepcopy(table), "t.toml") is first
    changed = copy.deepcopy(table)
    changed["rules"]["prohibited_purpose"]["match"][0]["terms"].append("removal case")
    again = load_text_rules(changed, "t.toml")
    assert again is not first and scan(again, "removal case") != ()
    assert scan(first, "removal case") == ()
    # a bad table still fails every time (errors are never remembered)
    bad = copy.deepcopy(table)
    bad["fuzzy"]["words"] = ["bord"]
    for _ in range(2):
        with pytest.raises(ConfigError):
            load_text_rules(bad, "t.toml")
