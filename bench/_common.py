"""Shared benchmark plumbing: throwaway databases, a runtime with users, synthetic reads, stats.

Databases are always built by ``alpr_guard.db.migrate.upgrade`` (the migrations are the schema).
SQLite lives in a temporary directory; PostgreSQL gets a fresh database ``alpr_bench_<pid>...``
on ``ALPR_GUARD_BENCH_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
dropped again by ``BenchEnv.close``. Nothing here prints a plate.
"""

from __future__ import annotations

import atexit
import itertools
import math
import os
import platform
import random
import shutil
import sqlite3
import string
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The repository first: tests.conftest is imported from it, and the venv's editable install may
# resolve ``alpr_guard`` as a namespace package (no ``create_app``) from outside the checkout.
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from alpr_guard.clock import SystemClock  # noqa: E402
from alpr_guard.db import migrate as schema  # noqa: E402
from alpr_guard.runtime import Runtime, build_runtime  # noqa: E402
from alpr_guard.services.agencies import AgencyInput, upsert_agency  # noqa: E402
from alpr_guard.services.principals import SYSTEM, Principal, add_user, authenticate  # noqa: E402
from alpr_guard.settings import Settings, load_settings  # noqa: E402

PG_URL = os.environ.get(
    "ALPR_GUARD_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PLATE_CHARS = string.ascii_uppercase + string.digits
_db_counter = itertools.count()
_base_settings: list[Settings] = []


def write_config(directory: Path, db_url: str, extra: str = "") -> Path:
    """The test suite's config writer (profile, master key file, key store), reused as is."""
    from tests.conftest import write_config as _write_config

    return _write_config(directory, db_url, extra)


def operating_ori() -> str:
    from tests.conftest import OPERATING_ORI

    return OPERATING_ORI


# -- machine ----------------------------------------------------------------------------------


def pg_probe(url: str = PG_URL) -> tuple[str | None, str | None]:
    """(server version, None) if PostgreSQL answers, else (None, why)."""
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        return None, f"{type(exc).__name__}: {first}"
    return version, None


def print_header(title: str, measures: str, *, pg_version: str | None = None) -> None:
    print(f"== {title}")
    print(f"measures : {measures}")
    print(
        f"machine  : cpus={os.cpu_count()} python={platform.python_version()} "
        f"sqlite={sqlite3.sqlite_version} platform={platform.platform()}"
    )
    if pg_version is not None:
        print(f"postgres : {pg_version}")
    print(f"rss now  : {rss_mb():.1f} MB")


# -- environments -----------------------------------------------------------------------------


def base_settings() -> Settings:
    """The config, parsed once per process (call it early): a long run must not fail half-way
    because the policy files changed on disk. Each environment gets its own database URL and
    key store from it; the master key file is shared."""
    if not _base_settings:
        directory = Path(tempfile.mkdtemp(prefix="alpr_bench_cfg_"))
        atexit.register(shutil.rmtree, directory, True)
        _base_settings.append(load_settings(write_config(directory / "cfg", "sqlite://")))
    return _base_settings[0]


@dataclass
class BenchEnv:
    backend: str
    url: str
    rt: Runtime
    ingest: Principal
    officer: Principal
    workdir: Path
    _pg_name: str | None = field(default=None, repr=False)

    def close(self) -> None:
        self.rt.dispose()
        if self._pg_name is not None:
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def config_file(self) -> Path:
        """A config file for this environment (its database, the shared master key, its key
        store), for child processes such as ``alpr-guard report`` or a server."""
        directory = self.workdir / "cfg"
        directory.mkdir(exist_ok=True)
        master = self.rt.settings.keys.master_key_file
        assert master is not None
        if not (directory / "master.key").exists():
            shutil.copyfile(master, directory / "master.key")
            (directory / "master.key").chmod(0o600)
        path = write_config(directory, self.url)
        path.write_text(
            path.read_text().replace(
                'keystore_dir = "keystore"',
                f'keystore_dir = "{self.rt.settings.keys.keystore_dir}"',
            )
        )
        return path

    def db_size_mb(self) -> float:
        if self.backend == "sqlite":
            path = Path(make_url(self.url).database or "")
            files = [path, Path(f"{path}-wal")]
            return sum(p.stat().st_size for p in files if p.exists()) / 2**20
        with self.rt.engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        return float(size or 0) / 2**20


def open_env(
    backend: str,
    *,
    label: str = "main",
    configure_engine: Callable[[Engine], None] | None = None,
) -> BenchEnv:
    """A freshly migrated database, a runtime on it (real clock), the operating agency, an
    ingest service account and an officer. ``configure_engine`` runs before any connection."""
    workdir = Path(tempfile.mkdtemp(prefix=f"alpr_bench_{label}_"))
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'alpr_guard.db'}"
    elif backend == "postgresql":
        n = next(_db_counter)
        pg_name = f"alpr_bench_{os.getpid()}" + (f"_{n}" if n else "")
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        admin.dispose()
        url = make_url(PG_URL).set(database=pg_name).render_as_string(hide_password=False)
    else:
        raise ValueError(f"unknown backend {backend}")
    schema.upgrade(url)
    base = base_settings()
    settings = replace(
        base,
        database=replace(base.database, url=url),
        keys=replace(base.keys, keystore_dir=workdir / "keystore"),
    )
    rt = build_runtime(settings, clock=SystemClock())
    if configure_engine is not None:
        configure_engine(rt.engine)
    ori = settings.instance.operating_agency
    with rt.sessions.begin() as session:
        upsert_agency(
            session,
            rt,
            AgencyInput(ori, settings.instance.operating_agency_name, "local", "CA", True),
            SYSTEM,
        )
        ingest_token = add_user(
            session, rt, username="bench-ingest", role="ingest", agency_ori=ori
        ).token
        officer_token = add_user(
            session, rt, username="bench-officer", role="officer", agency_ori=ori
        ).token
    with rt.sessions.begin() as session:
        ingest = authenticate(session, rt, ingest_token)
        officer = authenticate(session, rt, officer_token)
    return BenchEnv(backend, url, rt, ingest, officer, workdir, pg_name)


