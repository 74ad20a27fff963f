"""docs/architecture.md says what the code is: its layer drawing is the one import-linter
enforces, and its list of large modules is true (none missing, none stale, sizes within 10%)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

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
