"""The rules of untrusted input shared by the API's models and the CLI: the field patterns,
time stamps, query integers and confidence. The request and response models themselves are
declared once, in ``api.models``; this module names no field and builds nothing.

Every message states the rule, never the offending value: a value may be a plate.
"""

from __future__ import annotations

import re
from datetime import datetime

from alpr_guard.clock import ensure_utc

CLIENT_ID_RE = re.compile(r"[\x21-\x7e]{1,128}")
REGION_RE = re.compile(r"[A-Z]{2,3}")
ORI_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{7}")
CASE_RE = re.compile(r"[\x20-\x7e]{1,64}")
HOT_LIST_RE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?")  # 1-64, no edge space
HOT_ENTRY_RE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?")  # 1-128
HIT_REQUIRED = 'must name the hot list and entry it matched: {"list": "...", "entry": "..."}'


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string with a timezone")
    try:
        parsed = datetime.fromisoformat(
            value.replace("Z", "+00:00") if value.endswith("Z") else value
        )
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time with a timezone") from None
    return ensure_utc(parsed, "value")


def query_int(raw: str, lo: int, hi: int) -> int | None:
    """A query-string integer within [lo, hi], or None. ASCII digits only: ``str.isdigit``
    accepts "²", which int() refuses, and int() refuses more than 4,300 digits."""
    if _QUERY_INT.fullmatch(raw) is None:
        return None
    value = int(raw)
    return value if lo <= value <= hi else None


_QUERY_INT = re.compile(r"[0-9]{1,18}")


def normalise_confidence(value: float) -> float:
    """Cameras report 0-1 or 0-100; both are stored as 0-1. Values above 1 are percentages."""
    if value < 0 or value > 100:
        raise ValueError("must be between 0 and 1, or between 0 and 100")
    return value / 100 if value > 1 else value


NUL = "\x00"


def storable(text: str) -> str:
    """Free text as it can be stored: PostgreSQL text holds no NUL character, so one in a
    refused attempt's text is kept as U+FFFD (the sealed original keeps every byte)."""
    return text.replace(NUL, "\ufffd")
