"""``alpr-guard serve``: the API under gunicorn, with a worker model that suits the database.

The worker model:

* gunicorn's ``gthread`` workers: each worker is a process with a pool of threads.
* Nothing is built before the fork (``preload_app`` off): each worker builds its own Runtime
  after it starts, so each has its own engine, connection pool and key cache. A connection is
  never shared between processes, which is what the search's server-side prepared statements
  need (PostgreSQL keeps them per connection; psycopg names them per connection), and what
  SQLite needs (a SQLite connection must never cross a fork).
* SQLite has one writer at a time. Every write transaction starts with ``BEGIN IMMEDIATE``, so
  more processes would only queue behind each other for the same lock: on SQLite the default is
  one worker with threads. On PostgreSQL the default is two workers per CPU (at most 8).
* Connections per worker: up to ``database.pool_size`` plus as many overflow; threads above
  that wait for a connection. Size PostgreSQL's ``max_connections`` for
  workers x 2 x pool_size (plus the scheduler and CLI).
* A lone worker (SQLite's) is pinned to one CPU (``--pin/--no-pin``; several workers are pinned
  only when asked, one CPU each in turn). A worker's threads take turns on one interpreter
  lock, so it never uses more than one core's worth of Python; left to move, each hand-over
  of the lock to a thread the kernel had put on the other core woke it there, with cold
  caches. One-read camera posts from 8 senders (bench/webhooks.py, 30,000 posts, the idle
  2-core machine): 860 and 868 reads/s unpinned, 1,269 and 1,285 pinned (1,315 and 1,329 reads
  per CPU second of the worker against 855 and 863).

The master process checks readiness before it forks (database reachable, schema at head, key
store usable) and records the enforced policy once, so a misconfiguration is one line on the
terminal instead of a traceback per worker.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from alpr_guard.settings import Settings

MAX_DEFAULT_WORKERS = 8


def default_workers(settings: Settings) -> int:
    if settings.database.url.startswith("sqlite"):
        return 1
    return max(1, min(2 * (os.cpu_count() or 1), MAX_DEFAULT_WORKERS))


def pinned_cpus(workers: int, pin: bool | None, allowed: Collection[int]) -> list[int]:
    """The CPUs workers are pinned to, in turn (empty: none is pinned). ``pin`` None pins a
    lone worker only; nothing is pinned where only one CPU may be used anyway."""
    if len(allowed) < 2 or not (workers == 1 if pin is None else pin):
        return []
    return sorted(allowed, reverse=True)


def cpu_for_worker(age: int, cpus: Sequence[int]) -> int:
    """The CPU of the ``age``-th worker gunicorn spawned (counted from 1; a replaced worker is
    a new age): the pinned CPUs in turn."""
    return cpus[(age - 1) % len(cpus)]


def allowed_cpus() -> set[int]:
    """The CPUs this process may run on (its cgroup's cpuset included); none known off Linux."""
    getter = getattr(os, "sched_getaffinity", None)
    return set(getter(0)) if getter is not None else set()


class TrustedProxy:
    """WSGI middleware: the client address is the last ``X-Forwarded-For`` hop, but only when
    the request comes from the configured reverse proxy; from anyone else the header is
    dropped, so a client cannot choose the address its requests are logged under."""

    def __init__(self, app: Callable[..., Iterable[bytes]], proxy: str) -> None:
        self.app = app
        self.proxy = proxy

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        forwarded = environ.pop("HTTP_X_FORWARDED_FOR", None)
        if forwarded and environ.get("REMOTE_ADDR") == self.proxy:
            hop = forwarded.rsplit(",", 1)[-1].strip()
            if hop:
                environ["REMOTE_ADDR"] = hop
        return self.app(environ, start_response)


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    trusted_proxy: str | None = None,
    log_format: str = "json",
    pin: bool | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT (gunicorn handles graceful shutdown)."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    from alpr_guard import logs, metrics
    from alpr_guard.jobs.scheduler import HeadCheckpointer
    from alpr_guard.runtime import Runtime

    # Each worker counts into its own file here and a scrape of any worker sums them all
    # (alpr_guard.metrics); set before the fork, so every worker inherits it.
    metrics.use_directory(
        Path(
            os.environ.get(metrics.MULTIPROC_ENV) or tempfile.mkdtemp(prefix="alpr_guard_metrics_")
        )
    )

    built: list[Runtime] = []  # this worker's runtime, built after the fork
    checkpointers: list[HeadCheckpointer] = []

    def worker_exit(_server: object, _worker: object) -> None:
        # Pin the chain head once more (the events this worker wrote since the last interval),
        # then close the pool's connections, so the database sees clean exits.
        try:
            for checkpointer in checkpointers:
                checkpointer.stop()
        finally:
            for rt in built:
                rt.dispose()

    def child_exit(_server: object, worker: Any) -> None:
        metrics.worker_gone(worker.pid)

    cpus = pinned_cpus(workers, pin, allowed_cpus())

    def post_fork(_server: object, worker: Any) -> None:
        # Before the worker starts any thread: its threads inherit the main thread's CPU.
        if cpus:
            cpu = cpu_for_worker(worker.age, cpus)
            os.sched_setaffinity(0, {cpu})
            worker.log.info("worker %s pinned to CPU %s", worker.pid, cpu)

    class _NoAccessLog(Logger):  # type: ignore[misc]
        """The app logs one line per request itself (alpr_guard.api). gunicorn's own access
        log is off, but with a logging config it still builds every field of the line for
        each request before its logger drops it: about 6% of a camera's one-read post."""

        def _compute_access_log_enabled(self) -> bool:
            return False

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "preload_app": False,
                # Long report exports stream for minutes; gthread workers heartbeat from their
                # main loop, so this only catches a worker whose loop is stuck.
                "timeout": 120,
                "graceful_timeout": 30,
                "keepalive": 5,
                "accesslog": None,  # the app logs one line per request itself
                "logger_class": _NoAccessLog,
                "errorlog": "-",
                "loglevel": "info",
                "logconfig_dict": logs.gunicorn_config(log_format),
                "proc_name": "alpr_guard",
                # X-Forwarded-* is honoured only from these addresses (the reverse proxy).
                "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
                # gunicorn 23+ opens a control socket under $HOME; nothing here uses it, and
                # the container's home is not meant to be written.
                "control_socket_disable": True,
                "worker_exit": worker_exit,
                "child_exit": child_exit,
                "post_fork": post_fork,
            }
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            from alpr_guard.api import build_app
            from alpr_guard.memory import TrimWhenIdle, limit_arenas
            from alpr_guard.runtime import build_runtime

            limit_arenas(2)  # before this worker starts its threads (see alpr_guard.memory)
            # Bounded by the threads: a request holds at most two connections (its session and
            # a read-only one). While requests come, every connection stays open (opening one
            # per request cost a camera's one-read post about a fifth of its time); once the
            # server is idle they are all closed, with their caches and prepared statements,
            # and reopened by the next burst (bench/load.py: the RSS after a 32-client load
            # stays near idle).
            most = min(2 * threads, 2 * settings.database.pool_size)
            rt = build_runtime(settings, pool=(most, most))
            built.append(rt)
            # Each worker pins the head it writes; several writers only ever move it forward.
            checkpointers.append(HeadCheckpointer(rt).start())
            app: Callable[..., Iterable[bytes]] = TrimWhenIdle(
                build_app(rt), on_idle=rt.engine.dispose
            )
            gc.freeze()  # the app and its runtime live as long as the worker (see cli.serve)
            return TrustedProxy(app, trusted_proxy) if trusted_proxy else app

    _App().run()
