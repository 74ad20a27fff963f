"""The published usage and privacy policy: rendered from the configuration in force, public."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from alpr_guard.api import build_app
from alpr_guard.audit import Actor
from alpr_guard.clock import FixedClock
from alpr_guard.errors import ConfigError
from alpr_guard.runtime import Runtime, build_runtime
from alpr_guard.services.config_audit import record_policy
from alpr_guard.services.policy_document import build_policy, policy_sha256, render_policy
from alpr_guard.settings import Settings, load_settings
from tests.conftest import REPO, Backend, write_config

POLICY = """
[policy]
custodian_title = "Records Custodian <Records Unit>"
contact = "Records Unit, 1 Civic Plaza"
accuracy_measures = ["Officers confirm the plate and its state visually before acting on a hit"]
sharing_purposes = ["Investigation of a specific crime by a California public agency"]

[policy.camera_areas]
Downtown = ["cam-1", "cam-2"]
"Harbor district" = ["cam-3"]

[policy.public_comment]
date = 2026-03-10
body = "Test City Council, regular meeting"

[[policy.access]]
job_title = "Patrol Officer"
role = "officer"
training = ["ALPR course (4 hours)"]

[[policy.access]]
job_title = "Sergeant"
role = "supervisor"
training = ["ALPR course (4 hours)", "Sharing and holds"]

[[policy.access]]
job_title = "Internal Affairs Auditor"
role = "auditor"
training = ["ALPR audit procedures"]

