"""Every benchmark in bench/ runs to its verdict at a tiny size, on each database it supports.

The figures at this size mean nothing (fixed costs dominate, and targets may FAIL); what is
checked is that each script builds its data, measures and prints its PASS/FAIL lines without
crashing, so a bench cannot rot unnoticed (report_export.py once looked for a config file it
never wrote). Exit code 1 is accepted only together with a FAIL verdict.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL

REPO = Path(__file__).resolve().parents[1]
PG = pytest.mark.postgres


def _run(*args: str, pg: bool = False) -> object:
    return pytest.param(
        args, id=args[0].removesuffix(".py") + ("-pg" if pg else ""), marks=[PG] if pg else []
    )


RUNS = [
    _run("ingest.py", "--reads", "3000", "--sync-reads", "1000", "--quiet"),
    _run(
        "ingest.py",
        "--reads",
        "3000",
        "--sync-reads",
        "0",
        "--db",
        "postgresql",
        "--quiet",
        pg=True,
    ),
    _run("http_ingest.py", "--reads", "2000", "--searches", "20"),
    _run("webhooks.py", "--requests", "200", "--image-requests", "20", "--rows", "2000"),
    _run("search.py", "--reads", "3000", "--queries", "20", "--db", "both", pg=True),
    _run("purge.py", "--reads", "3000", "--db", "both", pg=True),
    _run("screening.py", "--rounds", "1"),
    _run("verify_chain.py", "--events", "500"),
    _run("verify_chain.py", "--events", "500", "--db", "postgresql", pg=True),
    _run("review_run.py", "--records", "1000"),
    _run("review_run.py", "--records", "1000", "--db", "postgresql", pg=True),
    _run("report_export.py", "--records", "500"),
    _run("report_export.py", "--records", "500", "--db", "postgresql", pg=True),
    _run(
        "pg_scale.py",
        *("--rows", "3000", "--real", "20", "--ingest", "1000", "--queries", "20"),
        pg=True,
    ),
]
# Scripts that run on PostgreSQL only, with no --db option.
PG_ONLY = {"pg_scale.py"}


@pytest.mark.slow
@pytest.mark.parametrize("args", RUNS)
def test_bench_runs_to_its_verdict(args: tuple[str, ...], request: pytest.FixtureRequest) -> None:
    script, *options = args
    if script in PG_ONLY or "postgresql" in options or "both" in options:
        request.getfixturevalue("pg_backend")  # skips (or fails under CI) without PostgreSQL
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *options],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO,
        env={**os.environ, "ALPR_GUARD_BENCH_PG_URL": PG_URL},
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output[-3000:]
    assert "PASS" in done.stdout or "FAIL" in done.stdout, output[-3000:]
    assert done.returncode == 0 or (done.returncode == 1 and "FAIL" in done.stdout), output[-3000:]
