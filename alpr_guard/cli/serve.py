"""``alpr-guard serve`` and ``alpr-guard scheduler``: the two long-running processes."""

from __future__ import annotations

import gc
import signal
from typing import TYPE_CHECKING

import click

from alpr_guard import logs
from alpr_guard.cli.common import (
    CliFailure,
    State,
)

if TYPE_CHECKING:
    pass


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="ALPR_GUARD_HOST")
@click.option("--port", default=8080, show_default=True, type=int, envvar="ALPR_GUARD_PORT")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    envvar="ALPR_GUARD_WORKERS",
    help="Worker processes (default: 1 on SQLite, 2 per CPU up to 8 on PostgreSQL).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="ALPR_GUARD_THREADS",
    help="Threads per worker.",
)
@click.option(
    "--trusted-proxy",
    default=None,
    envvar="ALPR_GUARD_TRUSTED_PROXY",
    help="Address of the reverse proxy whose X-Forwarded-For names the client in the request "
    "log; from anyone else the header is ignored.",
)
@click.option(
    "--log-format",
    type=click.Choice(logs.FORMATS),
    default="json",
    show_default=True,
    envvar="ALPR_GUARD_LOG_FORMAT",
    help="One JSON object per line (request lines carry their fields), or plain text.",
)
@click.option(
    "--pin/--no-pin",
    "pin",
    default=None,
    envvar="ALPR_GUARD_PIN_WORKERS",
    help="Pin each worker process to one CPU, the CPUs in turn (default: a lone worker, as on "
    "SQLite, is pinned; several are not).",
)
@click.pass_obj
def serve(
    state: State,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    trusted_proxy: str | None = None,
    log_format: str = "json",
    pin: bool | None = None,
) -> None:
    """Serve the HTTP API under gunicorn (gthread workers; see docs/deployment.md).

    Each worker checkpoints the chain head every audit.checkpoint_interval_seconds while
    requests write events, and once more when it stops (SIGINT or SIGTERM to the server).
    """
    from alpr_guard import readiness, server
    from alpr_guard.audit import Actor
    from alpr_guard.checkpoints import ensure_dirs
    from alpr_guard.db import session_scope
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.config_audit import record_policy

    logs.use_format(log_format)
    _check_port(host, port)
    settings = state.settings
    # Every search is screened: compile the rules now (a broken rules file stops the start),
    # once, before the workers fork and share them, and apart, so that what the workers
    # inherit is the compact rules and not the compiler's fragmented heap.
    settings.rules.compile_apart()
    # The compiled rules are hundreds of thousands of objects that live as long as the process:
    # frozen, the collector never walks them again, so the workers forked from here share their
    # pages instead of copying them, and an orderly stop does not spend seconds tearing them down.
    gc.freeze()
    rt = build_runtime(settings)
    try:
        ensure_dirs(rt)
        # Before any worker forks: one line for the operator instead of a traceback per worker.
        reachable = readiness.check_database(rt.engine, settings.database.url)
        schema_ok = readiness.check_schema(rt.engine) if reachable.ok else reachable
        for check in (reachable, schema_ok, readiness.check_keystore(settings, rt.keyring)):
            if not check.ok:
                raise CliFailure(check.detail)
        with session_scope(rt.sessions) as session:
            record_policy(session, rt, Actor("system:startup", settings.instance.operating_agency))
    finally:
        rt.dispose()
    count = workers or server.default_workers(settings)
    click.echo(
        f"alpr_guard serving on http://{host}:{port} with {count} worker(s) x {threads} "
        f"threads (config {settings.source})"
    )
    server.run(
        settings,
        host=host,
        port=port,
        workers=count,
        threads=threads,
        trusted_proxy=trusted_proxy,
        log_format=log_format,
        pin=pin,
    )


def _check_port(host: str, port: int) -> None:
    """A port in use is one line naming it, before anything starts."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliFailure(
                    f"port {port} on {host} is already in use: stop the process holding it, "
                    "or choose another with --port (or ALPR_GUARD_PORT)"
                ) from None
            raise CliFailure(
                f"cannot listen on {host}:{port}: {exc.strerror} (check --host)"
            ) from None


def _exit_on_signal(signum: int, _frame: object) -> None:
    # SystemExit unwinds the scheduler's loop cleanly, so the final checkpoint runs.
    raise SystemExit(0)


# -- audit ----------------------------------------------------------------------------------


@click.command("scheduler")
@click.option(
    "--log-format",
    type=click.Choice(logs.FORMATS),
    default="json",
    show_default=True,
    envvar="ALPR_GUARD_LOG_FORMAT",
    help="One JSON object per line (request lines carry their fields), or plain text.",
)
@click.pass_obj
def scheduler(state: State, log_format: str = "json") -> None:
    """Run the scheduled jobs (access review, retention purge, audit checkpoints) here."""
    logs.use_format(log_format)

    from alpr_guard.audit import Actor
    from alpr_guard.checkpoints import ensure_dirs
    from alpr_guard.db import session_scope
    from alpr_guard.jobs.scheduler import build_scheduler, run_head_checkpoint
    from alpr_guard.runtime import build_runtime
    from alpr_guard.services.config_audit import record_policy

    state.settings.rules.compile_apart()  # the review screens: a broken rules file stops here
    gc.freeze()  # as for serve: long-lived, never walked by the collector, not torn down
    rt = build_runtime(state.settings)
    ensure_dirs(rt)
    with session_scope(rt.sessions) as session:
        record_policy(session, rt, Actor("system:startup", rt.settings.instance.operating_agency))
    click.echo(
        f"scheduler: access review at '{state.settings.review.schedule}', purge at "
        f"'{state.settings.purge.schedule}', checkpoints at "
        f"'{state.settings.audit.checkpoint_schedule}' (UTC) and of the head every "
        f"{state.settings.audit.checkpoint_interval_seconds}s; configuration drift now and "
        "every 24 hours"
    )
    signal.signal(signal.SIGTERM, _exit_on_signal)
    jobs = build_scheduler(rt)
    try:
        jobs.start()
    finally:
        if jobs.running:
            jobs.shutdown(wait=True)  # a running job finishes first
        # The last events before shutdown are pinned too.
        if rt.settings.audit.checkpoint_dirs:
            run_head_checkpoint(rt)
        rt.dispose()
