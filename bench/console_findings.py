"""Server time of the console's findings page with 10,000 findings (target: under 300 ms).

The page counts the matching findings, lists one page of 50 with their searches, records the
listing in the audit chain and renders the HTML: the time is the server's own (the page's
``Server-Timing`` header, from the request's start to the response), through the Flask app
with a bearer token, so no network or browser is included.

Usage: .venv/bin/python bench/console_findings.py [--findings 10000] [--rounds 20]
       [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json

from _common import open_env, percentile, pg_probe, print_header, verdict

from alpr_guard.api import build_app
from alpr_guard.services.principals import add_user
from alpr_guard.services.review import _insert_camera_findings

TARGET_MS = 300.0
QUERIES = ("", "?page=2", "?page=100", "?page=200", "?severity=medium&page=150", "?order=oldest")


def run(backend: str, findings: int, rounds: int) -> bool:
    env = open_env(backend, label="console")
    try:
        rt = env.rt
        now = rt.clock.now()
        with rt.sessions.begin() as db:
            token = add_user(
                db, rt, username="bench-auditor", role="auditor", agency_ori=env.officer.agency_ori
            ).token
            for start in range(0, findings, 1000):
                rows = [
                    {
                        "search_id": None,
                        "camera_id": f"cam-{k}",
                        "rule": "hit_rate_anomaly",
                        "severity": ("high", "medium", "low")[k % 3],
                        "matched": json.dumps({"hits": 9, "reads": 10}),
                        "status": "open",
                        "created_at": now,
                    }
                    for k in range(start, min(start + 1000, findings))
                ]
                _insert_camera_findings(db, rt, rows)
        client = build_app(rt).test_client()
        headers = {"Authorization": f"Bearer {token}"}
        client.get("/console/findings", headers=headers)  # warm
        ok = True
        for query in QUERIES:
            spent = []
            for _ in range(rounds):
                response = client.get(f"/console/findings{query}", headers=headers)
                assert response.status_code == 200, response.status_code
                spent.append(float(response.headers["Server-Timing"].split("dur=")[1]))
            p50, p95 = percentile(spent, 50), percentile(spent, 95)
            ok &= p95 < TARGET_MS
            print(
                f"{backend:10} /console/findings{query:28} p50 {p50:6.1f} ms  "
                f"p95 {p95:6.1f} ms  max {max(spent):6.1f} ms"
            )
        print(f"{backend:10} p95 under {TARGET_MS:.0f} ms on every page: {verdict(ok)}")
        return ok
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    pg_version, problem = pg_probe() if args.db != "sqlite" else (None, None)
    print_header(
        f"console findings page, {args.findings} findings",
        "server time per page (Server-Timing), p50/p95 of --rounds requests",
        pg_version=pg_version,
    )
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if problem is not None and "postgresql" in backends:
        print(f"postgresql skipped: {problem}")
        backends.remove("postgresql")
    for backend in backends:
        run(backend, args.findings, args.rounds)


if __name__ == "__main__":
    main()
