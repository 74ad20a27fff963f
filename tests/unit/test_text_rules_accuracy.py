"""Accuracy of the shipped California screening rules on our own labelled set.

tests/data/justifications.csv holds realistic justification texts labelled `prohibited` (must be
refused), `refuse_junk` (blank or junk, refused), `flag` (the review must flag them, with the
expected rule) and `legitimate` (must raise nothing), many of them hard negatives that contain
the trap words ("ice cream van", "burglary of a church", "Marshall Street"). Targets (issue):
recall >= 95% on prohibited and flag-worthy texts, false positives <= 3% on legitimate ones.
"""

from __future__ import annotations

import csv
import tomllib
from collections import Counter

from alpr_guard.policy.text_rules import TextMatch, load_text_rules, scan
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "justifications.csv"
RULES = REPO / "config" / "rules.california.toml"


def caught(label: str, rule: str, matches: tuple[TextMatch, ...]) -> bool:
    if label == "prohibited":
        return any(m.rule == "prohibited_purpose" and m.action == "refuse" for m in matches)
    if label == "refuse_junk":
        return any(m.rule == "vague_justification" and m.action == "refuse" for m in matches)
    if label == "flag":
        return any(m.rule == rule for m in matches)
    return not matches


def test_recall_and_false_positive_rate() -> None:
    rules = load_text_rules(tomllib.loads(RULES.read_text()), str(RULES))
    with DATA.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    totals: Counter[str] = Counter(row["label"] for row in rows)
    hits: Counter[str] = Counter()
    misses = []
    for row in rows:
        ok = caught(row["label"], row["rule"], scan(rules, row["text"]))
        hits[row["label"]] += ok
        if not ok:
            misses.append((row["label"], row["rule"], row["text"]))
    assert len(rows) >= 300 and totals["legitimate"] >= 100
    recall_prohibited = hits["prohibited"] / totals["prohibited"]
    recall_junk = hits["refuse_junk"] / totals["refuse_junk"]
    recall_flag = hits["flag"] / totals["flag"]
    false_positive = 1 - hits["legitimate"] / totals["legitimate"]
    print(f"\nlabelled set: {dict(totals)}")
    print(
        f"recall prohibited {recall_prohibited:.3f}, junk {recall_junk:.3f}, "
        f"flag-worthy {recall_flag:.3f}; false positives on legitimate {false_positive:.3f}"
    )
    for miss in misses:
        print("  miss:", miss)
    assert recall_prohibited >= 0.95
    assert recall_junk >= 0.95
    assert recall_flag >= 0.95
    assert false_positive <= 0.03
