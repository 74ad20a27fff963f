"""Give memory freed after a burst of requests back to the operating system (glibc only).

A 1,000-read batch briefly needs several MB of Python objects; with eight server threads the
C allocator spreads them over per-thread arenas and keeps the freed pages, so a server that
handled a burst stayed at its peak size for good. Two measures, both no-ops off glibc:
``limit_arenas`` caps the allocator's arenas before the server's threads start, and
``TrimWhenIdle`` calls ``malloc_trim(0)`` once no request has been in flight for half a second,
which returns free pages in every arena.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable, Iterable
from typing import Any

_M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - glibc only; a missing symbol raises here
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def limit_arenas(count: int) -> bool:
    """Cap glibc's malloc arenas; call before starting threads. False where not glibc."""
    return _LIBC is not None and bool(_LIBC.mallopt(_M_ARENA_MAX, count))


def trim() -> bool:
    """Return free heap pages to the OS; False where not glibc."""
    return _LIBC is not None and bool(_LIBC.malloc_trim(0))


class TrimWhenIdle:
    """WSGI middleware: trim once the server has had no request in flight for ``delay_s``.

    The trim runs on a timer thread, after the server has written the last response and freed
    its buffers; a request arriving meanwhile postpones it to the next idle moment.
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        delay_s: float = 0.5,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.delay_s = delay_s
        # Run before the trim, at the same idle moment (the server closes its surplus pooled
        # connections here, so their caches are among what the trim gives back).
        self.on_idle = on_idle
        self._lock = threading.Lock()
        self._in_flight = 0
        self._generation = 0  # bumped by every request: a timer from before one does nothing
        self._timer: threading.Timer | None = None
        self.trims = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self._lock:
            self._in_flight += 1
            self._generation += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self._in_flight -= 1
                if self._in_flight == 0 and self._timer is None:
                    self._timer = threading.Timer(self.delay_s, self._idle, (self._generation,))
                    self._timer.daemon = True
                    self._timer.start()

    def _idle(self, generation: int) -> None:
        with self._lock:
            self._timer = None
            quiet = self._in_flight == 0 and self._generation == generation
        if not quiet:
            return
        if self.on_idle is not None:
            self.on_idle()
        if trim():
            self.trims += 1
