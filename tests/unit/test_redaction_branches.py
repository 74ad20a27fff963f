"""Masking plates typed into free text, pure: each part of the rule in policy.redaction, the
windows' length budget, runs cut by punctuation, the case-number exception and known plates."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpr_guard.policy.redaction import MASK, mask_known, mask_text

CASE = r"[0-9]{2}-[0-9]{6}"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # No digit at all: nothing is plate-shaped.
        ("Blue Honda near Main St", "Blue Honda near Main St"),
        # A chunk mixing letters and digits, whatever its length (a plate, a VIN).
        ("Stolen car 7ABC123 seen", "Stolen [plate] seen"),
        ("VIN 1HGCM82633A004352 towed", "VIN [plate] towed"),
        # Chunks joined by separators into a mixed window of at most 10: one mask over the span.
        ("7 A B C 1 2 3", MASK),
        ("plate 7abc-123.", "[plate]."),
        ("Reported at 1234 Main Street", "Reported [plate] Street"),
        ("room 101", MASK),
        # Full-width characters are read after NFKC.
        ("see \uff14\uff21\uff22\uff23\uff11\uff12\uff13", MASK),
    ],
)
def test_plate_shaped_chunks_and_windows_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "12345678901",  # digits only and longer than any plate
        "Supercalifragilistic 5",  # the word alone is over budget
        "ABCDEFGHI 12",  # 9 + 2 letters and digits: over budget together
        "ABC, 123",  # punctuation ends a run: no mixed window
        "count 12345678",  # 5 + 8: over budget
    ],
)
def test_windows_longer_than_a_plate_or_cut_by_punctuation_stay(text: str) -> None:
    assert mask_text(text) == text


def test_only_the_window_within_the_budget_is_masked() -> None:
    # "A 1" is a plate-shaped window; "ABCDEFGHIJ 1" is eleven characters and is not.
    assert mask_text("A 1, then ABCDEFGHIJ 1") == "[plate], then ABCDEFGHIJ 1"


def test_a_case_number_stays_readable_unless_it_is_part_of_a_plate_shaped_window() -> None:
    assert mask_text("case 26-004512 closed", (), CASE) == "case 26-004512 closed"
    assert mask_text("AB 26-004512", (), CASE) == MASK
    assert mask_text("AB 26-004512") == MASK  # without the pattern, all the more so
    mixed = r"[A-Z]{2}[0-9]{2,8}"
    assert mask_text("(AB12)", (), mixed) == "(AB12)"  # a mixed case number, alone
    assert mask_text("case AB12345678, ok", (), mixed) == "case AB12345678, ok"  # 4 + 10 > 10
    assert mask_text("ref AB12 only", (), mixed) == MASK  # "ref AB12" is plate-shaped
    assert mask_text("ref AB12 only") == MASK


def test_case_patterns_that_match_nothing_readable_change_nothing() -> None:
    # A match without letters or digits is kept as it is; "note" and "5" are each next to it
    # but the kept "#" between them holds neither letters nor digits, so they are two windows.
    assert mask_text("note # 5", (), r"#") == "[plate] # [plate]"
    # Empty matches of a pattern are ignored; its non-empty match is an ordinary window.
    assert mask_text("x 12", (), r"x?") == MASK
    assert mask_text("in progress 12", (), r"x?") == "in [plate]"


def test_known_plates_are_masked_in_any_spelling_whatever_their_shape() -> None:
    text = "vanity LOVEYOU and 1234567, also love you"
    assert mask_text(text, ("LOVEYOU", "1234567", "")) == (
        "vanity [plate] and [plate], also [plate]"
    )
    assert mask_known("seen 7abc 123 and abc123 and \uff15XYZ", ("7ABC123", "ABC123", "5XYZ")) == (
        "seen [plate] and [plate] and [plate]"
    )
    # The longer plate is masked first, so a shorter one inside it leaves no remainder.
    assert mask_known("ABC123 ABC", ("ABC", "ABC123")) == "[plate] [plate]"
    assert mask_known("nothing here", ("",)) == "nothing here"  # an empty plate masks nothing


_MIXED = re.compile(r"[A-Za-z0-9]+")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["7", "ABC", "123", "a", "road", "5", "-", " ", ",", ".", "Main", "x9"]),
        max_size=14,
    )
)
def test_no_mixed_chunk_survives_and_masking_twice_changes_nothing(parts: list[str]) -> None:
    text = "".join(parts)
    once = mask_text(text)
    for chunk in _MIXED.findall(once):
        assert chunk.isdigit() or chunk.isalpha(), (text, once)
    assert mask_text(once) == once
