"""Accuracy of the shipped California screening rules on our own labelled set.

tests/data/justifications.csv holds realistic justification texts labelled `prohibited` (must be
refused as prohibited_purpose), `refuse_junk` (blank or junk: vague_justification, refused),
`flag` (the review must raise the expected rule) and `legitimate` (must raise nothing), many of
them hard negatives containing the trap words ("ice cream van", "burglary of a church",
"Marshall Street", "DHS nurse"). The rules are loaded from config/rules.california.toml through
load_text_rules, so this measures what ships.

Targets (docs/access-review.md): recall >= 0.95 on prohibited, junk and flag-worthy texts, false
positives <= 0.03 on legitimate texts. Precision is printed too (run with `pytest -s`).

Caveat, stated where the numbers are: the rules were tuned on this set, so the printed figures
are training figures. The set was written in four rounds; rounds 2-4 were first measured against
rules that had never seen them (then merged, nothing deleted, and the general causes fixed):

    round (rows)   prohibited   flag     junk   false positives
    2 (175)        33/35        77/79    7/7    4/54
    3 (144)        25/26        61/63    5/5    2/50
    4 (74)         19/20        20/23    3/3    2/28   (all-capitals and hard negatives)

That is the better guide to accuracy on new text: recall about 0.95-0.97, false positives 4-7%.
"""

from __future__ import annotations

import csv
import tomllib
from collections import Counter
from pathlib import Path

from alpr_guard.policy.text_rules import JUNK_RULE, TextMatch, load_text_rules, scan

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "justifications.csv"
RULES = REPO / "config" / "rules.california.toml"
LABELS = ("prohibited", "refuse_junk", "flag", "legitimate")


def caught(label: str, rule: str, matches: tuple[TextMatch, ...]) -> bool:
    """Did the rules do what the label asks?"""
    if label == "prohibited":
        return any(m.rule == rule and m.action == "refuse" for m in matches)
    if label == "refuse_junk":
        return any(m.rule == JUNK_RULE and m.action == "refuse" for m in matches)
    if label == "flag":
        return any(m.rule == rule for m in matches)
    return not matches


def test_labelled_set_is_well_formed() -> None:
    with DATA.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["text", "label", "rule"]
        rows = list(reader)
    totals = Counter(row["label"] for row in rows)
    assert set(totals) == set(LABELS)
    assert len(rows) >= 350
    assert totals["prohibited"] >= 90 and totals["flag"] >= 110
    assert totals["refuse_junk"] >= 30 and totals["legitimate"] >= 130
    for row in rows:
        assert (row["rule"] == "") == (row["label"] == "legitimate"), row
    assert len({row["text"] for row in rows}) == len(rows), "duplicate texts"


def test_recall_precision_and_false_positive_rate() -> None:
    rules = load_text_rules(tomllib.loads(RULES.read_text(encoding="utf-8")), str(RULES))
    with DATA.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    per_rule_total: Counter[str] = Counter()
    per_rule_hit: Counter[str] = Counter()
    raised: Counter[str] = Counter()  # texts on which a rule fired
    raised_right: Counter[str] = Counter()  # ... and that rule was the expected one
    misses: list[tuple[str, str, str, list[str]]] = []
    for row in rows:
        label, rule, text = row["label"], row["rule"], row["text"]
        matches = scan(rules, text)
        ok = caught(label, rule, matches)
        totals[label] += 1
        hits[label] += ok
        if label != "legitimate":
            per_rule_total[rule] += 1
            per_rule_hit[rule] += ok
        for m in matches:
            raised[m.rule] += 1
            raised_right[m.rule] += m.rule == rule
        if not ok:
            misses.append((label, rule, text, [m.rule for m in matches]))

    recall = {label: hits[label] / totals[label] for label in LABELS[:3]}
    false_positive = 1 - hits["legitimate"] / totals["legitimate"]
    flagged = [row for row in rows if scan(rules, row["text"])]
    precision = sum(row["label"] != "legitimate" for row in flagged) / len(flagged)

    print(f"\nlabelled set: {len(rows)} texts, {dict(totals)}")
    for label in LABELS[:3]:
        print(f"  recall {label:12} {recall[label]:.3f}  ({hits[label]}/{totals[label]})")
    print(
        f"  false positives on legitimate {false_positive:.3f} "
        f"({totals['legitimate'] - hits['legitimate']}/{totals['legitimate']})"
    )
    print(f"  precision (a text raising anything is not legitimate) {precision:.3f}")
    print("  per rule: recall on its labelled texts; precision = raised where expected / raised")
    for rule in sorted(raised.keys() | per_rule_total.keys()):
        r = per_rule_hit[rule] / per_rule_total[rule] if per_rule_total[rule] else float("nan")
        p = raised_right[rule] / raised[rule] if raised[rule] else float("nan")
        print(f"    {rule:30} recall {r:.3f} (n={per_rule_total[rule]})  precision {p:.3f}")
    for miss in misses:
        print("  miss:", miss)

    assert recall["prohibited"] >= 0.95
    assert recall["refuse_junk"] >= 0.95
    assert recall["flag"] >= 0.95
    assert false_positive <= 0.03
