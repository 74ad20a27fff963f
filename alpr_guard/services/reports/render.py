"""The reports as printable HTML pages: inline CSS, ``@media print``, no script, no external
asset. The markup is in Jinja2 templates shipped with the package (``alpr_guard/templates/
reports/``), rendered with autoescape on for every template, so every value is escaped as text;
nothing here builds markup or marks a string safe."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined

from alpr_guard.services.reports.export import iso
from alpr_guard.services.reports.model import AccessRow, ComplianceSummary, Counts, ReportFilter

CHART_LIMIT = 25
_BAR = "#2f5d8a"
_BAD = "#c00000"
# Chart geometry, in SVG user units: label column, longest bar, value column, row height.
_LABEL_W, _BAR_W, _VALUE_W, _ROW_H = 190, 330, 70, 20
_LABEL_CHARS = 28


@dataclass(frozen=True)
class Bar:
    label: str
    n: int
    y: int
    length: int


@dataclass(frozen=True)
class ChartGeometry:
    width: int
    height: int
    bars: tuple[Bar, ...]
    more: int  # bars past the limit, left to the JSON form
    label_w: int = _LABEL_W
    row_h: int = _ROW_H


def chart_geometry(counts: Counts, limit: int = CHART_LIMIT) -> ChartGeometry:
    """Where each bar of ``reports/chart.html`` goes: the first ``limit`` counts, the longest
    bar for the largest count, long labels cut with an ellipsis."""
    shown = counts[:limit]
    top = max((n for _k, n in shown), default=0)
    bars = []
    for i, (label, n) in enumerate(shown):
        length = 0 if top == 0 else max(round(_BAR_W * n / top), 1 if n else 0)
        short = label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "\u2026"
        bars.append(Bar(short, n, 4 + i * _ROW_H, length))
    return ChartGeometry(
        width=_LABEL_W + _BAR_W + _VALUE_W,
        height=max(len(shown), 1) * _ROW_H + 8,
        bars=tuple(bars),
        more=len(counts) - len(shown),
    )


def _iso_or_blank(value: datetime | None) -> str:
    return iso(value) or ""


def _blank_none(value: object) -> object:
    # A missing value prints as an empty cell, never as "None". A template that means "None"
    # says so (``|string``).
    return "" if value is None else value


# One environment for the reports, made once. Autoescape is on for every template whatever its
# name (the chart is a fragment of SVG, the stylesheet plain text with no expression), and an
# undefined name is an error rather than an empty string. The templates ship with the package
# and are not edited in place: no reload checks.
_ENV = Environment(
    loader=PackageLoader("alpr_guard", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    finalize=_blank_none,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,
)
_ENV.filters["iso"] = _iso_or_blank
_ENV.filters["percent"] = lambda rate: f"{rate:.2%}"
_ENV.globals.update(chart_geometry=chart_geometry, CHART_LIMIT=CHART_LIMIT, BAR=_BAR, BAD=_BAD)


def bar_chart(title: str, counts: Counts, *, color: str = _BAR, limit: int = CHART_LIMIT) -> str:
    """A horizontal bar chart as inline SVG: no script, no external asset, prints as drawn."""
    chart = _ENV.get_template("reports/chart.html").module.bar_chart  # type: ignore[attr-defined]
    return str(chart(title, counts, color=color, limit=limit))


def render_access_html(
    rows: Iterable[AccessRow],
    filters: ReportFilter,
    *,
    full: bool = False,
    generated_at: datetime | None = None,
    chunk_rows: int = 500,
) -> Iterator[str]:
    """A printable page (inline CSS, ``@media print``, no script, no external asset), every
    value escaped, streamed in chunks: the head before the first row is read, then
    ``chunk_rows`` rows at a time, the last with the count."""
    page = _ENV.get_template("reports/access.html").module
    yield str(page.head(filters, full, generated_at))  # type: ignore[attr-defined]
    row = page.row  # type: ignore[attr-defined]
    parts: list[str] = []
    count = 0
    for record in rows:
        parts.append(str(row(record)))
        count += 1
        if len(parts) >= chunk_rows:
            yield "".join(parts)
            parts.clear()
    parts.append(str(page.foot(count)))  # type: ignore[attr-defined]
    yield "".join(parts)


def render_summary_html(s: ComplianceSummary) -> str:
    """The compliance summary as one printable page with inline SVG charts. Reads past their
    window still stored are shown in red when there are any: that count must be 0."""
    return _ENV.get_template("reports/summary.html").render(s=s)
