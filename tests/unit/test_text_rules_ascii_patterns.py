"""The normaliser's two gate tests have ASCII twins (``_SINGLES_ASCII``, ``_RUN3_ASCII``) used on a
text all in ASCII: there they must find a match exactly when the Unicode patterns do."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from alpr_guard.policy.text_rules.normalise import (
    _RUN3,
    _RUN3_ASCII,
    _SINGLES,
    _SINGLES_ASCII,
    _field,
)

ALPHABET = "aIcEeh019 .-_/*\\|+:=~#,'"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=24))
@example("I-C-E")
@example("I_C_E")
@example("i . c . e")
@example("a1 b")
@example("x a b")
@example("ICEEE")
@example("eee")
@example("111")
def test_the_ascii_gates_agree_with_the_unicode_ones(text: str) -> None:
    assert bool(_SINGLES_ASCII.search(text)) == bool(_SINGLES.search(text))
    assert bool(_RUN3_ASCII.search(text)) == bool(_RUN3.search(text))


def test_the_gates_fire_on_what_they_are_for() -> None:
    assert _field("per I-C-E").low == ["per", "ice"]
    assert _field("ICEEE agent").low == ["ice", "agent"]
    assert _field("per I C E request").low == ["per", "ice", "request"]
