"""The reports as printable HTML pages: inline CSS, ``@media print``, no script, no external
asset, every value escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from alpr_guard.services.reports.export import iso
from alpr_guard.services.reports.model import AccessRow, ComplianceSummary, Counts, ReportFilter

_PAGE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;margin:1.5rem;color:#111}
h1{font-size:1.3rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
p.meta{color:#444;margin:.15rem 0;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.78rem}
th,td{border:1px solid #bbb;padding:.2rem .35rem;text-align:left;vertical-align:top}
th{background:#eee}tr.refused td{background:#fff4f4}tr.tampered td{background:#ffd0d0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#106b21;font-weight:600}.bad{color:#c00000;font-weight:700}
.note{font-size:.8rem;color:#444}
@media print{body{margin:0;font-size:9pt}thead{display:table-header-group}
tr{page-break-inside:avoid}a{color:inherit;text-decoration:none}h2{page-break-after:avoid}}
@page{size:landscape;margin:12mm}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _html_row(row: AccessRow) -> str:
    cells = (
        row.searched_at.isoformat(),
        row.username,
        row.agency,
        row.on_behalf_of,
        row.purpose,
        row.justification,
        row.case_number,
        row.plate,
        f"{iso(row.window_from) or ''} - {iso(row.window_to) or ''}",
        row.outcome,
        row.reason_code,
        row.result_count,
        ", ".join(row.findings),
        row.search_id,
        row.record_check,
    )
    klass = ' class="refused"' if row.outcome == "refused" else ""
    if row.record_check not in ("verified", "unbound"):
        klass = ' class="tampered"'  # fails verification against the audit chain
    body = "".join(
        f'<td class="num">{_e(c)}</td>' if isinstance(c, int) else f"<td>{_e(c)}</td>"
        for c in cells
    )
    return f"<tr{klass}>{body}</tr>\n"


def render_access_html(
    rows: Iterable[AccessRow],
    filters: ReportFilter,
    *,
    full: bool = False,
    generated_at: datetime | None = None,
    chunk_rows: int = 500,
) -> Iterator[str]:
    """A printable page (inline CSS, ``@media print``, no script, no external asset), every
    value escaped, streamed in chunks."""
    described = ", ".join(f"{k}={v}" for k, v in filters.as_details().items())
    plate_head = "Plate" if full else "Plate (keyed hash)"
    form = (
        "FULL form: plates decrypted. Not for release."
        if full
        else "Redacted form for release: plates shown as keyed hashes, personal data masked."
    )
    heads = (
        "Date and time (UTC)",
        "User",
        "Agency",
        "On behalf of",
        "Purpose",
        "Justification",
        "Case number",
        plate_head,
        "Window searched",
        "Outcome",
        "Reason code",
        "Results",
        "Review findings",
        "Search id",
        "Record check",
    )
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Access-justification report</title>"
        f"<style>{_PAGE_CSS}</style></head><body>\n"
        "<h1>Access-justification report (Civil Code 1798.90.52)</h1>\n"
        f'<p class="meta">{_e(described)}</p>\n'
        + (
            f'<p class="meta">Generated {_e(generated_at.isoformat())}</p>\n'
            if generated_at
            else ""
        )
        + f'<p class="meta {"bad" if full else "ok"}">{_e(form)}</p>\n'
        "<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in heads) + "</tr></thead>"
        "<tbody>\n"
    )
    parts: list[str] = []
    count = 0
    for row in rows:
        parts.append(_html_row(row))
        count += 1
        if len(parts) >= chunk_rows:
            yield "".join(parts)
            parts.clear()
    parts.append(
        f'</tbody></table>\n<p class="meta">{count} access record{"" if count == 1 else "s"}.'
        "</p>\n</body></html>\n"
    )
    yield "".join(parts)


CHART_LIMIT = 25
_BAR = "#2f5d8a"
_BAD = "#c00000"


def bar_chart(title: str, counts: Counts, *, color: str = _BAR, limit: int = CHART_LIMIT) -> str:
    """A horizontal bar chart as inline SVG: no script, no external asset, prints as drawn."""
    shown = counts[:limit]
    label_w, bar_w, value_w, row_h = 190, 330, 70, 20
    width = label_w + bar_w + value_w
    height = max(len(shown), 1) * row_h + 8
    top = max((n for _k, n in shown), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        f"<title>{_e(title)}</title>"
    ]
    if not shown:
        parts.append(f'<text x="4" y="{row_h - 4}" fill="#666">none in this period</text>')
    for i, (label, n) in enumerate(shown):
        y = 4 + i * row_h
        length = 0 if top == 0 else max(round(bar_w * n / top), 1 if n else 0)
        short = label if len(label) <= 28 else label[:27] + "\u2026"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_e(short)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{length}" height="{row_h - 6}" '
            f'fill="{color}"/>'
            f'<text x="{label_w + length + 4}" y="{y + 13}">{n}</text>'
        )
    parts.append("</svg>")
    more = len(counts) - len(shown)
    tail = f'<p class="note">and {more} more (all in the JSON form)</p>' if more > 0 else ""
    return "".join(parts) + tail


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="num">{_e(c)}</td>' if isinstance(c, int) else f"<td>{_e(c)}</td>"
                for c in row
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def render_summary_html(s: ComplianceSummary) -> str:
    """The compliance summary as one printable page with inline SVG charts. Reads past their
    window still stored are shown in red when there are any: that count must be 0."""
    past_class = "bad" if s.past_window else "ok"
    past_style = f"color:{_BAD}" if s.past_window else "color:#106b21"
    chain = s.chain
    chain_text = (
        f"verified: {chain.checked} events, last seq {chain.last_seq}, "
        f"{chain.checkpoints} signed checkpoints matched"
        if chain.ok
        else f"BROKEN at seq {chain.bad_seq}: {chain.problem} ({chain.checked} events checked)"
    )
    sections = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Compliance summary</title><style>{_PAGE_CSS}"
        "svg{display:block;margin:.2rem 0 .6rem}.big{font-size:1.6rem}"
        ".grid{display:flex;flex-wrap:wrap;gap:0 2rem}</style></head><body>",
        "<h1>Compliance summary</h1>",
        f'<p class="meta">Period {_e(s.since.isoformat())} to {_e(s.until.isoformat())} '
        f"(end exclusive); generated {_e(s.generated_at.isoformat())}</p>",
        "<h2>Retention</h2>",
        f'<p>Reads past their retention window still stored: <span id="past-window" '
        f'class="big {past_class}" style="{past_style}">{s.past_window}</span> '
        '<span class="note">(must be 0; counted as of the time of this report)</span></p>',
        _table(
            ("Class", "Ingested in period", "Purged in period", "Stored now", "Past window"),
            (
                (
                    name,
                    n,
                    dict(s.purged_by_class).get(name, 0),
                    dict(s.stored_by_class).get(name, 0),
                    dict(s.past_window_by_class).get(name, 0),
                )
                for name, n in s.ingested_by_class
            ),
        ),
        f'<p class="note">{s.purge_runs} purge run(s) recorded in the period; '
        f"{s.holds.reads_held} read(s) kept past their class by legal holds.</p>",
        "<h2>Searches</h2>",
        f"<p>{s.searches_total} access records in the period.</p>",
        '<div class="grid"><div><h3>By outcome</h3>'
        + bar_chart("Searches by outcome", s.searches_by_outcome)
        + "</div><div><h3>Refusals by reason code</h3>"
        + bar_chart("Refusals by reason code", s.refusals_by_reason, color=_BAD)
        + "</div></div>",
        "<h3>By purpose</h3>" + bar_chart("Searches by purpose", s.searches_by_purpose),
        "<h3>By agency</h3>" + bar_chart("Searches by agency", s.searches_by_agency),
        "<h3>By user</h3>" + bar_chart("Searches by user", s.searches_by_user),
        "<h3>Run on behalf of another agency</h3>"
        + bar_chart("Searches on behalf of", s.searches_on_behalf_of),
        "<h3>Age of data at search time</h3>"
        + bar_chart("Allowed searches by days back", s.data_age)
        + '<p class="note">Days between each allowed search and the start of its window: the '
        "oldest data the search could reach, not the age of the reads it found (no per-hit age "
        "is stored). Searches that never reach past the unmatched window suggest that window "
        "could be shorter.</p>",
        "<h2>Sharing</h2>",
        bar_chart("Shares by outcome", s.shares_by_outcome),
        _table(
            ("Recipient", "Allowed", "Refused"),
            ((r.recipient, r.allowed, r.refused) for r in s.shares_by_recipient),
        ),
        "<h2>Access review findings</h2>",
        _table(
            ("Rule", "Open", "Resolved"),
            ((f.rule, f.open, f.resolved) for f in s.findings_by_rule),
        )
        if s.findings_by_rule
        else "<p>No findings for searches in this period.</p>",
        "<h2>Hot-list hit rate per camera</h2>",
        _table(
            ("Camera", "Reads", "Hits", "Hit rate", "Flagged (hit_rate_anomaly)"),
            (
                (
                    c.camera_id,
                    c.reads,
                    c.hits,
                    f"{c.rate:.2%}",
                    "yes" if c.camera_id in s.hit_rate_flagged else "",
                )
                for c in s.hit_rate_by_camera
            ),
        )
        if s.hit_rate_by_camera
        else "<p>No reads stored for this period.</p>",
        "<h2>Silent cameras</h2>",
        _table(
            ("Credential", "Camera ids", "Last posted", "Silent for (minutes)"),
            (
                (
                    c.name,
                    ", ".join(c.camera_ids),
                    c.last_seen_at.isoformat() if c.last_seen_at else "never",
                    c.silent_minutes if c.silent_minutes is not None else "-",
                )
                for c in s.silent_cameras
            ),
        )
        if s.silent_cameras
        else "<p>Every camera credential has posted within the configured time.</p>",
        "<h2>Legal holds</h2>",
        _table(
            (
                "Active",
                "Pending approval",
                "Past review-by date",
                "Reads held",
                "Placed in period",
                "Released in period",
            ),
            [
                (
                    s.holds.active,
                    s.holds.pending,
                    s.holds.overdue,
                    s.holds.reads_held,
                    s.holds.placed,
                    s.holds.released,
                )
            ],
        ),
        "<h2>Audit chain</h2>",
        f'<p id="chain" class="{"ok" if chain.ok else "bad"}">{_e(chain_text)}</p>',
        "</body></html>\n",
    ]
    return "\n".join(sections)
