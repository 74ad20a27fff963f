"""Behavioural misuse rules over one user's search history (ACCESS_REVIEW.md).

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
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta


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


@dataclass(frozen=True)
class BehaviourFinding:
    search_id: uuid.UUID
    rule: str
    severity: str
    figures: Mapping[str, object]


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
    findings: list[BehaviourFinding] = []
    repeated_window = timedelta(days=rules.repeated_window_days)
    recent_by_target: dict[str, deque[datetime]] = defaultdict(deque)
    hours: Counter[int] = Counter()
    per_day: Counter[date] = Counter()

    for seen, fact in enumerate(history):
        at = fact.created_at
        day = at.date()
        per_day[day] += 1
        report = at >= since

        if not fact.has_case_number:
            recent = recent_by_target[fact.terms_token]
            recent.append(at)
            while recent and at - recent[0] > repeated_window:
                recent.popleft()
            if report and len(recent) >= rules.repeated_min_searches:
                findings.append(
                    BehaviourFinding(
                        fact.search_id,
                        "repeated_target_no_case",
                        rules.severities["repeated_target_no_case"],
                        {
                            "searches_of_target": len(recent),
                            "window_days": rules.repeated_window_days,
                        },
                    )
                )

        if report:
            count = per_day[day]
            own = _own_baseline(per_day, day, rules.spike_baseline_days)
            peers = peer_daily_median.get(day, 0.0)
            usual = max(own, peers, 1.0)

            threshold = max(float(rules.spike_min_searches) - 1, rules.spike_factor * usual)

            # Flag the one search that tips the day over, so every run (and a re-run that
            # starts mid-day) names the same search: one finding per user per day.
            if count > threshold >= count - 1:
                findings.append(
                    BehaviourFinding(
                        fact.search_id,
                        "volume_spike",
                        rules.severities["volume_spike"],
                        {
                            "searches_today": count,
                            "own_daily_baseline": round(own, 2),
                            "peer_daily_median": round(peers, 2),
                            "factor": rules.spike_factor,
                        },
                    )
                )

        if report and seen >= rules.off_hours_min_history:
            share = hours[at.hour] / seen
            if share < rules.off_hours_max_share:
                findings.append(
                    BehaviourFinding(
                        fact.search_id,
                        "off_hours",
                        rules.severities["off_hours"],
                        {
                            "hour_utc": at.hour,
                            "share_of_past_searches": round(share, 4),
                            "past_searches": seen,
                        },
                    )
                )
        hours[at.hour] += 1
    return findings


def _own_baseline(per_day: Mapping[date, int], day: date, days: int) -> float:
    """Mean searches per day over the preceding ``days`` days, idle days counted as zero,
    but only from the user's first active day (a new user has no idle history)."""
    first = min(per_day)
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
