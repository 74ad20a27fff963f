"""Benchmark: one access-review run over N access records (target: 1M in <= 60 s).

Builds N access records (Core bulk inserts) spread over 30 days and 200 officers, with the
report bench's realistic justifications plus a share of flag-worthy ones, then times
review_access over all of them: text rules on every justification, refusals as findings,
and the behavioural rules over each user's history.

    .venv/bin/python bench/review_run.py --records 1000000 [--db sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import open_env, print_header, random_plate, rss_mb
from report_export import JUSTIFICATIONS, PURPOSES, SEARCHES, STREETS
from sqlalchemy import insert

from alpr_guard.jobs.review import review_access
from alpr_guard.services.principals import add_user
from alpr_guard.services.review import EPOCH

USERS = 200
FLAGGABLE = ("inv", "check", "No Kings rally vehicles", "custody dispute", "my ex", "B/M")


def build(env: Any, total: int) -> list[int]:
    rt = env.rt
    with rt.sessions.begin() as session:
        users = [
            add_user(
                session,
                rt,
                username=f"bench-officer-{n}",
                role="officer",
                agency_ori=env.officer.agency_ori,
            )
            for n in range(USERS)
        ]
    with rt.sessions() as session:
        from sqlalchemy import select

        from alpr_guard.models import User

        ids = list(session.scalars(select(User.id).where(User.username.like("bench-officer-%"))))
    names = {u.username for u in users}
    assert len(ids) == len(names) == USERS
    rng = random.Random(11)
    plates = [random_plate(rng) for _ in range(total // 5)]
    end = datetime.now(UTC) - timedelta(hours=1)
    step = timedelta(days=30) / total
    start = end - timedelta(days=30)
    seal, token = rt.keyring.seal, rt.keyring.term_token
    made = 0
    t0 = time.perf_counter()
    while made < total:
        rows = []
        for i in range(made, min(made + 10_000, total)):
            sid = uuid.uuid4()
            plate = rng.choice(plates)
            text = (
                rng.choice(FLAGGABLE)
                if rng.random() < 0.02
                else rng.choice(JUSTIFICATIONS).format(
                    street=rng.choice(STREETS), n=rng.randrange(99)
                )
            )
            rows.append(
                {
                    "id": sid,
                    "created_at": start + step * i,
                    "user_id": rng.choice(ids),
                    "username": "bench",
                    "agency_ori": env.officer.agency_ori,
                    "purpose": rng.choice(PURPOSES),
                    "justification": text,
                    "case_number": f"26-{rng.randrange(10**6):06d}" if rng.random() < 0.8 else None,
                    "on_behalf_of": None,
                    "window_from": start,
                    "window_to": end,
                    "terms_sealed": seal(json.dumps({"plate": plate}).encode(), sid.bytes),
                    "terms_token": token(plate),
                    "outcome": "allowed",
                    "reason_code": None,
                    "rule": None,
                    "matched": None,
                    "result_count": 1,
                    "audit_seq": 0,
                }
            )
        with rt.engine.begin() as conn:
            conn.execute(insert(SEARCHES), rows)
        made += len(rows)
    print(f"built {total:,} access records for {USERS} officers in {time.perf_counter() - t0:.1f}s")
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    print_header(f"access review run over {args.records:,} access records", args.db)
    env = open_env(args.db, label="review")
    try:
        build(env, args.records)
        t0 = time.perf_counter()
        result = review_access(env.rt, since=EPOCH)
        seconds = time.perf_counter() - t0
        print(
            f"review: {result.searches_scanned:,} searches in {seconds:.1f}s "
            f"({result.searches_scanned / seconds:,.0f}/s), {result.new_findings:,} findings "
            f"{dict(sorted(result.by_rule.items()))}, peak RSS {rss_mb():.0f} MB"
        )
        print(f"{'PASS' if seconds <= 60 else 'FAIL'} (target: {args.records:,} in <= 60 s)")
    finally:
        env.close()


if __name__ == "__main__":
    main()
