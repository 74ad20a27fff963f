"""Access-report export: rows/s and peak RSS streaming N access records to a CSV file.

Target (issue): an export of 1M access records streams at >= 20,000 rows/s with memory flat
(<= 150 MB RSS), full form (plates unsealed) and redacted form (term tokens, personal data
masked).

Build: a database migrated by ``alpr_guard.db.migrate.upgrade``, one agency and officer created
through the services, then ``--records`` access records inserted with SQLAlchemy Core bulk inserts
into ``searches`` (realistic values: 30 days of searches, 95% allowed, refusals with reason
codes, 2% on behalf of another agency, a few justifications carrying phone numbers and dates of
birth for the redaction to find, terms sealed with ``rt.keyring.seal`` exactly as
``run_search`` does) plus a review finding for 1% of them.

Measure: each form runs in a fresh child process (what ``alpr-guard report access`` is: a
process that opens the database and streams), timing ``iter_access_rows`` + ``write_csv`` to a
file, with the child's RSS sampled every 20 ms by a thread and recorded at every tenth of the
export (flat memory shows as equal figures from the first tenth to the last).

Usage: .venv/bin/python bench/report_export.py [--records 1000000] [--db sqlite|postgresql]
       [--keep]   (keep the database and the CSV files; their paths are printed)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import psutil
from _common import open_env, pg_probe, print_header, random_plate, rss_mb, verdict
from sqlalchemy import Table, insert

from alpr_guard.models import Finding, SearchRecord

TARGET_ROWS_PER_S = 20_000
TARGET_RSS_MB = 150.0
BATCH = 10_000
DAYS = 30
SEARCHES = cast(Table, SearchRecord.__table__)
FINDINGS = cast(Table, Finding.__table__)
PURPOSES = ("stolen_vehicle", "criminal_investigation", "missing_person", "wanted_person")
JUSTIFICATIONS = (
    "Vehicle reported stolen from {street} lot, owner report filed",
    "Burglary series near {street}, suspect vehicle seen by witness",
    "Follow-up on hot-list hit at camera {n}, confirm direction of travel",
    "Missing adult last seen driving on {street}, family report",
    "Warrant service, subject known to drive this vehicle, see case file",
)
PERSONAL = (
    "Witness callback (415) 555-{n:04d}, vehicle seen on {street}",
    "Owner DOB 0{m}/1{m}/198{m}, reported stolen from {street}",
)
STREETS = ("Main St", "5th Ave", "Harbor Blvd", "Oak Rd", "Mission St", "Elm Ct")
REFUSALS = (
    ("justification_required", "junk_justification"),
    ("prohibited_purpose", "immigration_enforcement"),
    ("out_of_state_agency", None),
    ("window_too_long", None),
)


def build(env: Any, total: int, seed: int = 7) -> float:
    rt, officer = env.rt, env.officer
    rng = random.Random(seed)
    plates = [random_plate(rng) for _ in range(max(1000, total // 5))]
    end = datetime.now(UTC) - timedelta(hours=1)
    start = end - timedelta(days=DAYS)
    step = (end - start) / max(total, 1)
    seal, token = rt.keyring.seal, rt.keyring.term_token
    started = time.perf_counter()
    made = 0
    while made < total:
        n = min(BATCH, total - made)
        rows: list[dict[str, Any]] = []
        findings: list[dict[str, Any]] = []
        for i in range(made, made + n):
            search_id = uuid.uuid4()
            plate = rng.choice(plates)
            created = start + step * i
            street = rng.choice(STREETS)
            template = rng.choice(PERSONAL) if rng.random() < 0.03 else rng.choice(JUSTIFICATIONS)
            refused = rng.random() < 0.05
            reason, rule = rng.choice(REFUSALS) if refused else (None, None)
            behalf = "CA0190100" if rng.random() < 0.02 else None
            rows.append(
                {
                    "id": search_id,
                    "created_at": created,
                    "user_id": officer.user_id,
                    "username": officer.username,
                    "agency_ori": officer.agency_ori,
                    "purpose": rng.choice(PURPOSES),
                    "justification": template.format(
                        street=street, n=rng.randrange(10_000), m=rng.randrange(1, 9)
                    ),
                    "case_number": f"26-{rng.randrange(1_000_000):06d}"
                    if rng.random() < 0.8
                    else None,
                    "on_behalf_of": behalf,
                    "window_from": created - timedelta(days=rng.choice((1, 3, 7, 14, 30))),
                    "window_to": created,
                    "terms_sealed": seal(json.dumps({"plate": plate}).encode(), search_id.bytes),
                    "terms_token": token(plate),
                    "outcome": "refused" if refused else "allowed",
                    "reason_code": reason,
                    "rule": rule,
                    "matched": None,
                    "result_count": 0 if refused else rng.randrange(0, 40),
                    "audit_seq": 0,
                }
            )
            if rng.random() < 0.01:
                findings.append(
                    {
                        "search_id": search_id,
                        "rule": rng.choice(("vague_justification", "off_hours")),
                        "severity": "low",
                        "matched": "{}",
                        "status": "open",
                        "created_at": created,
                    }
                )
        with rt.engine.begin() as conn:
            conn.execute(insert(SEARCHES), rows)
            if findings:
                conn.execute(insert(FINDINGS), findings)
        made += n
        if made % 100_000 == 0 or made == total:
            print(f"  built {made:>9,} records ({time.perf_counter() - started:6.1f}s)", flush=True)
    return time.perf_counter() - started


# -- child: one export in a fresh process -----------------------------------------------------


def export(config: str, out: str, full: bool, total: int) -> None:
    from alpr_guard.clock import SystemClock
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.reports import (
        ReportFilter,
        count_access_rows,
        iter_access_rows,
        write_csv,
    )
    from alpr_guard.settings import load_settings

    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], proc.memory_info().rss)

    rt = build_runtime(load_settings(config), clock=SystemClock())
    filters = ReportFilter(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC))
    started_rss = proc.memory_info().rss
    t0 = time.perf_counter()
    with rt.sessions() as session:
        matching = count_access_rows(session, filters)
    count_s = time.perf_counter() - t0
    marks: list[float] = []
    tenth = max(total // 10, 1)

    def observed(rows: Any) -> Any:
        for n, row in enumerate(rows, 1):
            yield row
            if n % tenth == 0:
                marks.append(proc.memory_info().rss / 2**20)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t1 = time.perf_counter()
    with rt.sessions() as session, open(out, "w", encoding="utf-8", newline="") as fh:
        rows = iter_access_rows(session, rt, filters, full=full, release_between_pages=True)
        written = write_csv(observed(rows), fh, full=full)
    seconds = time.perf_counter() - t1
    stop.set()
    thread.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    rt.dispose()
    print(
        json.dumps(
            {
                "rows": written,
                "matching": matching,
                "count_s": count_s,
                "seconds": seconds,
                "rss_start_mb": started_rss / 2**20,
                "rss_peak_mb": peak[0] / 2**20,
                "rss_marks_mb": marks,
                "file_mb": os.path.getsize(out) / 2**20,
            }
        )
    )


def run_child(config: Path, out: Path, full: bool, total: int) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child-config",
            str(config),
            "--child-out",
            str(out),
            "--records",
            str(total),
            *(["--child-full"] if full else []),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"export child failed:\n{result.stderr}")
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child-config", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--child-full", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_config:
        export(args.child_config, args.child_out, args.child_full, args.records)
        return

    pg_version = None
    if args.db == "postgresql":
        pg_version, problem = pg_probe()
        if pg_version is None:
            raise SystemExit(f"PostgreSQL not reachable: {problem}")
    print_header(
        "access report export",
        f"{args.records:,} access records -> CSV via iter_access_rows + write_csv ({args.db})",
        pg_version=pg_version,
    )
    env = open_env(args.db, label="report")
    ok = True
    try:
        built = build(env, args.records)
        print(f"build    : {args.records:,} records in {built:.1f}s, db {env.db_size_mb():.0f} MB")
        env.rt.dispose()  # the build's connections (and their page caches) go away
        config = env.config_file()
        for full in (True, False):
            form = "full" if full else "redacted"
            out = env.workdir / f"access-{form}.csv"
            r = run_child(config, out, full, args.records)
            rate = r["rows"] / r["seconds"] if r["seconds"] else 0.0
            fast = rate >= TARGET_ROWS_PER_S
            small = r["rss_peak_mb"] <= TARGET_RSS_MB
            complete = r["rows"] == args.records == r["matching"]
            ok = ok and fast and small and complete
            marks = " ".join(f"{m:.0f}" for m in r["rss_marks_mb"])
            print(
                f"{form:<9}: {r['rows']:,} rows in {r['seconds']:.1f}s = {rate:,.0f} rows/s "
                f"[{verdict(fast)} >= {TARGET_ROWS_PER_S:,}]; peak RSS {r['rss_peak_mb']:.1f} MB "
                f"[{verdict(small)} <= {TARGET_RSS_MB:.0f}]; complete [{verdict(complete)}]"
            )
            print(
                f"           RSS at start {r['rss_start_mb']:.1f} MB, at each tenth: {marks} MB; "
                f"count query {r['count_s'] * 1000:.0f} ms; file {r['file_mb']:.0f} MB"
            )
            if args.keep:
                print(f"           kept {out}")
        print(f"parent RSS {rss_mb():.1f} MB")
        print(f"RESULT   : {verdict(ok)}")
    finally:
        if args.keep:
            print(f"kept workdir {env.workdir}")
        else:
            env.close()
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
