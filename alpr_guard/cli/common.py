"""What every command shares: the command's state (its config, loaded once), the one-line
failure type ``main`` prints, and a runtime with one session for a command's work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from alpr_guard.progress import SILENT, Progress, TerminalProgress
from alpr_guard.settings import Settings, load_settings

if TYPE_CHECKING:
    from alpr_guard.audit import Actor
    from alpr_guard.runtime import Runtime

OPERATOR_ENV = "ALPR_GUARD_OPERATOR"
OPERATOR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-")
MAX_OPERATOR = 56  # the audit actor is "cli:<operator>", at most 60 of its 64 characters


class CliFailure(Exception):
    """A failure the operator can fix: ``main`` prints its one line and exits ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


# The state of the running command, so ``main`` can diagnose a database error against the
# config the command used.
current: list[State] = []


class State:
    def __init__(self, config: str | None, operator: str | None = None) -> None:
        self.config = config
        self.operator_given = operator  # --operator or $ALPR_GUARD_OPERATOR
        self._settings: Settings | None = None

    def operator(self, *, named: bool = False) -> str:
        """Who runs this command: ``--operator`` (or ``$ALPR_GUARD_OPERATOR``), else the
        operating-system user unless ``named`` asks for a person named explicitly."""
        import getpass

        name = self.operator_given
        if name is None and not named:
            try:
                name = getpass.getuser()
            except (KeyError, OSError):  # a container user with no name
                name = None
        if not name:
            raise CliFailure(
                "this command records who runs it: pass --operator NAME "
                f"(or set {OPERATOR_ENV}) before the command",
                2,
            )
        name = name.strip()
        if not 1 <= len(name) <= MAX_OPERATOR or not set(name) <= OPERATOR_CHARS:
            raise CliFailure(
                f"--operator: must be 1-{MAX_OPERATOR} characters: letters, digits, '.', '_', "
                "'@', '-'",
                2,
            )
        return name

    def actor(self, agency: str | None = None, *, named: bool = False) -> Actor:
        """The audit actor of a state-changing or exporting command: ``cli:<operator>``."""
        from alpr_guard.audit import Actor

        return Actor(f"cli:{self.operator(named=named)}", agency)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            # Screening rules are compiled by the commands that screen (serve, scheduler,
            # review), not by every command that opens the config.
            self._settings = load_settings(self.config, compile_screening=False)
        return self._settings


@contextmanager
def runtime_session(state: State) -> Iterator[tuple[Runtime, Session]]:
    from alpr_guard.db import session_scope
    from alpr_guard.runtime import build_runtime

    rt = build_runtime(state.settings)
    try:
        with session_scope(rt.sessions) as session:
            yield rt, session
    finally:
        rt.dispose()


def json_short(value: object, limit: int = 80) -> str:
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def now() -> datetime:
    return datetime.now(UTC)


def connect_timeout(url: str) -> dict[str, object]:
    """Diagnostics give up on an unreachable PostgreSQL after a few seconds, not minutes."""
    return {"connect_args": {"connect_timeout": 5}} if url.startswith("postgresql") else {}


# Long jobs draw their progress on stderr when it is a terminal, or when asked to.
progress_option = click.option(
    "--progress/--no-progress",
    "show_progress",
    default=None,
    help="Progress with rate and ETA on stderr (default: when stderr is a terminal).",
)


def progress_for(show: bool | None) -> Progress:
    import sys

    tty = sys.stderr.isatty()
    if show is False or (show is None and not tty):
        return SILENT
    return TerminalProgress(sys.stderr, tty=tty)


def page_line(what: str, offset: int, shown: int, total: int) -> str:
    """The footer of a paged listing: which rows these are of how many, and the next page."""
    if not shown:
        return f"{what}: none at offset {offset:,} of {total:,}"
    line = f"{what} {offset + 1:,}\u2013{offset + shown:,} of {total:,}"
    if offset + shown < total:
        line += f" (next page: --offset {offset + shown})"
    return line
