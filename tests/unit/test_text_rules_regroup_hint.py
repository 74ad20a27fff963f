"""The cheap test for a word split apart (``_regroup_hint``) says yes exactly when the single
pattern it replaced found a match: it only skips the places where no match can start."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from alpr_guard.policy.text_rules.match import _regroup_hint

# The one alternation the hint used to be.
REFERENCE = re.compile(
    r"[^\W\d_][-_.*~/|+:=\\\u2022\u00b7]{1,3}[^\W\d_]"
    r"|(?<![^\W_])[0134578][-_.*~/|+:=\\\u2022\u00b7]{1,3}[^\W\d_]"
    r"|[^\W\d_][-_.*~/|+:=\\\u2022\u00b7]{1,3}[0134578](?![^\W_])"
    r"|\b[A-Z]{1,3} [A-Z]{1,3}\b|(?<![^\W_])[^\W\d_] [^\W\d_] [0134578](?![^\W_])"
)
ALPHABET = "aIcEh01349 .-_/*\\\u2022\u00b7|+:=~ÉÅ"


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=24))
@example("I-C-E")
@example("i.c.e w/ subj")
@example("3-ice")
@example("x3-ice")
@example("HS I")
@example("a b 3")
@example("a----b")
@example("per ICE request")
def test_the_hint_agrees_with_the_single_pattern(text: str) -> None:
    assert _regroup_hint(text) == bool(REFERENCE.search(text))
