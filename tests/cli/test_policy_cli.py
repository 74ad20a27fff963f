"""``alpr-guard policy render``: the published policy from the command line."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

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
