"""Plate normalisation: one rule at ingest and at search, so the blind index always matches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpr_guard.policy.plates import PLATE_RULE, Plate, normalise_plate
from alpr_guard.schemas import normalise_confidence

PLATES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=10)
NOISE = st.sampled_from(["", " ", "-", "  ", " - ", "\u2013", "\t", "\u00a0"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7abc123", "7ABC123"),
        ("7 ABC 123", "7ABC123"),
        ("7-abc-123", "7ABC123"),
        (" 7ABC123 ", "7ABC123"),
        ("７ＡＢＣ１２３", "7ABC123"),
        ("7\u2013ABC\u2014123", "7ABC123"),
    ],
)
def test_normalisation_rule(raw: str, expected: str) -> None:
    assert normalise_plate(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "--", "7ABC#123", "ABCDEFGHIJK", "7ÅBC123", "ß"])
def test_invalid_plates_are_refused_without_echoing_them(raw: str) -> None:
    with pytest.raises(ValueError, match="letters or digits") as info:
        normalise_plate(raw)
    assert str(info.value) == PLATE_RULE


@given(PLATES, st.lists(NOISE, min_size=11, max_size=11), st.booleans())
def test_spacing_dashes_and_case_never_change_the_plate(
    plate: str, noise: list[str], lower: bool
) -> None:
    typed = "".join(n + ch for n, ch in zip(noise, plate, strict=False)) + noise[-1]
    typed = typed.lower() if lower else typed
    assert normalise_plate(typed) == plate


@given(st.text(max_size=30))
def test_normalisation_is_idempotent_or_refuses(raw: str) -> None:
    try:
        once = normalise_plate(raw)
    except ValueError:
        return
    assert normalise_plate(once) == once
    assert (once.isascii() and once.isalnum() and once.isupper()) or once.isdigit()


def test_plate_never_shows_in_repr_or_str() -> None:
    plate = Plate.parse("7ABC123")
    assert "7ABC123" not in repr(plate)
    assert "7ABC123" not in str(plate)
    assert "7ABC123" not in repr([plate, {"p": plate}])


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), (0.87, 0.87), (1, 1), (87, 0.87), (100, 1)])
def test_confidence_is_normalised_to_a_fraction(raw: float, expected: float) -> None:
    assert normalise_confidence(raw) == pytest.approx(expected)


@pytest.mark.parametrize("raw", [-0.1, 100.5])
def test_confidence_out_of_range(raw: float) -> None:
    with pytest.raises(ValueError, match="between"):
        normalise_confidence(raw)
