"""Progress of a long job (the purge, the access review, the audit walk): how much is done, how
fast, and how long is left.

Services take a ``Progress`` and call ``start`` (with the total when they know it cheaply) and
``advance``; the default, ``SILENT``, does nothing. ``TerminalProgress`` draws one line on a
stream (the CLI's stderr): redrawn in place on a terminal, a fresh line every few seconds
elsewhere (a log file, a CI job). Counts only: no plate, no user, nothing from a row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """Receives a job's progress; this base class ignores it."""

    def start(self, label: str, total: int | None = None, unit: str = "") -> None:
        """A phase begins: ``label`` names it, ``total`` is how many ``unit`` are due."""

    def advance(self, count: int = 1) -> None:
        """``count`` more units are done."""

    def finish(self) -> None:
        """The phase ended (its last line is drawn)."""


SILENT = Progress()


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TerminalProgress(Progress):
    """``purge: deleting 120,000/200,000 reads (60%) 41,200/s, 0:03 elapsed, ETA 0:02``."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool,
        clock: Callable[[], float] = time.monotonic,
        every: float | None = None,
    ) -> None:
        self.stream = stream
        self.tty = tty
        self.clock = clock
        self.every = every if every is not None else (0.25 if tty else 5.0)
        self.label = ""
        self.unit = ""
        self.total: int | None = None
        self.done = 0
        self.started = self.drawn = 0.0
        self.active = False

    def start(self, label: str, total: int | None = None, unit: str = "") -> None:
        if self.active:
            self.finish()
        self.label, self.total, self.unit = label, total, unit
        self.done = 0
        self.started = self.drawn = self.clock()
        self.active = True
        self._draw(self.started)

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = self.clock()
        if now - self.drawn >= self.every:
            self._draw(now)

    def finish(self) -> None:
        if not self.active:
            return
        self._draw(self.clock(), final=True)
        self.active = False

    def line(self, now: float) -> str:
        elapsed = now - self.started
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            text = f"{self.label}: {self.done:,}/{self.total:,}{unit}"
            text += f" ({min(100, 100 * self.done // self.total)}%)"
        else:
            text = f"{self.label}: {self.done:,}{unit}"
        if elapsed > 0 and self.done:
            rate = self.done / elapsed
            text += f" {rate:,.0f}/s, {_duration(elapsed)} elapsed"
            if self.total and self.done < self.total:
                text += f", ETA {_duration((self.total - self.done) / rate)}"
        return text

    def _draw(self, now: float, final: bool = False) -> None:
        self.drawn = now
        text = self.line(now)
        if self.tty:
            self.stream.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
