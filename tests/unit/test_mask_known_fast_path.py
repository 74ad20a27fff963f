"""``mask_known`` skips a plate that cannot occur in the text without compiling its pattern:
the skip must never change the result. Compared with the pattern applied unconditionally, on
texts that hold the plate in any spelling (case, separators, full-width, the dotted capital I
that IGNORECASE matches to I) and on texts that do not."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from alpr_guard.policy import redaction
from alpr_guard.policy.redaction import MASK, mask_known

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SEPARATORS = ["", " ", "-", "\u2013", "\u2212", "\u3000", "\t", "  "]
NOISE = st.text(
    alphabet=st.sampled_from([*ALNUM.lower(), *ALNUM, " ", "-", ",", ".", "\u0130", "\u0131"]),
    max_size=30,
)


def reference(text: str, plates: list[str]) -> str:
    text = unicodedata.normalize("NFKC", text)
    for plate in sorted(set(plates), key=len, reverse=True):
        if plate:
            text = redaction._plate_pattern(plate).sub(MASK, text)
    return text


@st.composite
def typed(draw: st.DrawFn, plate: str) -> str:
    out = []
    for i, letter in enumerate(plate):
        if i:
            out.append(draw(st.sampled_from(SEPARATORS)))
        form = draw(st.sampled_from(["same", "lower", "wide", "dotted"]))
        ch = letter
        if form == "lower":
            ch = letter.lower()
        elif form == "wide":
            ch = chr(ord(letter) + 0xFEE0)
        elif form == "dotted" and letter == "I":
            ch = "\u0130"
        out.append(ch)
    return "".join(out)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_skip_never_changes_what_is_masked(data: st.DataObject) -> None:
    plates = data.draw(
        st.lists(st.text(alphabet=st.sampled_from(ALNUM), min_size=1, max_size=8), max_size=3)
    )
    parts = [data.draw(NOISE)]
    for plate in plates:
        if data.draw(st.booleans()):
            parts += [data.draw(typed(plate)), data.draw(NOISE)]
    text = " ".join(parts)
    assert mask_known(text, plates) == reference(text, plates)


def test_a_plate_typed_with_a_dotted_capital_i_is_masked() -> None:
    assert mask_known("seen 7\u0130BC 123 near", ["7IBC123"]) == "seen [plate] near"


def test_a_plate_not_in_the_text_compiles_no_pattern() -> None:
    redaction._plate_pattern.cache_clear()
    assert mask_known("owner called re stolen car", ["8XYZ987"]) == "owner called re stolen car"
    assert redaction._plate_pattern.cache_info().currsize == 0
    assert mask_known("owner saw 8xyz-987", ["8XYZ987"]) == "owner saw [plate]"
    assert redaction._plate_pattern.cache_info().currsize == 1
