"""Masking plates typed into free text: the display copy of a justification, case number, hold
reason, share text or resolution note. The original is sealed; only this copy is shown.

The rule, in every spelling the plate normaliser accepts (NFKC, any whitespace or dash between
characters, any case):

* Text is read after NFKC (full-width characters become ASCII). It is cut into *chunks* (runs
  of ASCII letters and digits) joined by *separators* (whitespace and dashes, the characters the
  normaliser removes); anything else (punctuation, other scripts) ends a run of chunks.
* A chunk mixing letters and digits is masked, whatever its length (``7ABC123``, a VIN).
* A chunk of letters only or digits only is masked when it lies in a window of consecutive
  chunks of its run that is at most 10 characters long (the longest plate) and mixes letters
  and digits: ``7 ABC 123``, ``7abc-123`` and ``7 A B C 1 2 3`` are masked whole. This may
  mask a short word beside a number ("on I 5"); the original is sealed, not lost.
* A plate known to be involved (the queried, held or shared plate) is masked in any spelling
  whatever its shape, so a letters-only vanity plate or a digits-only plate is masked too.
* A match of the agency's own case-number pattern (``search.case_number_pattern``, e.g.
  ``26-004512``) stays readable unless it is, together with a neighbouring chunk, itself a
  plate-shaped window.

Each masked span (chunks and the separators between them) becomes ``[plate]``. One pass over
the text, and a bounded window per chunk: linear time. Compiled patterns are cached.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

MASK = "[plate]"
MAX_PLATE = 10
# The normaliser's separators (policy.plates._STRIP), as seen after NFKC.
SEPARATORS = r"\s\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
_SEP_RUN = f"[{SEPARATORS}]*"
_CHUNK = re.compile(r"[A-Za-z0-9]+")
_SEP_ONLY = re.compile(f"[{SEPARATORS}]+")
_DIGIT = re.compile(r"[0-9]")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


@lru_cache(maxsize=1024)
def _plate_pattern(plate: str) -> re.Pattern[str]:
    """The plate in any spelling the normaliser accepts (compiled once per plate)."""
    return re.compile(_SEP_RUN.join(re.escape(ch) for ch in plate), re.IGNORECASE)


@lru_cache(maxsize=32)
def _case_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9])(?:{pattern})(?![A-Za-z0-9])")


def _squeezed(text: str) -> str:
    """The text without separators, upper-cased as the patterns' IGNORECASE compares (the one
    letter it matches that ``upper`` does not map, dotted capital I, mapped by hand)."""
    return _SEP_ONLY.sub("", text).upper().replace("\u0130", "I")


def mask_known(text: str, plates: Iterable[str]) -> str:
    """Only the given normalised plates masked, in any spelling (NFKC applied first).

    A plate that a pattern could match appears, letter by letter, in the squeezed text: a plate
    that does not (nearly every search: the plate is rarely typed in the justification) is
    skipped without compiling its pattern, which cost more than the rest of the masking.
    """
    text = unicodedata.normalize("NFKC", text)
    squeezed: str | None = None
    for plate in sorted(set(plates), key=len, reverse=True):
        if not plate:
            continue
        if squeezed is None:
            squeezed = _squeezed(text)
        if plate.upper() in squeezed:
            text = _plate_pattern(plate).sub(MASK, text)
            squeezed = None  # the text changed
    return text


def _kind(chunk: str) -> int:
    """1: letters only, 2: digits only, 3: both."""
    if chunk.isdigit():
        return 2
    return 1 if chunk.isalpha() else 3


def _mask_run(run: list[tuple[int, int, int, bool, int]], masked: list[bool]) -> None:
    """Mark the chunks of one run (start, end, kind, keep_alone, letters and digits in it) that
    some mixed window of at most MAX_PLATE letters and digits covers; ``masked`` is indexed
    like ``run``."""
    for i, (_, _, kind, keep, size) in enumerate(run):
        if kind == 3 and not keep:
            masked[i] = True
            continue
        if size > MAX_PLATE:
            continue
        # The nearest chunk of the other kind on each side, within the length budget.
        for step in (-1, 1):
            total, j, seen = size, i + step, kind
            while 0 <= j < len(run):
                total += run[j][4]
                if total > MAX_PLATE:
                    break
                seen |= run[j][2]
                if seen == 3:
                    masked[i] = True
                    break
                j += step
            if masked[i]:
                break


def _chunks(text: str, case_pattern: str | None) -> list[tuple[int, int, int, bool, int]]:
    """(start, end, kind, keep_alone, letters and digits) of each chunk; a case-number match is
    one chunk of its own that is kept readable unless a plate-shaped window covers it."""
    keep: list[tuple[int, int]] = []
    if case_pattern:
        keep = [m.span() for m in _case_pattern(case_pattern).finditer(text) if m.end() > m.start()]
    chunks: list[tuple[int, int, int, bool, int]] = []
    pos = 0
    for k_start, k_end in [*keep, (len(text), len(text))]:
        for m in _CHUNK.finditer(text, pos, k_start):
            chunk = m.group()
            chunks.append((m.start(), m.end(), _kind(chunk), False, len(chunk)))
        if k_end > k_start:
            alnum = _NOT_ALNUM.sub("", text[k_start:k_end])
            chunks.append((k_start, k_end, _kind(alnum) if alnum else 0, True, len(alnum)))
        pos = k_end
    return chunks


def mask_text(text: str, plates: Iterable[str] = (), case_pattern: str | None = None) -> str:
    """The display copy of free text: ``plates`` (normalised) and every plate-shaped token
    masked (module docstring); ``case_pattern`` matches stay readable."""
    text = mask_known(text, plates)
    if _DIGIT.search(text) is None:
        return text  # every plate-shaped window holds a digit
    masked_spans: list[tuple[int, int]] = []
    run: list[tuple[int, int, int, bool, int]] = []

    def close_run() -> None:
        if any(c[2] & 2 for c in run):  # no digit in the run: nothing to mask
            flags = [False] * len(run)
            _mask_run(run, flags)
            for n, flag in enumerate(flags):
                if not flag:
                    continue
                start, end = run[n][0], run[n][1]
                if n > 0 and flags[n - 1]:
                    masked_spans[-1] = (masked_spans[-1][0], end)  # one mask over the span
                else:
                    masked_spans.append((start, end))
        run.clear()

    previous_end = -1
    for chunk in _chunks(text, case_pattern):
        start = chunk[0]
        if run and start > previous_end and _SEP_ONLY.fullmatch(text, previous_end, start) is None:
            close_run()  # something other than separators between: a new run
        run.append(chunk)
        previous_end = chunk[1]
    close_run()
    if not masked_spans:
        return text
    out: list[str] = []
    pos = 0
    for start, end in masked_spans:
        out.append(text[pos:start])
        out.append(MASK)
        pos = end
    out.append(text[pos:])
    return "".join(out)
