"""The access review's shortcuts give exactly the answers of the plain rules they stand for.

The review shares text-rule work between records (``_TextScanner``), streams every user's
history through ``UserReview`` in one pass, and computes a day's peer medians at once. Each is
checked here against the straightforward computation: ``scan`` per record, the original
per-user ``review_user`` loop (kept below as the reference), ``peer_medians``.
"""

from __future__ import annotations

import csv
import random
import re
import statistics
import tomllib
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

import pytest

from alpr_guard.policy.behaviour import (
    AccessFact,
    BehaviourFinding,
    BehaviourRules,
    day_peer_medians,
    peer_medians,
    review_user,
)
from alpr_guard.policy.text_rules import TextRules, load_text_rules, scan
from alpr_guard.services import review
from alpr_guard.services.review import _TextScanner
from tests.conftest import REPO

RULES_FILE = REPO / "config" / "rules.california.toml"
_DIGITS = re.compile(r"[0-9]+")
DATA = (
    REPO / "tests" / "data" / "justifications.csv",
    REPO / "tests" / "data" / "justifications_heldout.csv",
)


def _texts() -> list[str]:
    texts = []
    for path in DATA:
        with path.open(newline="", encoding="utf-8") as fh:
            texts += [row["text"] for row in csv.DictReader(fh)]
    return texts


def _case_numbers(text: str, rng: random.Random) -> list[str | None]:
    """Case numbers of every kind the shortcut must get right: none, blank, ordinary ones,
    ones that are or repeat words of the justification, ones that trigger rules themselves."""
    words = text.split()
    cases: list[str | None] = [None, "", "  ", "26-004512", f"26-{rng.randrange(10**6):06d}"]
    cases += ["HSI-2025-0193", "ICE 4471", "per FBI", "I.C.E. 12", "B/M", "inv", "my ex", "#"]
    cases += ["ｉｃｅ-1", "24-001234", "10-851", "CR", "a", "x y z", text, text.upper()]
    # Digit runs joined by hyphens (the shortcut's own case), and near misses of that form.
    cases += ["287", "287-1", "1-287", "2-8-7", "0", "1-2-3-4", "26--1", "-26", "26-", "26 1"]
    cases += ["７７７-1", "777-123", "26-777001", "26-004512-B", "26/004512", "26-00451２"]
    cases += ["-".join(run for run in _DIGITS.findall(text)) or "0"]
    if words:
        k = rng.randrange(len(words))
        cases += [" ".join(words[k : k + rng.randrange(1, 3)]), words[-1], words[0]]
    return cases


def _tuned_rules() -> TextRules:
    """The shipped rules plus what an agency might add that makes bare numbers matter: a
    pattern over digits and a phrase starting with any number."""
    table = tomllib.loads(RULES_FILE.read_text())
    table["rules"]["non_criminal_use"]["match"] += [
        {"patterns": [r"\b777\d*"]},
        {"terms": ["<num> repo"]},
    ]
    return load_text_rules(table, str(RULES_FILE))


@pytest.mark.parametrize("tuned", [False, True], ids=["shipped", "tuned"])
def test_text_scanner_answers_exactly_what_scan_does(tuned: bool) -> None:
    rules = (
        _tuned_rules()
        if tuned
        else load_text_rules(tomllib.loads(RULES_FILE.read_text()), str(RULES_FILE))
    )
    scanner = _TextScanner(rules)
    rng = random.Random(6)
    checked = 0
    texts = [*_texts(), "", ".", "26-004512", "case 26-004512", "see 26 004512 ICE", "777 repo"]
    for text in texts:
        for case_number in _case_numbers(text, rng):
            expected = scan(rules, text, case_number)
            assert scanner.matches(text, case_number) == expected, (text, case_number)
            # Again, now from the memos.
            assert scanner.matches(text, case_number) == expected, (text, case_number)
            checked += 1
    assert checked > 30_000


