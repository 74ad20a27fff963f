"""Benchmark: what screening adds to a search (target: p99 <= 0.2 ms).

Times the whole pure screening decision (purpose, justification text rules, sharing checks,
window) with the shipped California rules, over every text of the labelled set, many rounds.

    .venv/bin/python bench/screening.py
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alpr_guard.policy.screening import SearchFacts, screen_search  # noqa: E402
from alpr_guard.policy.sharing import AgencyFacts  # noqa: E402
from alpr_guard.policy.text_rules import scan  # noqa: E402
from alpr_guard.settings import load_settings  # noqa: E402


def main() -> None:
    settings = load_settings(ROOT / "config" / "alpr_guard.toml")
    with (ROOT / "tests" / "data" / "justifications.csv").open(newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    home = AgencyFacts("CA0199900", "Demo City PD", "local", "CA", True, None)
    facts = [
        SearchFacts(
            "criminal_investigation", t, "26-004512", now - timedelta(days=7), now, home, None, None
        )
        for t in texts
    ]
    rounds = 50
    print(f"screening cost | python={sys.version.split()[0]} texts={len(texts)} rounds={rounds}")
    for label, call in (
        (
            "text rules only (scan)",
            lambda f: scan(settings.screening, f.justification, f.case_number),
        ),
        ("whole screening decision", lambda f: screen_search(f, settings, now)),
    ):
        samples = []
        for _ in range(rounds):
            for f in facts:
                t0 = time.perf_counter_ns()
                call(f)
                samples.append(time.perf_counter_ns() - t0)
        samples.sort()
        p50 = samples[len(samples) // 2] / 1e6
        p99 = samples[int(len(samples) * 0.99)] / 1e6
        print(
            f"{label:28} calls={len(samples):,}  p50={p50:.4f} ms  p99={p99:.4f} ms  "
            f"max={samples[-1] / 1e6:.3f} ms  mean={statistics.fmean(samples) / 1e6:.4f} ms  "
            f"{'PASS' if p99 <= 0.2 else 'FAIL'} (p99 <= 0.2 ms)"
        )


if __name__ == "__main__":
    main()
