"""Long CLI jobs (the purge, the access review, the audit walk) show progress with rate and ETA
on stderr when asked (``--progress``) or when stderr is a terminal; nothing otherwise."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alpr_guard.api.parsing import parse_read_batch, salvage_search_request
from alpr_guard.clock import FixedClock
from alpr_guard.models import Agency, User
from alpr_guard.progress import TerminalProgress
from alpr_guard.runtime import build_runtime
from alpr_guard.services.ingest import record_reads
from alpr_guard.services.principals import Principal
from alpr_guard.services.search import search_attempt
from alpr_guard.settings import load_settings
from tests.cli.test_cli import run
from tests.conftest import write_config

PLATES = ("7ABC123", "8XYZ999")


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_terminal_line_has_count_percentage_rate_and_eta() -> None:
    out, ticks = io.StringIO(), Ticks()
    bar = TerminalProgress(out, tty=True, clock=ticks, every=1.0)
    bar.start("purge: deleting expired reads", 200_000, "reads")
    ticks.now += 3
    bar.advance(120_000)
    assert out.getvalue().endswith(
        "\r\x1b[Kpurge: deleting expired reads: 120,000/200,000 reads (60%) 40,000/s, "
        "0:03 elapsed, ETA 0:02"
    )
    ticks.now += 0.5
    bar.advance(1000)  # within `every` of the last line: nothing drawn
    assert out.getvalue().count("\r") == 2
    ticks.now += 1.5
    bar.advance(79_000)
    bar.finish()
    assert out.getvalue().endswith("200,000/200,000 reads (100%) 40,000/s, 0:05 elapsed\n")


def test_off_a_terminal_each_line_is_a_line_of_its_own_and_unknown_totals_have_no_eta() -> None:
    out, ticks = io.StringIO(), Ticks()
    bar = TerminalProgress(out, tty=False, clock=ticks)
    bar.start("audit verify: events", None, "events")
    ticks.now += 10
    bar.advance(500_000)
    bar.finish()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines == [
        "audit verify: events: 0 events",
        "audit verify: events: 500,000 events 50,000/s, 0:10 elapsed",
        "audit verify: events: 500,000 events 50,000/s, 0:10 elapsed",
    ]


def _seed(config: Path) -> int:
    """Reads observed 70 days ago (past the 60-day window) and a few searches, written with
    a clock of that time, so a purge now has work; returns how many reads."""
    settings = load_settings(config)
    past = datetime.now(UTC) - timedelta(days=70)
    rt = build_runtime(settings, clock=FixedClock(past))
    count = 0
    try:
        with rt.sessions() as session:
            user = session.query(User).filter_by(username="demo-ingest").one()
            agency = session.get_one(Agency, user.agency_id)
            who = Principal(user.id, user.username, "ingest", agency.id, agency.ori)
            raw = [
                {
                    "plate": PLATES[n % 2],
                    "observed_at": (past - timedelta(minutes=n)).isoformat(),
                    "camera_id": "cam-1",
                }
                for n in range(50)
            ]
            record_reads(session, rt, who, parse_read_batch({"reads": raw}, 1000))
            count += len(raw)
            officer = session.query(User).filter_by(username="demo-officer").one()
            searcher = Principal(officer.id, officer.username, "officer", agency.id, agency.ori)
            for plate in PLATES:
                body = {
                    "plate": plate,
                    "from": (past - timedelta(days=2)).isoformat(),
                    "to": past.isoformat(),
                    "purpose": "stolen_vehicle",
                    "justification": "Vehicle reported stolen from Main St lot, owner report filed",
                }
                values, fields = salvage_search_request(body, rt.settings.search.max_page_size)
                search_attempt(session, rt, searcher, values, fields)
            session.commit()
    finally:
        rt.dispose()
    return count


def test_purge_review_and_verify_show_progress_when_asked(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'alpr_guard.db'}")
    assert run(config, "db", "upgrade").returncode == 0
    assert run(config, "demo").returncode == 0
    reads = _seed(config)

    quiet = run(config, "review", "run")  # not a terminal, not asked: no progress
    assert quiet.returncode == 0, quiet.stderr
    assert "review: access records" not in quiet.stderr

    review = run(config, "review", "run", "--since", "2000-01-01T00:00:00Z", "--progress")
    assert review.returncode == 0, review.stderr
    assert re.search(r"review: access records: 2/2 records \(100%\)", review.stderr), review.stderr

    purged = run(config, "purge", "--progress")
    assert purged.returncode == 0, purged.stderr
    final = purged.stderr.strip().splitlines()
    assert final[0] == f"purge: deleting expired reads: 0/{reads} reads (0%)"
    assert re.fullmatch(
        rf"purge: deleting expired reads: {reads}/{reads} reads \(100%\) [\d,]+/s, "
        r"0:\d\d elapsed",
        final[-1],
    ), purged.stderr
    assert f"unmatched: {reads} reads" in purged.stdout

    verified = run(config, "audit", "verify", "--progress")
    assert verified.returncode == 0, verified.stdout
    events = re.search(r"audit chain verified: (\d+) events", verified.stdout)
    assert events, verified.stdout
    n = events.group(1)
    assert re.search(rf"audit verify: events: {n}/{n} events \(100%\)", verified.stderr)
    for plate in PLATES:
        for output in (review, purged, verified):
            assert plate not in output.stderr
