"""The shipped rules on a held-out set: texts written separately from the word lists.

tests/data/justifications.csv was written alongside the rules, so scores on it flatter them.
tests/data/justifications_heldout.csv (373 texts: prohibited, junk, flag-worthy, legitimate
with many hard negatives) was written by another engineer for another detector and never used
to tune these rules: it is the honest estimate of how they do on text nobody tuned for.

Where it disagrees with the rules by design it is left as it is: it labels a bare case number
("24-001234") or radio code ("10-851") as junk to refuse, while the shipped rules flag it as a
vague reason (docs/access-review.md's reading). Those disagreements show in the printed figures.
"""

from __future__ import annotations

import csv
import tomllib
from collections import Counter

from alpr_guard.policy.text_rules import TextMatch, load_text_rules, scan
from tests.conftest import REPO

HELD_OUT = REPO / "tests" / "data" / "justifications_heldout.csv"
RULES = REPO / "config" / "rules.california.toml"


def caught(label: str, rule: str, matches: tuple[TextMatch, ...]) -> bool:
    if label == "prohibited":
        return any(m.rule == "prohibited_purpose" and m.action == "refuse" for m in matches)
    if label == "refuse_junk":
        return any(m.rule == "vague_justification" for m in matches)
    if label == "flag":
        return any(m.rule == rule for m in matches)
    return not matches


def test_held_out_recall_and_false_positives() -> None:
    rules = load_text_rules(tomllib.loads(RULES.read_text()), str(RULES))
    with HELD_OUT.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    totals: Counter[str] = Counter(row["label"] for row in rows)
    hits: Counter[str] = Counter(
        row["label"] for row in rows if caught(row["label"], row["rule"], scan(rules, row["text"]))
    )
    rates = {label: hits[label] / totals[label] for label in totals}
    print(
        f"\nheld-out set {dict(totals)}: recall prohibited {rates['prohibited']:.3f}, "
        f"junk (refused or flagged) {rates['refuse_junk']:.3f}, flag-worthy "
        f"{rates['flag']:.3f}; false positives {1 - rates['legitimate']:.3f}"
    )
    # What the law forbids must be caught, and legitimate work not obstructed, on any text.
    assert rates["prohibited"] >= 0.95
    assert 1 - rates["legitimate"] <= 0.03
    # Junk must at least be flagged; flag-worthy recall is reported, not tuned for (a held-out
    # set that the rules are tuned to is no longer held out).
    assert rates["refuse_junk"] >= 0.95
    assert rates["flag"] >= 0.85
