"""Plate normalisation: one rule, used at ingest and at search, so the blind index matches.

Rule (README, "Plate normalisation"): Unicode NFKC (full-width characters become ASCII), remove
all whitespace and dashes (ASCII and Unicode dashes), upper-case; the result must be 1 to 10
ASCII letters or digits. Anything else is refused rather than guessed at.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_STRIP = re.compile(r"[\s\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d]+")
_VALID = re.compile(r"[A-Z0-9]{1,10}", re.ASCII)
PLATE_RULE = "must be 1 to 10 letters or digits once spaces and dashes are removed"


def normalise_plate(raw: str) -> str:
    """Return the normalised plate or raise ValueError (whose message never echoes the value)."""
    if len(raw) <= 10 and raw.isascii() and raw.isalnum():
        # What cameras send: ASCII letters and digits only, which NFKC and the stripping leave
        # as they are. (An ASCII string's isalnum() is [A-Za-z0-9]+, so it is never empty.)
        return raw.upper()
    text = _STRIP.sub("", unicodedata.normalize("NFKC", raw))
    # ASCII check before upper-casing: "ß".upper() is "SS", which would be another plate.
    if not text.isascii():
        raise ValueError(PLATE_RULE)
    text = text.upper()
    if not _VALID.fullmatch(text):
        raise ValueError(PLATE_RULE)
    return text


@dataclass(frozen=True)
class Plate:
    """A normalised plate that never shows itself in a repr, a log line or a traceback."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Plate(<redacted>)"

    __str__ = __repr__

    @classmethod
    def parse(cls, raw: str) -> Plate:
        return cls(normalise_plate(raw))
