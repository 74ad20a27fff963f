"""The reports' HTML pages come from templates shipped with the package: every value is escaped
as text (an officer types the justification), a missing value is an empty cell, never "None",
and the templates are in the wheel's package data."""

from __future__ import annotations

import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from pathlib import Path

from alpr_guard.policy.hit_rates import CameraHitRate
from alpr_guard.services.cameras import SilentCamera
from alpr_guard.services.reports import (
    AccessRow,
    ChainStatus,
    ComplianceSummary,
    FindingCounts,
    HoldCounts,
    RecipientShares,
    ReportFilter,
    bar_chart,
    render_access_html,
    render_summary_html,
)

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
MARKUP = '<b onmouseover="x()">it\'s</b><script>alert(1)</script>'
ESCAPED = (
    "&lt;b onmouseover=&#34;x()&#34;&gt;it&#39;s&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
)


def _row(i: int, **changes: object) -> AccessRow:
    values: dict[str, object] = {
        "search_id": uuid.UUID(int=i),
        "searched_at": AT + timedelta(minutes=i),
        "username": "officer-1",
        "agency": "CA0199900",
        "on_behalf_of": None,
        "purpose": "stolen_vehicle",
        "justification": MARKUP,
        "case_number": None,
        "plate": "token-" + str(i),
        "window_from": None,
        "window_to": AT,
        "outcome": "allowed",
        "reason_code": None,
        "rule": None,
        "result_count": 3,
        "findings": (MARKUP,),
        "record_check": "verified",
    }
    values.update(changes)
    return AccessRow(**values)  # type: ignore[arg-type]


def _summary(**changes: object) -> ComplianceSummary:
    values: dict[str, object] = {
        "since": AT,
        "until": AT + timedelta(days=1),
        "generated_at": AT,
        "ingested_by_class": (("unmatched", 2), ("hit", 1)),
        "purged_by_class": (("unmatched", 0), ("hit", 0)),
        "purge_runs": 0,
        "stored_by_class": (("unmatched", 2), ("hit", 1)),
        "past_window": 0,
        "past_window_by_class": (("unmatched", 0), ("hit", 0)),
        "searches_by_outcome": (("allowed", 3), ("refused", 1)),
        "searches_by_purpose": ((MARKUP, 3),),
        "searches_by_agency": (),
        "searches_by_user": (),
        "searches_on_behalf_of": (),
        "refusals_by_reason": (),
        "shares_by_outcome": (("allowed", 0), ("refused", 0)),
        "shares_by_recipient": (RecipientShares(MARKUP, 1, 0),),
        "findings_by_rule": (FindingCounts(MARKUP, 1, 0),),
        "data_age": (("0-7", 3),),
        "chain": ChainStatus(False, 5, 4, None, MARKUP, 0),
        "holds": HoldCounts(0, 0, 0, 0, 0, 0),
        "hit_rate_by_camera": (CameraHitRate(MARKUP, 10, 1),),
        "hit_rate_flagged": (MARKUP,),
        "silent_cameras": (SilentCamera(MARKUP, (MARKUP,), None, None),),
    }
    values.update(changes)
    return ComplianceSummary(**values)  # type: ignore[arg-type]


def test_access_page_escapes_every_value_and_streams_in_chunks() -> None:
    filters = ReportFilter(AT, AT + timedelta(days=1), username="a<b")
    rows = [_row(i, outcome="refused" if i == 1 else "allowed") for i in range(5)]
    chunks = list(render_access_html(iter(rows), filters, generated_at=AT, chunk_rows=2))
    assert len(chunks) == 4  # the head, two chunks of two rows, the last row with the foot
    page = "".join(chunks)
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "<script" not in page and "<b " not in page
    assert page.count(ESCAPED) == 10  # justification and findings, five rows
    assert "username=a&lt;b" in page and "None" not in page
    assert page.count('<tr class="refused">') == 1 and "5 access records." in page
    assert "Plate (keyed hash)" in page and "Redacted form for release" in page
    tampered = "".join(render_access_html([_row(0, record_check="edited")], filters, full=True))
    assert '<tr class="tampered">' in tampered and "1 access record." in tampered
    assert "FULL form" in tampered


def test_summary_page_escapes_labels_and_keeps_its_figures() -> None:
    page = render_summary_html(_summary())
    assert "<script" not in page and "<b " not in page
    assert ESCAPED in page
    # Chart labels are cut at 28 characters; the cut label is escaped all the same.
    assert "&lt;b onmouseover=&#34;x()&#34;&gt;it&#39;s&lt;/\u2026</text>" in page
    assert '<p id="chain" class="bad">BROKEN at seq None: ' + ESCAPED in page
    assert 'id="past-window" class="big ok" style="color:#106b21">0<' in page
    assert "<td>-</td>" in page and "<td>never</td>" in page  # a camera that never posted
    assert "<td>10.00%</td>" in page
    red = render_summary_html(_summary(past_window=2, chain=ChainStatus(True, 9, 9, None, None, 1)))
    assert 'class="big bad" style="color:#c00000">2<' in red
    assert '<p id="chain" class="ok">verified: 9 events, last seq 9, 1 signed checkpoints' in red


def test_bar_chart_is_svg_with_escaped_labels_and_a_limit() -> None:
    chart = bar_chart(MARKUP, (("a<b", 4), ("c", 2), ("d", 0)), limit=2)
    assert chart.startswith("<svg") and "<title>" + ESCAPED + "</title>" in chart
    assert ">a&lt;b</text>" in chart and 'width="330"' in chart and 'width="165"' in chart
    assert "and 1 more (all in the JSON form)" in chart
    assert "none in this period" in bar_chart("empty", ())


def test_every_template_folder_is_in_the_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["alpr_guard"]
    package = ROOT / "alpr_guard"
    for path in (package / "templates").rglob("*"):
        if path.is_file():
            name = path.relative_to(package).as_posix()
            # setuptools globs match within one folder: "templates/*" is not templates/reports/.
            assert any(fnmatch(name, p) and name.count("/") == p.count("/") for p in patterns), (
                f"{name} would be missing from the wheel"
            )
