"""Behavioural review rules, pure: repeated target, volume spike, off hours."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from alpr_guard.policy.behaviour import AccessFact, BehaviourRules, peer_medians, review_user

RULES = BehaviourRules(
    repeated_min_searches=3,
    repeated_window_days=28,
    spike_factor=3.0,
    spike_min_searches=10,
    spike_baseline_days=28,
    off_hours_min_history=20,
    off_hours_max_share=0.01,
    severities={"repeated_target_no_case": "medium", "volume_spike": "medium", "off_hours": "low"},
)
T0 = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)


def fact(at: datetime, target: str = "t", case: bool = True) -> AccessFact:
    return AccessFact(uuid.uuid4(), at, target, case)


def rules_fired(history: list[AccessFact], since: datetime = T0) -> list[str]:
    return [f.rule for f in review_user(history, RULES, since=since, peer_daily_median={})]


def test_repeated_target_needs_three_in_the_window_without_a_case() -> None:
    weekly = [fact(T0 + timedelta(days=7 * n), "ex", case=False) for n in range(3)]
    assert rules_fired(weekly) == ["repeated_target_no_case"]
    spread = [fact(T0 + timedelta(days=20 * n), "ex", case=False) for n in range(3)]
    assert rules_fired(spread) == []
    with_case = [fact(T0 + timedelta(days=n), "ex", case=True) for n in range(5)]
    assert rules_fired(with_case) == []
    different = [fact(T0 + timedelta(days=n), f"p{n}", case=False) for n in range(5)]
    assert rules_fired(different) == []


def test_volume_spike_against_own_baseline_and_peers() -> None:
    usual = [fact(T0 + timedelta(days=d, minutes=m)) for d in range(28) for m in range(2)]
    burst_day = T0 + timedelta(days=28)
    burst = [fact(burst_day + timedelta(minutes=m)) for m in range(12)]
    history = usual + burst
    assert rules_fired(history, since=burst_day) == ["volume_spike"]
    # The whole department is busy that day: not this user's anomaly.
    busy = review_user(history, RULES, since=burst_day, peer_daily_median={burst_day.date(): 11.0})
    assert busy == []


def test_off_hours_only_with_enough_history() -> None:
    days = [fact(T0 + timedelta(days=d)) for d in range(25)]  # always 10:00
    night = fact(T0 + timedelta(days=26, hours=-7))  # 03:00
    assert rules_fired([*days, night], since=night.created_at) == ["off_hours"]
    assert rules_fired([*days[:5], night], since=night.created_at) == []


def test_history_before_since_is_baseline_only() -> None:
    weekly = [fact(T0 + timedelta(days=7 * n), "ex", case=False) for n in range(3)]
    assert rules_fired(weekly, since=T0 + timedelta(days=30)) == []


def test_peer_medians_leave_the_user_out() -> None:
    day = T0.date()
    counts = {day: {1: 40, 2: 4, 3: 6}}
    assert peer_medians(counts, 1) == {day: 5.0}
    assert peer_medians({day: {1: 40}}, 1) == {day: 0.0}


def test_one_volume_spike_finding_per_day_even_across_runs() -> None:
    usual = [fact(T0 + timedelta(days=d, minutes=m)) for d in range(28) for m in range(2)]
    burst_day = T0 + timedelta(days=28)
    burst = [fact(burst_day + timedelta(minutes=m)) for m in range(30)]
    first_run = review_user(usual + burst[:15], RULES, since=burst_day, peer_daily_median={})
    second_run = review_user(usual + burst, RULES, since=burst[15].created_at, peer_daily_median={})
    assert [f.rule for f in first_run] == ["volume_spike"]
    assert [f.rule for f in second_run] == []
