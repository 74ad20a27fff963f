"""`alpr-guard review list` pages: it says which findings it shows of how many and how to get
the next page, instead of stopping at the limit without a word."""

from __future__ import annotations

from datetime import timedelta

from alpr_guard.models import Finding
from alpr_guard.runtime import Runtime
from tests.cli.test_cli import run
from tests.conftest import NOW


def _findings(rt: Runtime, count: int) -> list[int]:
    with rt.sessions.begin() as session:
        rows = [
            Finding(
                camera_id=f"cam-{n:03d}",
                rule="hit_rate_anomaly",
                severity="medium",
                matched="{}",
                status="open",
                created_at=NOW + timedelta(minutes=n),
            )
            for n in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return sorted((row.id for row in rows), reverse=True)  # newest first


def test_review_list_pages_with_offset_and_says_of_how_many(rt: Runtime) -> None:
    ids = _findings(rt, 7)
    config = rt.settings.source
    assert config is not None

    first = run(config, "review", "list", "--limit", "3")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert [int(line.split("\t")[0]) for line in lines[:-1]] == ids[:3]
    assert lines[-1] == "open findings 1\u20133 of 7 (next page: --offset 3)"

    middle = run(config, "review", "list", "--limit", "3", "--offset", "3")
    lines = middle.stdout.splitlines()
    assert [int(line.split("\t")[0]) for line in lines[:-1]] == ids[3:6]
    assert lines[-1] == "open findings 4\u20136 of 7 (next page: --offset 6)"

    last = run(config, "review", "list", "--limit", "3", "--offset", "6")
    lines = last.stdout.splitlines()
    assert [int(line.split("\t")[0]) for line in lines[:-1]] == ids[6:]
    assert lines[-1] == "open findings 7\u20137 of 7"

    beyond = run(config, "review", "list", "--offset", "50")
    assert beyond.stdout.splitlines() == ["open findings: none at offset 50 of 7"]

    resolved = run(config, "review", "list", "--status", "resolved")
    assert resolved.stdout.splitlines() == ["resolved findings: none at offset 0 of 0"]

    bad = run(config, "review", "list", "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr
