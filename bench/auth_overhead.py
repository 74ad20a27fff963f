"""What sign-in's checks cost an authenticated API request: the lockout lookup (one indexed
query on a small table) that every bearer or session request now makes, measured against the
same request with the lookup taken out, in one run, in alternating batches.

Also the cost of a refused bad token, which now writes a failure row and an audit event.

Usage: .venv/bin/python bench/auth_overhead.py [--requests 2000] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from _common import open_env, pg_probe, print_header

from alpr_guard.api import build_app
from alpr_guard.auth import lockout
from alpr_guard.services.principals import add_user

BATCH = 100


def _timed(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def run(backend: str, requests: int) -> None:
    env = open_env(backend, label="auth")
    try:
        with env.rt.sessions.begin() as session:
            token = add_user(
                session,
                env.rt,
                username="bench-auditor",
                role="auditor",
                agency_ori=env.rt.settings.instance.operating_agency,
            ).token
        client = build_app(env.rt).test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def listing() -> object:
            response = client.get("/api/v1/holds", headers=headers)
            assert response.status_code == 200, response.get_json()
            return response

        real_locked = lockout.locked
        with_check: list[float] = []
        without_check: list[float] = []
        _timed(listing, 200)  # warm-up: caches, pool, JIT of nothing
        for _ in range(requests // BATCH):
            with_check += _timed(listing, BATCH)
            lockout.locked = lambda *_args: None  # type: ignore[assignment]
            try:
                without_check += _timed(listing, BATCH)
            finally:
                lockout.locked = real_locked
        n = 0

        def bad() -> object:
            nonlocal n
            n += 1
            # A new address each time, so no lock is reached and each is a full failure.
            return client.get(
                "/api/v1/holds",
                headers={"Authorization": "Bearer alprg_bad"},
                environ_base={"REMOTE_ADDR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"},
            )

        refused = _timed(bad, min(requests, 500))
        med_with = statistics.median(with_check)
        med_without = statistics.median(without_check)
        print(f"-- {backend}: GET /api/v1/holds with a bearer token, {len(with_check)} each")
        print(f"median with the lockout lookup    : {med_with:.3f} ms")
        print(f"median without it                 : {med_without:.3f} ms")
        print(
            f"overhead                          : {med_with - med_without:+.3f} ms "
            f"({(med_with / med_without - 1) * 100:+.1f}%)"
        )
        print(
            f"median refused bad token (recorded): {statistics.median(refused):.3f} ms "
            f"over {len(refused)}"
        )
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = parser.parse_args()
    version, problem = pg_probe() if args.db != "sqlite" else (None, None)
    print_header(
        "authentication overhead",
        "per-request time of an authenticated listing with and without the lockout lookup",
        pg_version=version,
    )
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for backend in backends:
        if backend == "postgresql" and problem is not None:
            print(f"-- postgresql skipped: {problem}")
            continue
        run(backend, args.requests)


if __name__ == "__main__":
    main()
