"""Benchmark: the cost of the justification text rules (target: p99 <= 0.2 ms per call).

``scan`` runs on every search before anything else (services.search -> policy.screening) and,
nightly, over up to a million recorded searches (services.review). This times ``scan`` with the
shipped California rules (config/rules.california.toml, loaded by ``load_text_rules``) over every
text of the labelled set (tests/data/justifications.csv), many rounds, one timer per call, with a
case number as at search time. It prints p50/p99/max per call in milliseconds and the throughput,
separately for the "typical" 5-20 word reasons, and exits 1 if the overall p99 exceeds 0.2 ms.
Texts are never printed.

    .venv/bin/python bench/screening.py [--rounds N]
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from alpr_guard.policy.text_rules import TextRules, load_text_rules, scan  # noqa: E402

RULES = ROOT / "config" / "rules.california.toml"
DATA = ROOT / "tests" / "data" / "justifications.csv"
P99_LIMIT_MS = 0.2
CASE_NUMBER = "26-004512"


def percentile(sorted_ns: Sequence[int], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    rank = max(0, min(len(sorted_ns) - 1, round(q * len(sorted_ns)) - 1))
    return sorted_ns[rank] / 1e6


def measure(rules: TextRules, texts: Sequence[str], rounds: int, case: str | None) -> list[int]:
    for text in texts:  # warm up: first calls pay for imports and caches
        scan(rules, text, case)
    samples: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for text in texts:
            t0 = clock()
            scan(rules, text, case)
            samples.append(clock() - t0)
    samples.sort()
    return samples


def report(label: str, samples: Sequence[int]) -> float:
    p99 = percentile(samples, 0.99)
    throughput = len(samples) / (sum(samples) / 1e9)
    print(
        f"  {label:34} calls={len(samples):>8,}  p50={percentile(samples, 0.50):.4f} ms  "
        f"p99={p99:.4f} ms  max={samples[-1] / 1e6:.3f} ms  {throughput:,.0f} calls/s"
    )
    return p99


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    rules = load_text_rules(tomllib.loads(RULES.read_text(encoding="utf-8")), str(RULES))
    load_ms = (time.perf_counter() - t0) * 1e3
    with DATA.open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    typical = [t for t in texts if 5 <= len(t.split()) <= 20]

    print(
        f"screening text rules | python {platform.python_version()} on {platform.machine()} "
        f"| {len(texts)} labelled texts ({len(typical)} of 5-20 words) x {args.rounds} rounds "
        f"| rules loaded in {load_ms:.0f} ms"
    )
    p99 = report("all texts, with case number", measure(rules, texts, args.rounds, CASE_NUMBER))
    report("all texts, no case number", measure(rules, texts, args.rounds, None))
    typical_samples = measure(rules, typical, args.rounds, CASE_NUMBER)
    report("5-20 words, with case number", typical_samples)
    per_call_s = sum(typical_samples) / len(typical_samples) / 1e9
    print(f"  nightly review estimate: 1,000,000 typical reasons in {per_call_s * 1e6:.1f} s")
    verdict = "PASS" if p99 <= P99_LIMIT_MS else "FAIL"
    print(f"{verdict}: p99 {p99:.4f} ms (limit {P99_LIMIT_MS} ms)")
    return 0 if p99 <= P99_LIMIT_MS else 1


if __name__ == "__main__":
    sys.exit(main())
