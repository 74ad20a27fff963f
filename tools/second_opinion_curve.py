"""How the screening's second opinion would do at each threshold on text it was not trained on.

Each development part of the labelled justifications is left out in turn: the model is trained
on the other development parts (as ``tools/train_screening_model.py`` trains the shipped one on
all of them), and the left-out part's texts are screened by the word lists alone and scored by
that model. Summed over the parts, for each probability threshold:

* prohibited texts the word lists did not refuse, and how many of them the model puts at or
  above the threshold (what it would add, as flags or as refusals);
* legitimate texts the word lists passed without a flag, and how many the model puts there
  (its own false positives: flags at ``threshold``, wrongly refused searches at ``refuse_from``);
* flag-worthy texts the word lists did not refuse, and how many the model puts there.

This is how ``threshold`` and ``refuse_from`` in the profile's ``[second_opinion]`` are chosen;
held-out parts take no part in it, so their scores stay estimates.

    .venv/bin/python tools/second_opinion_curve.py [--thresholds 0.5,0.7,0.9] [--parts N]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from screening import (  # noqa: E402
    CONFIG,
    DEVELOPMENT_PARTS,
    PARTS,
    TEXT_REFUSALS,
    decide,
    read_rows,
)

from alpr_guard.policy.second_opinion import probability, train  # noqa: E402
from alpr_guard.settings import Settings, load_settings  # noqa: E402

DEFAULT_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97)
Rows = Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class Scored:
    """One text of a left-out part: its label, what the word lists did, the model's opinion."""

    label: str
    refused: bool  # the word lists refused it (a text refusal)
    clean: bool  # the word lists allowed it with no flag at all
    p: float


def left_out(settings: Settings, parts: Mapping[str, Rows], names: Sequence[str]) -> list[Scored]:
    """The texts of each part in ``names``, scored by a model trained on every other part."""
    rules_only = replace(settings, second_opinion=None)
    scored: list[Scored] = []
    for name in names:
        others = [r for other, rows in parts.items() if other != name for r in rows]
        model = train([r["text"] for r in others], [r["label"] == "prohibited" for r in others])
        for row in parts[name]:
            d = decide(rules_only, row["text"])
            scored.append(
                Scored(
                    row["label"],
                    not d.allowed and d.reason in TEXT_REFUSALS,
                    d.allowed and not d.flags,
                    probability(model, row["text"]),
                )
            )
    return scored


def curve(scored: Sequence[Scored], thresholds: Sequence[float]) -> list[str]:
    """One line per threshold: what the model adds and what it gets wrong, as counts."""
    passed = [s for s in scored if s.label == "prohibited" and not s.refused]
    legit = [s for s in scored if s.label == "legitimate" and s.clean]
    flag = [s for s in scored if s.label == "flag" and not s.refused]
    lines = []
    for t in thresholds:
        lines.append(
            f"  {t:.2f}: prohibited the word lists passed {sum(s.p >= t for s in passed)}"
            f"/{len(passed)}   legitimate {sum(s.p >= t for s in legit)}/{len(legit)}"
            f"   flag-worthy {sum(s.p >= t for s in flag)}/{len(flag)}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--thresholds",
        default=",".join(f"{t:g}" for t in DEFAULT_THRESHOLDS),
        help="comma-separated probabilities",
    )
    parser.add_argument(
        "--parts", type=int, default=None, help="leave out only the last N development parts"
    )
    args = parser.parse_args(argv)
    try:
        thresholds = [float(t) for t in args.thresholds.split(",")]
    except ValueError:
        parser.error("--thresholds: must be comma-separated numbers, like 0.7,0.9")
    parts = {name: read_rows(PARTS[name]) for name in DEVELOPMENT_PARTS}
    names = list(DEVELOPMENT_PARTS)[-args.parts :] if args.parts else list(DEVELOPMENT_PARTS)
    scored = left_out(load_settings(CONFIG), parts, names)
    print(f"left out in turn: {len(names)} development parts, {len(scored)} texts")
    print("\n".join(curve(scored, thresholds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
