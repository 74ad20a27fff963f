"""Behavioural misuse rules over one user's search history (docs/access-review.md).

Pure functions: the review service streams each user's history in time order and feeds it here.
No single search is wrong on its face under these rules; the pattern is:

* ``repeated_target_no_case``: one user searching one plate again and again over weeks with no
  case number (stalking an ex looks like this in real logs).
* ``volume_spike``: a user far above both their own usual daily volume and their peers'.
* ``off_hours``: a search at an hour in which this user almost never works.

Thresholds come from the ``[review]`` config table; the figures that triggered a finding are
returned with it so an auditor can judge it.
"""

from __future__ import annotations

import statistics
import uuid
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast


@dataclass(frozen=True)
class BehaviourRules:
    repeated_min_searches: int
    repeated_window_days: int
    spike_factor: float
    spike_min_searches: int
    spike_baseline_days: int
    off_hours_min_history: int
    off_hours_max_share: float
    severities: Mapping[str, str]


@dataclass(frozen=True)
class AccessFact:
    search_id: uuid.UUID
    created_at: datetime
    terms_token: str
    has_case_number: bool


# One rule a search trips: (rule code, severity, the figures that triggered it).
Flag = tuple[str, str, dict[str, object]]


@dataclass(frozen=True)
class BehaviourFinding:
    search_id: uuid.UUID
    rule: str
    severity: str
    figures: Mapping[str, object]


class UserReview:
    """One user's behavioural state, fed their searches one at a time in ``created_at`` order.

    The review streams every user's history in a single pass over the access records, so each
    user's state is kept here between their searches. ``observe`` returns the findings for one
    search (reported only at or after ``since``; earlier history is baseline). The result is the
    same as ``review_user`` over the whole history: that function is a loop over this class.
    """

    __slots__ = (
        "_baseline",
        "_day",
        "_day_count",
        "_first_day",
        "_hours",
        "_last_sweep",
        "_recent",
        "_seen",
        "_threshold",
        "per_day",
        "rules",
        "since",
    )

    def __init__(self, rules: BehaviourRules, since: datetime) -> None:
        self.rules = rules
        self.since = since
        self.per_day: dict[date, int] = {}
        self._recent: dict[str, list[datetime]] = {}
        self._hours = [0] * 24
        self._seen = 0
        self._day: date | None = None
        self._first_day: date | None = None
        self._day_count = 0
        self._baseline: float | None = None  # own daily baseline for _day, once needed
        self._threshold: float | None = None  # spike threshold for _day, once needed
        self._last_sweep: datetime | None = None

    def observe(
        self, at: datetime, terms_token: str, has_case_number: bool, peer_daily_median: float
    ) -> list[Flag]:
        """The rules this search (the user's next) trips, as (rule, severity, figures).
        ``peer_daily_median`` is the median number of searches of the other users who
        searched on this search's UTC day."""
        rules = self.rules
        found: list[Flag] = []
        day = at.date()
        if day != self._day:
            self._new_day(day, at)
        self._day_count += 1
        count = self.per_day[day] = self._day_count
        report = at >= self.since

        if not has_case_number:
            recent = self._recent.get(terms_token)
            if recent is None:
                recent = self._recent[terms_token] = [at]
            else:
                recent.append(at)
                window = timedelta(days=rules.repeated_window_days)
                while at - recent[0] > window:
                    del recent[0]
            if report and len(recent) >= rules.repeated_min_searches:
                found.append(
                    (
                        "repeated_target_no_case",
                        rules.severities["repeated_target_no_case"],
                        {
                            "searches_of_target": len(recent),
                            "window_days": rules.repeated_window_days,
                        },
                    )
                )

        if report:
            threshold = self._threshold
            if threshold is None:
                # Earlier days are final once a day has begun: the baseline is per day.
                assert self._first_day is not None
                own = _own_baseline(self.per_day, self._first_day, day, rules.spike_baseline_days)
                usual = max(own, peer_daily_median, 1.0)
                threshold = max(float(rules.spike_min_searches) - 1, rules.spike_factor * usual)
                self._baseline, self._threshold = own, threshold
            # Flag the one search that tips the day over, so every run (and a re-run that
            # starts mid-day) names the same search: one finding per user per day.
            if count > threshold >= count - 1:
                found.append(
                    (
                        "volume_spike",
                        rules.severities["volume_spike"],
                        {
                            "searches_today": count,
                            "own_daily_baseline": round(cast(float, self._baseline), 2),
                            "peer_daily_median": round(peer_daily_median, 2),
                            "factor": rules.spike_factor,
                        },
                    )
                )

        seen = self._seen
        hour = at.hour
        if report and seen >= rules.off_hours_min_history:
            share = self._hours[hour] / seen
            if share < rules.off_hours_max_share:
                found.append(
                    (
                        "off_hours",
                        rules.severities["off_hours"],
                        {
                            "hour_utc": hour,
                            "share_of_past_searches": round(share, 4),
                            "past_searches": seen,
                        },
                    )
                )
        self._hours[hour] += 1
        self._seen = seen + 1
        return found

    def _new_day(self, day: date, at: datetime) -> None:
        self._day = day
        self._day_count = self.per_day.get(day, 0)
        self._baseline = self._threshold = None
        if self._first_day is None:
            self._first_day = day
        # Forget targets last searched more than a window ago: their next search would drop
        # those times anyway, so memory stays bounded by the window and nothing else changes.
        window = timedelta(days=self.rules.repeated_window_days)
        if self._last_sweep is None:
            self._last_sweep = at
        elif at - self._last_sweep > window:
            self._last_sweep = at
            stale = [t for t, times in self._recent.items() if at - times[-1] > window]
            for token in stale:
                del self._recent[token]


