"""The entry point: every failure ends as one line naming the problem and the fix."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alpr_guard.cli.common import (
    CliFailure,
    connect_timeout,
    current,
)
from alpr_guard.errors import AlprGuardError, ConfigError

if TYPE_CHECKING:
    pass

from alpr_guard.cli.app import cli


def main() -> None:
    """The entry point: every failure ends as one line naming the problem and the fix.

    Exit codes: 1 an operation failed, 2 the configuration or the command line is wrong,
    3 the purge lease is held elsewhere, 130 interrupted. ``ALPR_GUARD_TRACEBACK=1`` shows
    the traceback of an unexpected error.
    """
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.UsageError as exc:
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        click.echo(f"error: {' '.join(exc.format_message().split())}{where}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"config error: {exc.message}", err=True)
        sys.exit(2)
    except AlprGuardError as exc:
        click.echo(f"error: {exc.code}: {exc.message}", err=True)
        sys.exit(1)
    except CliFailure as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("ALPR_GUARD_TRACEBACK"):
            raise
        click.echo(f"error: {_explain(exc)}", err=True)
        sys.exit(1)


def _explain(exc: Exception) -> str:
    """One line for an exception no command caught: the database, a file, or a bug."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        return _explain_database(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        path = Path(str(exc.filename))
        if isinstance(exc, FileNotFoundError) and not path.parent.exists():
            return (
                f"cannot write {path}: the folder {path.parent} does not exist "
                "(create it, or choose another path)"
            )
        return f"{path}: {exc.strerror or type(exc).__name__} (check the path and its permissions)"
    return (
        f"unexpected {type(exc).__name__} (a bug: run again with ALPR_GUARD_TRACEBACK=1 and "
        "report the traceback)"
    )


def _explain_database(exc: Exception) -> str:
    """Is the database down, not migrated, or behind this version? Then say what to run."""
    from sqlalchemy import create_engine

    from alpr_guard import readiness

    settings = current[0]._settings if current else None
    orig = getattr(exc, "orig", None)
    reason = type(orig if orig is not None else exc).__name__
    if settings is None:
        return f"database error ({reason})"
    url = settings.database.url
    engine = create_engine(url, **connect_timeout(url))
    try:
        reachable = readiness.check_database(engine, url)
        if not reachable.ok:
            return reachable.detail
        schema_check = readiness.check_schema(engine)
        if not schema_check.ok:
            return schema_check.detail
    finally:
        engine.dispose()
    first = str(orig if orig is not None else exc).strip().splitlines()
    return (
        f"the database refused the operation ({reason}: {first[0][:200] if first else ''}); "
        f"run `alpr-guard config check`"
    )
