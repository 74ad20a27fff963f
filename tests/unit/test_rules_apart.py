"""The server and the scheduler compile the screening rules in a child interpreter and take
them back whole (``alpr_guard.rules_apart``): the rules they get screen every text exactly as
rules compiled in place do, and a broken rules file is refused as it always was."""

from __future__ import annotations

import csv
import pickle
import tomllib

import pytest

from alpr_guard.errors import ConfigError
from alpr_guard.policy.text_rules import load_text_rules, scan
from alpr_guard.policy.text_rules.compiled import _NO_CHILDREN
from alpr_guard.rules_apart import compile_apart
from alpr_guard.settings import LazyRules
from tests.conftest import REPO

RULES_FILE = REPO / "config" / "rules.california.toml"
LABELLED = REPO / "tests" / "data" / "justifications.csv"


@pytest.fixture(scope="module")
def table() -> dict[str, object]:
    with RULES_FILE.open("rb") as fh:
        return tomllib.load(fh)


def test_rules_compiled_apart_screen_every_labelled_text_as_rules_compiled_here(
    table: dict[str, object],
) -> None:
    here = load_text_rules(table, str(RULES_FILE))
    apart = compile_apart(table, str(RULES_FILE))
    assert apart is not None
    assert apart is not here and apart.trie is not here.trie
    with LABELLED.open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    assert len(texts) > 300
    # Look-alike letters, spacing and a misspelling go through the repair path as well.
    texts += ["per I-C-E request", "lCE ERO asked", "deporrtation hearing", "ice cream truck"]
    assert [scan(apart, t) for t in texts] == [scan(here, t) for t in texts]
    assert any(scan(apart, t) for t in texts) and any(not scan(apart, t) for t in texts)


def test_a_broken_rules_file_is_refused_by_the_child_and_then_named_here(
    table: dict[str, object],
) -> None:
    broken = dict(table)
    broken["lists"] = {}  # every @list reference now names nothing
    assert compile_apart(broken, "rules.toml") is None
    with pytest.raises(ConfigError, match="names no list in \\[lists\\]"):
        LazyRules(broken, "rules.toml").compile_apart()


def test_a_table_that_is_not_plain_data_is_compiled_here(table: dict[str, object]) -> None:
    odd = {**table, "note": object()}  # not JSON: no child, the caller compiles in place
    assert compile_apart(odd, "rules.toml") is None


def test_a_pickled_trie_keeps_childless_nodes_on_the_shared_empty_mapping(
    table: dict[str, object],
) -> None:
    rules = load_text_rules(table, str(RULES_FILE))
    copy = pickle.loads(pickle.dumps(rules))
    childless = [node for node in copy.trie.nodes() if not node.children]
    assert childless
    assert all(node.children is _NO_CHILDREN for node in childless)