def prepare_time_partitions(env: BenchEnv, days: float) -> int:
    """PostgreSQL: the day and month partitions of ``plate_reads`` for the last ``days`` days
    and the week ahead, as on a server that has run that long (``db upgrade`` and every purge
    create them ahead of time; ``schema.upgrade`` alone leaves every read in the DEFAULT
    partitions). Returns how many were created; nothing to do on SQLite."""
    if env.backend != "postgresql":
        return 0
    from alpr_guard.services.partitions import AHEAD_DAYS, BEHIND_DAYS, ensure_partitions

    now = datetime.now(UTC)
    step = AHEAD_DAYS + BEHIND_DAYS  # a call at ``at`` covers [at - BEHIND_DAYS, at + AHEAD_DAYS]
    created = 0
    with env.rt.sessions.begin() as session:
        for back in [*range(math.ceil(days), 0, -step), 0]:
            created += len(ensure_partitions(session, now - timedelta(days=back)))
    return created


def analyze(env: BenchEnv) -> None:
    """PostgreSQL: refresh planner statistics of ``plate_reads``, as autovacuum would on a
    production server. The local test cluster runs with ``autovacuum = off``: without this a
    table filled by the bench has no statistics at all, and the replay lookup's plan scans a
    whole partition per batch (measured: about 450 ms instead of 1.5 ms per 500 client ids)."""
    if env.backend != "postgresql":
        return
    with env.rt.engine.connect() as conn:
        conn.execute(text("ANALYZE plate_reads"))
        conn.commit()


# -- synthetic reads --------------------------------------------------------------------------


def random_plate(rng: random.Random, length: int = 7) -> str:
    return "".join(rng.choices(PLATE_CHARS, k=length))


