"""``alpr-guard policy render``: the published policy from the command line."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from alpr_guard.jobs.scheduler import run_config_drift
from alpr_guard.runtime import build_runtime
from alpr_guard.services.policy_document import policy_sha256
from alpr_guard.settings import load_settings
from tests.api.test_policy import POLICY
from tests.cli.test_cli import run
from tests.conftest import write_config


def test_policy_render_md_and_pdf(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'alpr_guard.db'}", POLICY)
    assert run(config, "db", "upgrade").returncode == 0
    md = run(config, "policy", "render", "--format", "md")
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Automated License Plate Recognition")
    assert "Patrol Officer" in md.stdout and "60 days" in md.stdout
    target = tmp_path / "policy.pdf"
    pdf = run(config, "policy", "render", "--format", "pdf", "--output", str(target))
    assert pdf.returncode == 0, pdf.stderr
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(target.read_bytes())).pages)
    assert "Test City Council" in " ".join(text.split())
    bad = run(config, "policy", "render", "--format", "docx")
    assert bad.returncode == 2 and "--format" in bad.stderr


def test_policy_render_without_a_policy_section_says_what_to_add(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'alpr_guard.db'}")
    assert run(config, "db", "upgrade").returncode == 0
    result = run(config, "policy", "render")
    assert result.returncode == 1
    assert "[policy]" in result.stderr and result.stdout == ""


def test_config_check_record_puts_every_enforced_change_on_the_record(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'alpr_guard.db'}", POLICY)
    assert run(config, "db", "upgrade").returncode == 0
    first = run(config, "config", "check", "--record")
    assert first.returncode == 0, first.stderr
    assert "recorded (was none)" in first.stdout
    assert "unchanged, nothing recorded" in run(config, "config", "check", "--record").stdout
    # Without --record nothing is written, even when the config changed.
    config.write_text(
        config.read_text()
        .replace("[search]\n", "[search]\nmax_window_days = 3650\n", 1)
        .replace("[auth]\n", "[auth]\nhuman_token_hours = 168\n", 1)
    )
    assert "recorded" not in run(config, "config", "check").stdout
    changed = run(config, "config", "check", "--record")
    assert changed.returncode == 0, changed.stderr
    assert "enforced.search.max_window_days: 31 -> 3650" in changed.stdout
    assert "enforced.auth.human_token_hours: 12 -> 168" in changed.stdout
    assert len(changed.stdout.strip().splitlines()) == 4  # ok line, recorded line, two changes


def test_review_list_shows_a_configuration_finding_by_its_policy_hash(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'alpr_guard.db'}", POLICY)
    assert run(config, "db", "upgrade").returncode == 0
    assert run(config, "config", "check", "--record").returncode == 0
    running = load_settings(config)
    config.write_text(config.read_text().replace("[search]\n", "[search]\nmax_window_days = 90\n"))
    rt = build_runtime(running)
    try:
        run_config_drift(rt)  # the scheduler's daily job, in the process started before the edit
    finally:
        rt.dispose()
    listing = run(config, "review", "list")
    assert listing.returncode == 0, listing.stderr
    (line,) = [row for row in listing.stdout.splitlines() if "config_drift" in row]
    _id, severity, rule, who, _at, status = line.split("\t")
    assert (severity, rule, status) == ("high", "config_drift", "open")
    assert who == f"config:{policy_sha256(running)[:16]}"
