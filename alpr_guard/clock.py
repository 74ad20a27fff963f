"""Time comes from a Clock so that retention and expiry rules can be tested at exact instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def ensure_utc(value: datetime, field: str = "datetime") -> datetime:
    """Naive datetimes are refused: an ALPR read's time must never be guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must carry a timezone")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:59:59-14:00 is a valid ISO 8601 string whose UTC instant is past the
        # last one a datetime can hold (and 0001-01-01T00:00:00+00:01 before the first).
        raise ValueError(f"{field} is outside the supported range (years 1-9999 in UTC)") from None