class ReadSource:
    """Raw read dicts as the API receives them, generated lazily batch by batch.

    Plates come from a pool so that they repeat across days: ``frequent_share`` of reads use a
    small set of "commuter" plates, the rest a large pool (about ``reads_per_plate`` reads per
    plate over the run). ``observed_at`` is spread uniformly over the last ``days`` days (well
    inside the 60-day unmatched retention window). With ``keep`` > 0 a reservoir sample of
    (plate, observed_at) is kept for choosing searches; the plates stay in memory only.

    ``arrival`` orders the reads:

    * ``"scattered"``: every read's time is drawn uniformly from the whole span, so each batch
      touches every day of it: a bulk backfill, and the worst case for every time-keyed index.
    * ``"stream"``: reads arrive as cameras send them. The run's reads are spread over the span
      in order (read i of ``total`` at i/total of the way through), each one late by its
      upload delay: a few seconds to a minute, and 1% of them by up to six hours (a camera that
      was offline). Same plates, cameras and days as scattered; only the order differs.
    """

    def __init__(
        self,
        *,
        total: int,
        days: float,
        seed: int = 1,
        cameras: int = 64,
        frequent: int = 2000,
        frequent_share: float = 0.2,
        reads_per_plate: float = 4.0,
        keep: int = 0,
        arrival: str = "scattered",
    ) -> None:
        if arrival not in ("scattered", "stream"):
            raise ValueError(f"arrival must be 'scattered' or 'stream', not {arrival!r}")
        self.rng = random.Random(seed)
        self.days = days
        self.total = total
        self.arrival = arrival
        self.start = datetime.now(UTC) - timedelta(days=days)
        pool_size = max(frequent + 1, int(total * (1 - frequent_share) / reads_per_plate))
        self.pool = [random_plate(self.rng) for _ in range(pool_size)]
        self.frequent = self.pool[:frequent]
        self.frequent_share = frequent_share
        self.cameras = [f"cam-{n:03d}" for n in range(cameras)]
        self.seed = seed
        self.emitted = 0
        self.keep = keep
        self.sample: list[tuple[str, datetime]] = []

    def batch(self, size: int) -> list[dict[str, Any]]:
        rng = self.rng
        now = datetime.now(UTC) - timedelta(seconds=5)
        span = self.days * 86_400.0
        out = []
        for _ in range(size):
            plate = rng.choice(self.frequent if rng.random() < self.frequent_share else self.pool)
            if self.arrival == "stream":
                late = rng.random() * 21_600 if rng.random() < 0.01 else rng.expovariate(1 / 20)
                nominal = self.start + timedelta(seconds=span * self.emitted / self.total)
                at = min(now, nominal) - timedelta(seconds=late)
            else:
                at = now - timedelta(seconds=rng.random() * span)
            camera = rng.choice(self.cameras)
            self.emitted += 1
            read: dict[str, Any] = {
                "plate": plate,
                "observed_at": at.isoformat(),
                "camera_id": camera,
                "plate_state": "CA",
                "latitude": 34.0 + rng.random() * 0.5,
                "longitude": -118.5 + rng.random() * 0.5,
                "confidence": round(0.6 + rng.random() * 0.39, 3),
                "client_read_id": f"s{self.seed}-{self.emitted}",
            }
            if rng.random() < 0.005:
                read["hit"] = {"list": "SVS", "entry": f"NCIC-{self.emitted}"}
            out.append(read)
            if self.keep:
                if len(self.sample) < self.keep:
                    self.sample.append((plate, at))
                else:
                    j = rng.randrange(self.emitted)
                    if j < self.keep:
                        self.sample[j] = (plate, at)
        return out

    def batches(self, total: int, size: int) -> Iterator[list[dict[str, Any]]]:
        left = total
        while left > 0:
            n = min(size, left)
            left -= n
            yield self.batch(n)


# -- stats ------------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an unsorted list (0 for an empty one)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def rss_mb(pid: int | None = None) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
