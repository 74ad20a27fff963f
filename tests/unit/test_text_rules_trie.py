"""The phrase trie inside the compiled rules: however its nodes store their children (a first
child in two slots, a second moving both into a dict, a leaf as a tuple), a walk finds exactly
the phrases a naive matcher finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from alpr_guard.policy.text_rules.compiled import _Cand, _Node, _Phrase, _walk, cand

WORDS = st.sampled_from(["ice", "hsi", "per", "for", "the", "case"])
PHRASES = st.lists(st.lists(WORDS, min_size=1, max_size=3).map(tuple), min_size=1, max_size=25)
TEXT = st.lists(WORDS, max_size=8)


def _trie(phrases: list[tuple[str, ...]]) -> _Node:
    root = _Node.root()
    for entry, words in enumerate(phrases):
        phrase = _Phrase(words, None, False)
        root.insert(phrase, cand(phrase, entry, 0))
    return root


@settings(max_examples=300, deadline=None)
@given(PHRASES, TEXT)
def test_a_walk_finds_what_a_naive_matcher_finds(
    phrases: list[tuple[str, ...]], text: list[str]
) -> None:
    root = _trie(phrases)
    for i in range(len(text)):
        out: list[tuple[_Cand, int]] = []
        _walk(root, text, i, len(text), out)
        found = {(c.entry, end) for c, end in out}
        expected = {
            (entry, i + len(words))
            for entry, words in enumerate(phrases)
            if tuple(text[i : i + len(words)]) == words
        }
        assert found == expected


@given(PHRASES)
def test_no_node_below_the_root_keeps_a_dict_for_one_child(phrases: list[tuple[str, ...]]) -> None:
    root = _trie(phrases)
    for node in root.nodes():
        if node is not root:
            assert len(node.children) != 1
            assert node.only_word is None or not node.children


def test_the_root_keeps_its_only_child_in_its_dict() -> None:
    # The scan looks each word of the text up in the root's dict directly.
    root = _trie([("ice",)])
    assert set(root.children) == {"ice"} and root.only_word is None
