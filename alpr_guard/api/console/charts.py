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


def sightings_map(
    points: Sequence[tuple[float, float, str]], *, width: int = 560, height: int = 360
) -> Markup:
    """Where a plate was seen: each (latitude, longitude, label) as a dot on a plain plot of
    the area the sightings span (equirectangular, north up), with a scale of the span in
    degrees. No map tiles and nothing fetched: the coordinates come from the search's results.
    """
    margin = 28
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart map" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-size="11">'
        f"<title>Where the plate was seen: {len(points)} located sightings</title>"
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#f4f6f8" '
        f'stroke="#767676"/>'
    ]
    if not points:
        parts.append(f'<text x="{margin}" y="{height / 2}" fill="#333">no located sightings</text>')
        parts.append("</svg>")
        return Markup("".join(parts))  # noqa: S704 - constant text only
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    span = max(north - south, east - west, 0.002)  # one scale for both axes, never zero
    mid_lat, mid_lon = (north + south) / 2, (east + west) / 2
    scale = min(width, height) - 2 * margin

    def xy(lat: float, lon: float) -> tuple[float, float]:
        x = width / 2 + (lon - mid_lon) / span * scale
        y = height / 2 - (lat - mid_lat) / span * scale
        return round(x, 1), round(y, 1)

    for n, (lat, lon, label) in enumerate(points, 1):
        x, y = xy(lat, lon)
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="6" fill="{BAD}" fill-opacity="0.8" stroke="#fff">'
            f"<title>{n}: {_e(label)} ({lat:.5f}, {lon:.5f})</title></circle>"
            f'<text x="{x + 8}" y="{y + 4}" fill="#111">{n}</text>'
        )
    parts.append(
        f'<text x="{margin}" y="{height - 8}" fill="#333">N up; span {span:.4f}° '
        f"({south:.4f} to {north:.4f} N, {west:.4f} to {east:.4f} E)</text></svg>"
    )
    return Markup("".join(parts))  # noqa: S704 - every interpolated label is escaped above