[[policy.access]]
job_title = "Systems Administrator"
role = "admin"
training = ["System administration"]
"""
KEY_TEXT = (
    "Usage and Privacy Policy",
    "Records Custodian",
    "Patrol Officer",
    "ALPR audit procedures",
    "Officers confirm the plate and its state visually",
    "Test City Council, regular meeting",
    "2026-03-10",
    "Locating a vehicle reported stolen",  # a purpose, from the profile
    "Civil immigration enforcement",  # a prohibited purpose, from the profile
    "60 days",  # the unmatched window in force
    "every day at 02:15 UTC",  # the review schedule
    "every day at 03:30 UTC",  # the purge schedule
    "California Highway Patrol",  # eligible under the registry
    "1798.90.51(b)(2)(G)",
    "1798.90.55(a)",
)


def policy_config(backend: Backend, tmp_path: Path, extra: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return write_config(tmp_path / "cfg", backend.fresh_url(tmp_path), POLICY + extra)


def variant(settings: Settings, *edits: tuple[str, str], extra: str = "") -> Settings:
    """The same deployment (same database, keys, registry) with its config file edited."""
    text = settings.source.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = settings.source.with_name("variant.toml")
    path.write_text(text + extra)
    return load_settings(path)


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return load_settings(policy_config(backend, tmp_path))


def _render(rt: Runtime, fmt: str) -> bytes:
    with rt.sessions() as session:
        return render_policy(build_policy(session, rt), fmt)


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.mark.parametrize("fmt", ["html", "md", "pdf"])
def test_every_element_is_in_every_format(rt: Runtime, fmt: str) -> None:
    data = _render(rt, fmt)
    if fmt == "pdf":
        assert data.startswith(b"%PDF-")
        text = _pdf_text(data)
    else:
        text = data.decode()
        if fmt == "md":
            text = text.replace("\\", "")
    for needle in KEY_TEXT:
        assert needle in text, (fmt, needle)
    assert policy_sha256(rt.settings) in text
    # Recipients the registry and the profile refuse are never listed as eligible.
    eligible = re.search(r"eligible today under the registry: ([^.]*)\.", text)
    assert eligible is not None
    for refused in ("FBI", "ICE", "Washoe", "Golden State", "Unvetted", "Tribal"):
        assert refused not in eligible.group(1), (fmt, refused)


def test_configuration_text_is_escaped_in_html(rt: Runtime) -> None:
    html = _render(rt, "html").decode()
    assert "Records Custodian &lt;Records Unit&gt;" in html
    assert "<Records Unit>" not in html


def test_changing_an_enforced_setting_changes_the_document_and_its_hash(
    backend: Backend, tmp_path: Path, rt: Runtime, clock: FixedClock
) -> None:
    before = _render(rt, "md").decode()
    shorter = variant(rt.settings, extra="\n[retention.unmatched]\ndays = 30\n")
    other = build_runtime(shorter, clock=clock)
    try:
        after = _render(other, "md").decode()
    finally:
        other.dispose()
    assert policy_sha256(shorter) != policy_sha256(rt.settings)
    assert policy_sha256(rt.settings) in before and policy_sha256(shorter) in after
    assert "| Reads that matched no hot list | 60 days | 60 days |" in before
    assert "| Reads that matched no hot list | 30 days | 60 days |" in after


def test_a_raised_search_window_or_token_lifetime_is_a_recorded_policy_change(
    backend: Backend, tmp_path: Path, rt: Runtime
) -> None:
    with rt.sessions.begin() as session:
        record_policy(session, rt, Actor("system:startup", None))
    raised = variant(
        rt.settings,
        ("[search]\n", "[search]\nmax_window_days = 3650\n"),
        ("[auth]\n", "[auth]\nhuman_token_hours = 168\n"),
    )
    assert policy_sha256(raised) != policy_sha256(rt.settings)
    other = dataclasses.replace(rt, settings=raised)
    with rt.sessions.begin() as session:
        change = record_policy(session, other, Actor("system:startup", None))
    assert change.changed
    assert {d["key"]: (d["from"], d["to"]) for d in change.diff} == {
        "enforced.search.max_window_days": (31, 3650),
        "enforced.auth.human_token_hours": (12, 168),
    }
    assert "A search may cover at most 3650 days" in _render(other, "md").decode()


def test_effective_date_comes_from_the_recorded_policy(rt: Runtime) -> None:
    with rt.sessions() as session:
        assert build_policy(session, rt).effective_at is None
    with rt.sessions.begin() as session:
        record_policy(session, rt, Actor("system:startup", None))
    with rt.sessions() as session:
        assert build_policy(session, rt).effective_at == rt.clock.now()
    assert f"In effect since {rt.clock.now():%Y-%m-%d %H:%M} UTC" in _render(rt, "html").decode()
    # A different configuration than the one recorded is not yet in effect.
    changed = build_runtime(
        dataclasses.replace(rt.settings, policy_json=rt.settings.policy_json + " "),
        clock=rt.clock,
    )
    try:
        assert "Not yet in effect" in _render(changed, "md").decode()
    finally:
        changed.dispose()


def test_get_policy_is_public_cacheable_and_conditional(client: FlaskClient, rt: Runtime) -> None:
    response = client.get("/policy")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    etag = response.headers["ETag"]
    assert policy_sha256(rt.settings) in response.get_data(as_text=True)
    again = client.get("/policy", headers={"If-None-Match": etag})
    assert again.status_code == 304
    pdf = client.get("/policy?format=pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert "Patrol Officer" in _pdf_text(pdf.data)
    md = client.get("/policy?format=md")
    assert md.headers["Content-Type"].startswith("text/markdown")
    # Private routes still say no-store.
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"


def test_get_policy_refuses_an_unknown_format_naming_the_field(client: FlaskClient) -> None:
    response = client.get("/policy?format=docx")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert "format" in error["details"]["fields"]
    assert "docx" not in error["message"]


def test_get_policy_without_a_policy_section_is_404(
    backend: Backend, tmp_path: Path, clock: FixedClock
) -> None:
    bare = build_runtime(
        load_settings(write_config(tmp_path / "bare", backend.fresh_url(tmp_path))), clock=clock
    )
    try:
        app: Flask = build_app(bare)
        response = app.test_client().get("/policy")
        assert response.status_code == 404
        assert "[policy]" in response.get_json()["error"]["message"]
    finally:
        bare.dispose()


# Civil Code 1798.90.51(b)(2)(A)-(G) and 1798.90.55(a): the section stating each element, its
# cite, and a setting it is derived from: (edit of the config file or text appended to it, text
# in the section before, text in the section after).
ELEMENTS = [
    (
        "purposes",
        "1798.90.51(b)(2)(A)",
        ("", '\n[purposes.hit_and_run]\ndescription = "Investigating a hit-and-run collision"\n'),
        None,
        "Investigating a hit-and-run collision",
    ),
    (
        "access",
        "1798.90.51(b)(2)(B)",
        ('job_title = "Patrol Officer"', 'job_title = "Patrol Deputy"'),
        "Patrol Officer",
        "Patrol Deputy",
    ),
    (
        "access",
        "1798.90.51(b)(2)(B)",
        ('training = ["ALPR audit procedures"]', 'training = ["Forensic audit course"]'),
        "ALPR audit procedures",
        "Forensic audit course",
    ),
    (
        "monitoring",
        "1798.90.51(b)(2)(C)",
        ("", '\n[review]\nschedule = "0 4 * * *"\n'),
        "every day at 02:15 UTC",
        "every day at 04:00 UTC",
    ),
    (
        "monitoring",
        "1798.90.51(b)(2)(C)",
        ("", "\n[review]\nrepeated_target_min_searches = 5\n"),
        "3 or more times",
        "5 or more times",
    ),
    (
        "monitoring",
        "1798.90.51(b)(2)(C)",
        ("", "\n[second_opinion]\nthreshold = 0.7\nrefuse_from = 0.85\n"),
        None,
        "from a probability of 85% the search is refused before it runs",
    ),
    (
        "sharing",
        "1798.90.51(b)(2)(D)",
        ("", '\n[sharing]\nallowed_kinds = ["local"]\n'),
        "state agencies and local agencies in California",
        "Recipients must be local agencies in California",
    ),
    (
        "sharing",
        "1798.90.51(b)(2)(D)",
        (
            '["Investigation of a specific crime by a California public agency"]',
            '["Locating an endangered missing person"]',
        ),
        "Investigation of a specific crime",
        "Locating an endangered missing person",
    ),
    (
        "custodian",
        "1798.90.51(b)(2)(E)",
        ('custodian_title = "Records Custodian <Records Unit>"', 'custodian_title = "Chief"'),
        "Records Custodian",
        "the Chief.",
    ),
    (
        "accuracy",
        "1798.90.51(b)(2)(F)",
        ("Officers confirm the plate", "Two officers confirm the plate"),
        "Officers confirm the plate",
        "Two officers confirm the plate",
    ),
    (
        "retention",
        "1798.90.51(b)(2)(G)",
        ("", "\n[retention.hit]\ndays = 90\n"),
        "| Reads that matched a hot list | 365 days |",
        "| Reads that matched a hot list | 90 days |",
    ),
    (
        "retention",
        "1798.90.51(b)(2)(G)",
        ("", '\n[purge]\nschedule = "0 5 * * *"\n'),
        "the purge runs every day at 03:30 UTC",
        "the purge runs every day at 05:00 UTC",
    ),
    (
        "retention",
        "1798.90.51(b)(2)(G)",
        ("", "\n[holds]\nrequire_second_approver = true\nmax_review_days = 90\n"),
        "placed by a supervisor",
        "approved by a second supervisor",
    ),
    (
        "comment",
        "1798.90.55(a)",
        ("date = 2026-03-10", "date = 2026-04-14"),
        "2026-03-10",
        "2026-04-14",
    ),
]


def _section_text(rt: Runtime, key: str) -> tuple[str, str]:
    """(the section's text as the Markdown document renders it, the whole document)."""
    with rt.sessions() as session:
        doc = build_policy(session, rt)
    md = render_policy(doc, "md").decode().replace("\\", "")
    numbered = [s.key for s in doc.sections]
    start = md.index(f"## {numbered.index(key) + 1}. ")
    following = md.find(f"## {numbered.index(key) + 2}. ", start)
    return md[start : following if following != -1 else len(md)], md


def test_every_element_of_the_statute_has_its_section_and_cite(rt: Runtime) -> None:
    with rt.sessions() as session:
        doc = build_policy(session, rt)
    cites = {s.key: s.cite or "" for s in doc.sections}
    for key, cite, *_ in ELEMENTS:
        assert cite in cites[key], (key, cite)
    for letter in "ABCDEFG":
        assert any(f"1798.90.51(b)(2)({letter})" in c for c in cites.values()), letter
    for key in cites:
        text, _ = _section_text(rt, key)
        assert len(text.split()) > 12, key  # every section says something


@pytest.mark.parametrize(
    ("key", "cite", "edit", "before", "after"),
    ELEMENTS,
    ids=[f"{e[0]}-{n}" for n, e in enumerate(ELEMENTS)],
)
def test_each_element_is_derived_from_the_configuration_in_force(
    rt: Runtime,
    clock: FixedClock,
    key: str,
    cite: str,
    edit: tuple[str, str],
    before: str | None,
    after: str,
) -> None:
    old_section, old_doc = _section_text(rt, key)
    if before is not None:
        assert before in old_section
    assert after not in old_section
    old, new = edit
    changed = variant(rt.settings, *([(old, new)] if old else []), extra="" if old else new)
    other = build_runtime(changed, clock=clock)
    try:
        new_section, new_doc = _section_text(other, key)
    finally:
        other.dispose()
    assert after in new_section
    if before is not None:
        assert before not in new_section
    # The change is a policy change: another hash, stated in the document itself.
    assert policy_sha256(changed) != policy_sha256(rt.settings)
    assert policy_sha256(changed) in new_doc and policy_sha256(rt.settings) in old_doc


@pytest.mark.parametrize(
    "restated", ["retention_days = 30", "purposes = ['anything']", "max_window_days = 3650"]
)
def test_the_policy_section_cannot_restate_what_the_engine_enforces(
    backend: Backend, tmp_path: Path, restated: str
) -> None:
    """What the engine enforces is derived, never typed twice: a [policy] that tried to publish
    its own retention or purposes (differing from what runs) is refused at load."""
    config = policy_config(backend, tmp_path)
    text = config.read_text().replace("[policy]\n", f"[policy]\n{restated}\n", 1)
    config.write_text(text)
    name = restated.split(" ", 1)[0]
    with pytest.raises(ConfigError, match=rf"policy\.{name}: unknown key"):
        load_settings(config)


def test_the_production_example_policy_renders_every_element(
    backend: Backend, tmp_path: Path, clock: FixedClock
) -> None:
    example = (REPO / "config" / "production.example.toml").read_text()
    section = example[example.index("[policy]\n") :]
    config = write_config(tmp_path / "prod", backend.fresh_url(tmp_path), section)
    rt = build_runtime(load_settings(config), clock=clock)
    try:
        text = _render(rt, "md").decode().replace("\\", "")
    finally:
        rt.dispose()
    for needle in (
        "Records Custodian, Example Police Department",
        "Detective",
        "CJIS security awareness",
        "Hot lists are loaded from the originating systems",
        "Example City Council, regular meeting (agenda item 7)",
        "1798.90.51(b)(2)(G)",
        "the purge runs every day at 03:30 UTC",
    ):
        assert needle in text, needle
