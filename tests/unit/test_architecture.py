"""docs/architecture.md says what the code is: its layer drawing is the one import-linter
enforces, and its list of large modules is true (none missing, none stale, sizes within 10%)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text()
LARGE = 600  # lines: a module above this is listed, with its reason


def _block_after(marker: str) -> list[str]:
    start = DOC.index(marker)
    body = DOC[
        DOC.index("```text", start) + len("```text") : DOC.index(
            "```", DOC.index("```text", start) + 7
        )
    ]
    return [line for line in body.strip().splitlines() if line.strip()]


def test_the_layer_drawing_is_the_linted_one() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    drawn = [re.split(r"\s{2,}", line.strip())[0] for line in _block_after("<!-- layers")]
    assert drawn == layers


def _sizes() -> dict[str, int]:
    return {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in (ROOT / "alpr_guard").rglob("*.py")
        if "migrations" not in path.parts
    }


def test_every_large_module_is_listed_with_its_size() -> None:
    listed = {
        m.group(1): int(m.group(2).replace(",", ""))
        for m in re.finditer(r"^\| `(alpr_guard/[^`]+)` \| ~([\d,]+) \|", DOC, re.MULTILINE)
    }
    sizes = _sizes()
    assert listed, "the table of large modules is missing"
    for path, documented in listed.items():
        assert path in sizes, f"{path} is listed but does not exist"
        assert abs(sizes[path] - documented) <= documented * 0.1, (path, sizes[path], documented)
    unlisted = {p: n for p, n in sizes.items() if n > LARGE and p not in listed}
    assert not unlisted, f"modules over {LARGE} lines not in docs/architecture.md: {unlisted}"


def test_the_import_contracts_hold() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_an_import_deferred_into_a_function_is_still_an_import_to_the_linter() -> None:
    """So a cycle cannot be hidden from the contracts by moving its import into a function."""
    graph = grimp.build_graph("alpr_guard")
    source = (ROOT / "alpr_guard" / "cli" / "audit.py").read_text()
    assert "\n    from alpr_guard.checkpoints import" in source  # inside a command only
    assert "\nfrom alpr_guard.checkpoints import" not in source
    assert graph.direct_import_exists(
        importer="alpr_guard.cli.audit", imported="alpr_guard.checkpoints"
    )
