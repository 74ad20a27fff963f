"""bench/load.py runs green at a tiny size: the real server, concurrent ingest and searches,
every acknowledged read stored, no 5xx but 503 with Retry-After, no ingest 503."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_the_load_bench_at_a_tiny_size_loses_nothing() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import load  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(BENCH))
    result = load.run(
        clients=4,
        searchers=1,
        batches=3,
        batch=25,
        threads=4,
        max_seconds=120,
        settle=0.0,
        quiet=True,
    )
    assert result.acknowledged == 4 * 3 * 25
    assert result.lost == 0 and result.stored == result.acknowledged
    assert result.bad_5xx == []
    assert result.ingest_503 == 0 and result.unfinished_batches == 0
    assert result.statuses.get("ingest 201") == 12
    assert result.statuses.get("search 200", 0) + result.statuses.get("search 503", 0) >= 1
    assert result.ok
