"""Small charts as inline SVG: no script, no external asset, printed as drawn.

Each chart has a ``<title>`` and a text summary for screen readers; the numbers are always also
in a table or a sentence next to it, so nothing is only in a picture. Labels are escaped here
(the SVG is handed to the template as markup).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

BAR = "#2f5d8a"
BAD = "#b00020"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def column_chart(
    title: str,
    values: Sequence[tuple[str, int]],
    *,
    color: str = BAR,
    width: int = 300,
    height: int = 64,
) -> Markup:
    """Vertical bars, one per value (a day, say), scaled to the largest; a hover title per bar
    gives its label and count."""
    top = max((n for _label, n in values), default=0)
    step = width / max(len(values), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
        f'height="{height + 14}" viewBox="0 0 {width} {height + 14}">'
        f"<title>{_e(title)}</title>"
        f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#767676"/>'
    ]
    for i, (label, n) in enumerate(values):
        h = 0 if top == 0 else max(round(height * n / top), 1 if n else 0)
        x = round(i * step + 1, 1)
        w = max(round(step - 2, 1), 1)
        parts.append(
            f'<rect x="{x}" y="{height - h}" width="{w}" height="{h}" fill="{color}">'
            f"<title>{_e(label)}: {n}</title></rect>"
        )
    parts.append(
        f'<text x="0" y="{height + 12}" font-size="10" fill="#333">'
        f"{_e(values[0][0]) if values else ''}</text>"
        f'<text x="{width}" y="{height + 12}" font-size="10" fill="#333" text-anchor="end">'
        f"{_e(values[-1][0]) if values else ''} (max {top})</text></svg>"
    )
    return Markup("".join(parts))  # noqa: S704 - every interpolated label is escaped above


def bar_list(
    title: str, values: Sequence[tuple[str, int]], *, color: str = BAR, width: int = 420
) -> Markup:
    """Horizontal bars with their labels and counts (reasons, purposes, recipients)."""
    label_w, value_w, row_h = 170, 50, 20
    bar_w = width - label_w - value_w
    height = max(len(values), 1) * row_h + 6
    top = max((n for _label, n in values), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-size="12">'
        f"<title>{_e(title)}</title>"
    ]
    if not values:
        parts.append(f'<text x="4" y="{row_h - 6}" fill="#333">none</text>')
    for i, (label, n) in enumerate(values):
        y = 3 + i * row_h
        length = 0 if top == 0 else max(round(bar_w * n / top), 1 if n else 0)
        short = label if len(label) <= 26 else label[:25] + "\u2026"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" fill="#111">{_e(short)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{length}" height="{row_h - 6}" '
            f'fill="{color}"/>'
            f'<text x="{label_w + length + 4}" y="{y + 13}" fill="#111">{n}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated label is escaped above
