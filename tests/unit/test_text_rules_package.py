"""The text rules are a package with a public surface: nothing outside it reaches for a private
name (a rename inside must never break the review or the search), and it stays pure policy."""

from __future__ import annotations

import ast
from pathlib import Path

import alpr_guard.policy.text_rules as text_rules
from tests.conftest import REPO

PACKAGE = "alpr_guard.policy.text_rules"


def _imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            out.extend((alias.name, "") for alias in node.names)
    return out


def test_no_module_outside_the_package_imports_a_private_name() -> None:
    inside = REPO / "alpr_guard" / "policy" / "text_rules"
    for path in sorted((REPO / "alpr_guard").rglob("*.py")) + sorted((REPO / "bench").glob("*.py")):
        if inside in path.parents:
            continue
        for module, name in _imports(path):
            if module.startswith(PACKAGE):
                assert module == PACKAGE, (path, module)
                assert not name.startswith("_"), (path, name)


def test_the_public_names_are_exported() -> None:
    for name in text_rules.__all__:
        assert hasattr(text_rules, name), name
    assert {"scan", "load_text_rules", "TextMatch", "TextRules"} <= set(text_rules.__all__)


def test_the_package_stays_pure() -> None:
    # policy/ is pure: no Flask, SQLAlchemy, settings or services.
    for path in (REPO / "alpr_guard" / "policy" / "text_rules").glob("*.py"):
        for module, _ in _imports(path):
            assert not module.startswith(("flask", "sqlalchemy")), (path, module)
            assert not module.startswith(("alpr_guard.services", "alpr_guard.settings")), path