def test_plain_case_numbers_take_the_short_way_only_when_inert() -> None:
    shipped = _TextScanner(load_text_rules(tomllib.loads(RULES_FILE.read_text()), str(RULES_FILE)))
    assert shipped._plain_number("26-004512") == ("26", "004512")
    assert shipped._plain_number("7") == ("7",)
    # "287" starts a phrase ("287 g"); the others are not digit runs joined by hyphens.
    for case_number in ("287-1", "26-287", "26 004512", "26--1", "26-", "26-00451２", "HSI-26"):
        assert shipped._plain_number(case_number) is None, case_number
    tuned = _TextScanner(_tuned_rules())
    assert tuned._plain_number("26-777001") is None  # the pattern matches
    assert tuned._plain_number("26-004512") is None  # any number may start "<num> repo"
    assert scan(tuned.rules, "Follow-up on burglary series", "26-777001") != scan(
        tuned.rules, "Follow-up on burglary series"
    )


def test_text_scanner_memos_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review, "MEMO_LIMIT", 10)
    rules = load_text_rules(tomllib.loads(RULES_FILE.read_text()), str(RULES_FILE))
    scanner = _TextScanner(rules)
    for n in range(100):
        text = f"Follow-up on burglary series near {n} Main St"
        assert scanner.matches(text, f"26-{n:06d}") == scan(rules, text, f"26-{n:06d}")
        assert scanner.matches(text, text) == scan(rules, text, text)
    assert max(len(scanner.texts), len(scanner.cases), len(scanner.pairs)) <= 10


# -- behaviour ------------------------------------------------------------------------------

RULES = BehaviourRules(
    repeated_min_searches=3,
    repeated_window_days=7,
    spike_factor=3.0,
    spike_min_searches=6,
    spike_baseline_days=10,
    off_hours_min_history=15,
    off_hours_max_share=0.05,
    severities={"repeated_target_no_case": "medium", "volume_spike": "medium", "off_hours": "low"},
)


def reference_review_user(
    history: Iterable[AccessFact],
    rules: BehaviourRules,
    *,
    since: datetime,
    peer_daily_median: Mapping[date, float],
) -> list[BehaviourFinding]:
    """``review_user`` as it was written first (one user's whole history, no state kept)."""
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
            first = min(per_day)
            start = max(first, day - timedelta(days=rules.spike_baseline_days))
            span = (day - start).days
            own = (
                sum(per_day.get(start + timedelta(days=n), 0) for n in range(span)) / span
                if span > 0
                else 0.0
            )
            peers = peer_daily_median.get(day, 0.0)
            usual = max(own, peers, 1.0)
            threshold = max(float(rules.spike_min_searches) - 1, rules.spike_factor * usual)
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


def _history(rng: random.Random) -> list[AccessFact]:
    """A user's history with quiet spells longer than the repeated-target window, busy days,
    night searches and a few plates searched again and again without a case number."""
    at = datetime(2026, 9, 1, 8, tzinfo=UTC)
    facts = []
    targets = [f"t{n}" for n in range(rng.randrange(2, 12))]
    for _ in range(rng.randrange(1, 400)):
        step = rng.choice((0, 1, 30, 600, 3600, 4 * 3600, 86_400, 9 * 86_400))
        at += timedelta(seconds=rng.randrange(step + 1))
        facts.append(AccessFact(uuid.uuid4(), at, rng.choice(targets), rng.random() < 0.5))
    return facts


def test_user_review_matches_the_original_loop() -> None:
    rng = random.Random(7)
    fired: Counter[str] = Counter()
    for _ in range(300):
        history = _history(rng)
        first, last = history[0].created_at, history[-1].created_at
        since = first + (last - first) * rng.choice((0, 0.3, 0.7, 1))
        days = {f.created_at.date() for f in history}
        peers = {day: float(rng.choice((0, 1, 2, 2.5, 8))) for day in days if rng.random() < 0.7}
        expected = reference_review_user(history, RULES, since=since, peer_daily_median=peers)
        got = review_user(history, RULES, since=since, peer_daily_median=peers)
        assert got == expected
        fired.update(f.rule for f in got)
    # The comparison meant something: every rule fired, many times.
    assert min(fired[rule] for rule in RULES.severities) >= 20, fired


def test_day_peer_medians_match_peer_medians() -> None:
    rng = random.Random(8)
    day = date(2026, 11, 1)
    for _ in range(500):
        counts = {user: rng.randrange(1, 12) for user in range(rng.randrange(1, 9))}
        one_day = day_peer_medians(counts)
        for user in counts:
            assert one_day[user] == peer_medians({day: counts}, user)[day]
            others = [n for other, n in counts.items() if other != user]
            assert one_day[user] == (float(statistics.median(others)) if others else 0.0)