def review_user(
    history: Iterable[AccessFact],
    rules: BehaviourRules,
    *,
    since: datetime,
    peer_daily_median: Mapping[date, float],
) -> list[BehaviourFinding]:
    """Findings for one user's searches at or after ``since``; earlier history is baseline.

    ``history`` must be in ``created_at`` order. ``peer_daily_median`` is the median number of
    searches per searching user on each day (the peers' usual volume).
    """
    user = UserReview(rules, since)
    findings: list[BehaviourFinding] = []
    for fact in history:
        at = fact.created_at
        for rule, severity, figures in user.observe(
            at, fact.terms_token, fact.has_case_number, peer_daily_median.get(at.date(), 0.0)
        ):
            findings.append(BehaviourFinding(fact.search_id, rule, severity, figures))
    return findings


def _own_baseline(per_day: Mapping[date, int], first: date, day: date, days: int) -> float:
    """Mean searches per day over the preceding ``days`` days, idle days counted as zero,
    but only from the user's first active day ``first`` (a new user has no idle history)."""
    start = max(first, day - timedelta(days=days))
    span = (day - start).days
    if span <= 0:
        return 0.0
    total = sum(per_day.get(start + timedelta(days=n), 0) for n in range(span))
    return total / span


def peer_medians(daily_counts: Mapping[date, Mapping[int, int]], user: int) -> dict[date, float]:
    """Per day, the median number of searches of the *other* users who searched that day.

    Same-day peers keep a department-wide surge (an AMBER alert) from flagging everyone, and
    leaving the user out keeps a lone heavy searcher from being their own yardstick.
    """
    medians = {}
    for day, counts in daily_counts.items():
        others = [count for other, count in counts.items() if other != user]
        medians[day] = float(statistics.median(others)) if others else 0.0
    return medians


def day_peer_medians(counts: Mapping[int, int]) -> dict[int, float]:
    """One day of ``peer_medians`` at once: for each user who searched that day, the median
    number of searches of the other users who did (0.0 if nobody else did)."""
    ordered = sorted(counts.values())
    by_count: dict[int, float] = {}
    medians = {}
    for user, count in counts.items():
        median = by_count.get(count)
        if median is None:
            median = by_count[count] = _median_without(ordered, bisect_left(ordered, count))
        medians[user] = median
    return medians


def _median_without(ordered: Sequence[int], skip: int) -> float:
    """``statistics.median`` of sorted ``ordered`` without the value at index ``skip``."""
    n = len(ordered) - 1
    if n <= 0:
        return 0.0

    def at(k: int) -> int:
        return ordered[k] if k < skip else ordered[k + 1]

    if n % 2:
        return float(at(n // 2))
    return (at(n // 2 - 1) + at(n // 2)) / 2
