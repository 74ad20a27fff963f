"""Text-rule paths the shipped California rules do not take on their own, each shown with a small
table of its own: case-sensitive phrases with numbers and prefixes, phrases sharing a number slot,
the loader's last refusals, rules given as a read-only mapping, misspellings too far from a word,
the bounded repair memo, a junk reason beside a case number that fires the vague rule, and two
dotted letters next to a slash."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import pytest

from alpr_guard.errors import ConfigError
from alpr_guard.policy.text_rules import (
    JUNK_RULE,
    TextMatch,
    TextRules,
    load_text_rules,
    scan,
    words_of,
)

WHERE = "t.toml"


def rules_with(*entries: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {
        "rules": {
            "sample": {"action": "flag", "severity": "low", "match": list(entries)},
        },
        **top,
    }


def fired(rules: TextRules, text: str, case_number: str | None = None) -> set[str]:
    return {m.rule for m in scan(rules, text, case_number)}


def test_case_sensitive_phrases_with_a_number_and_a_prefix_match_in_case() -> None:
    rules = load_text_rules(
        rules_with({"terms": ["HSI <num>", "per DEPORT*"], "case_sensitive": True}), WHERE
    )
    assert fired(rules, "ref HSI 2025") == {"sample"}  # any number in the number slot
    assert fired(rules, "ref hsi 2025") == set()
    assert fired(rules, "ref HSI twelve") == set()
    assert fired(rules, "per DEPORTATION") == {"sample"}
    assert fired(rules, "per DEPORTATION", None) == fired(rules, "per DEPORTED")
    assert fired(rules, "per Deportation") == set()  # the prefix is matched in case too
    assert fired(rules, "Per DEPORTATION") == set()


def test_phrases_sharing_a_number_slot_both_match() -> None:
    rules = load_text_rules(rules_with({"terms": ["case <num> open", "case <num> closed"]}), WHERE)
    for text in ("case 12 open", "case 12 closed"):
        [match] = scan(rules, text)
        assert match.rule == "sample" and match.matched == (text,)
    assert fired(rules, "case 12 pending") == set()


def test_a_table_that_is_not_a_table_is_named_by_its_source_alone() -> None:
    with pytest.raises(ConfigError) as info:
        load_text_rules(["rules"], WHERE)  # type: ignore[arg-type]
    assert info.value.message == "t.toml: must be a table"


def test_an_alternation_that_expands_too_far_is_refused() -> None:
    letters = "|".join("abcdefghijklmnopqrstuvwxyz")
    table = rules_with({"terms": [f"{{{letters}}} {{{letters}}} {{{letters}}} {{{letters}}}"]})
    with pytest.raises(ConfigError) as info:
        load_text_rules(table, WHERE)
    assert info.value.message == (
        "t.toml: rules.sample.match[0].terms[0]: expands to 456976 phrases (at most 20000)"
    )
    fits = rules_with({"terms": [f"{{{letters}}} {{{letters}}} x"]})  # 676 phrases
    assert fired(load_text_rules(fits, WHERE), "q z x") == {"sample"}


@pytest.mark.parametrize(
    ("vague", "key", "why"),
    [
        ({"whole_text": {"pattern": "x+"}}, "whole_text", "must be an array of tables"),
        ({"whole_text": [{"pattern": "", "label": "l"}]}, "whole_text[0].pattern", "non-empty"),
        ({"whole_text": [{"pattern": 3, "label": "l"}]}, "whole_text[0].pattern", "non-empty"),
        ({"whole_text": [{"label": "l"}]}, "whole_text[0].pattern", "non-empty"),
    ],
)
def test_bad_whole_text_entries_are_refused(vague: dict[str, Any], key: str, why: str) -> None:
    table = rules_with({"terms": ["x"]})
    table["rules"][JUNK_RULE] = {"action": "flag", "severity": "low", **vague}
    with pytest.raises(ConfigError) as info:
        load_text_rules(table, WHERE)
    assert info.value.message.startswith(f"t.toml: rules.{JUNK_RULE}.{key}: ")
    assert why in info.value.message


def test_rules_that_are_not_plain_toml_data_are_compiled_each_time() -> None:
    table = rules_with({"terms": ["deport*"]})
    plain = load_text_rules(table, WHERE)
    assert load_text_rules(copy.deepcopy(table), WHERE) is plain  # compiled once
    proxy = MappingProxyType(table)  # not JSON data: no cache key
    first, second = load_text_rules(proxy, WHERE), load_text_rules(proxy, WHERE)
    assert first is not second and first is not plain
    for rules in (first, second):
        assert scan(rules, "deported") == scan(plain, "deported")
        assert fired(rules, "depot") == set()


def test_a_misspelling_is_repaired_only_within_its_edit_budget() -> None:
    table = rules_with({"terms": ["patrol"]}, fuzzy={"words": ["patrol", "patrol"]})
    rules = load_text_rules(table, WHERE)  # the same word twice is indexed once
    assert rules.fuzzy["patrl"] == ("patrol",)
    assert fired(rules, "border patrl") == {"sample"}  # one letter dropped
    assert fired(rules, "border patrolx") == {"sample"}  # one letter added
    assert fired(rules, "border patrolxx") == set()  # two letters: too far for a short word
    assert scan(rules, "border patrolx")[0].matched == ("patrolx",)  # as typed


def test_the_repair_memo_is_bounded() -> None:
    rules = load_text_rules(rules_with({"terms": ["patrol"]}, fuzzy={"words": ["patrol"]}), WHERE)
    words = [str(n) for n in range(60_000)]
    assert len(words) > 50_000  # every distinct word as typed is remembered, up to 50,000
    assert fired(rules, "stolen car seen at " + " ".join(words)) == set()
    assert 0 < len(rules.fixes) < len(words)  # cleared once full, not grown past the bound
    assert fired(rules, "patrl seen") == {"sample"}  # and repairs still work afterwards
    assert len(rules.fixes) <= 50_000


def test_a_junk_reason_is_one_finding_even_when_the_case_number_fires_the_vague_rule() -> None:
    table = rules_with({"terms": ["x"]})
    table["rules"][JUNK_RULE] = {
        "action": "flag",
        "severity": "low",
        "words": ["inv"],
        "match": [{"terms": ["tbd"]}],
    }
    rules = load_text_rules(table, WHERE)
    assert scan(rules, "inv") == (TextMatch(JUNK_RULE, "low", "flag", ("inv",)),)
    assert scan(rules, "tbd") == (TextMatch(JUNK_RULE, "low", "flag", ("tbd",)),)
    assert scan(rules, "stolen car", "TBD") == (TextMatch(JUNK_RULE, "low", "flag", ("TBD",)),)
    # A junk reason: the junk match speaks for the rule, whatever the case number field adds.
    assert scan(rules, ".", "TBD") == (
        TextMatch(JUNK_RULE, "medium", "refuse", ("punctuation only",)),
    )


def test_two_dotted_letters_next_to_a_slash_stay_apart() -> None:
    assert words_of("ab C.D") == ("ab", "cd")
    assert words_of("ab/C.D") == ("ab", "c", "d")
    assert words_of("C.D/ab") == ("c", "d", "ab")
    assert words_of("ab/C.D.E") == ("ab", "cde")  # three letters join whatever is beside them


def test_a_digit_and_a_lower_case_l_in_a_capitals_acronym_are_both_read_as_letters() -> None:
    # "H5l": 5 for S and a lower-case L for I, in a word typed in capitals, reads as HSI.
    rules = load_text_rules(rules_with({"terms": ["hsi"]}), WHERE)
    assert fired(rules, "per H5l agent") == {"sample"}
    assert fired(rules, "per H5x agent") == set()
