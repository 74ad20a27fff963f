"""The phrase trie inside the compiled rules: however its nodes store their children (a first
child in two slots, a second moving both into a dict, a leaf as a tuple) and however often its
identical subtrees are folded into one shared copy between insertions, a walk finds exactly the
phrases a naive matcher finds."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from alpr_guard.policy.text_rules.compiled import _NUM, _Cand, _Node, _Phrase, _walk, cand, share

WORDS = st.sampled_from(["ice", "hsi", "per", "for", "the", "case"])
PHRASES = st.lists(st.lists(WORDS, min_size=1, max_size=3).map(tuple), min_size=1, max_size=25)
TEXT = st.lists(WORDS, max_size=8)


def _trie(phrases: list[tuple[str, ...]], share_at: frozenset[int] = frozenset()) -> _Node:
    """The trie of ``phrases`` (phrase k is entry k), its subtrees shared after the phrases
    whose positions are in ``share_at``."""
    root = _Node.root()
    shared: dict[tuple[object, ...], _Node] = {}
    for entry, words in enumerate(phrases):
        phrase = _Phrase(words, None, False)
        root.insert(phrase, cand(phrase, entry, 0))
        if entry in share_at:
            share(root, shared)
    return root


# Phrases sharing their ends under different starts, as the rule lists' expansions make them,
# and entries repeated so that equal subtrees appear.
FEW_WORDS = st.sampled_from(["ice", "hsi", "per", "case"])
ENTRY_PHRASES = st.lists(
    st.tuples(st.integers(0, 1), st.lists(FEW_WORDS, min_size=1, max_size=3).map(tuple)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(PHRASES, TEXT, st.frozensets(st.integers(0, 24)))
def test_a_walk_finds_what_a_naive_matcher_finds(
    phrases: list[tuple[str, ...]], text: list[str], share_at: frozenset[int]
) -> None:
    root = _trie(phrases, share_at)
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


@settings(max_examples=300, deadline=None)
@given(ENTRY_PHRASES, st.lists(FEW_WORDS, max_size=8), st.frozensets(st.integers(0, 24)))
@example(
    [(0, ("ice", "per")), (0, ("hsi", "per")), (1, ("ice", "per", "case"))],
    ["hsi", "per", "case"],
    frozenset({1}),
)
def test_inserting_below_a_shared_subtree_changes_no_other_path(
    phrases: list[tuple[int, tuple[str, ...]]], text: list[str], share_at: frozenset[int]
) -> None:
    # Entries repeat, so "ice per" and "hsi per" of one entry end in one shared node; a later
    # "ice per case" must not make "hsi per case" match.
    root = _Node.root()
    shared: dict[tuple[object, ...], _Node] = {}
    for k, (entry, words) in enumerate(phrases):
        phrase = _Phrase(words, None, False)
        root.insert(phrase, cand(phrase, entry, 0))
        if k in share_at:
            share(root, shared)
    share(root, shared)
    for i in range(len(text)):
        out: list[tuple[_Cand, int]] = []
        _walk(root, text, i, len(text), out)
        expected = {
            (entry, i + len(words))
            for entry, words in phrases
            if tuple(text[i : i + len(words)]) == words
        }
        assert {(c.entry, end) for c, end in out} == expected


def test_identical_subtrees_are_kept_once() -> None:
    # "{ice|hsi|cbp} {per|for} {case|the case}" of one entry: the three starts share one subtree.
    root = _Node.root()
    for start in ("ice", "hsi", "cbp"):
        for middle in ("per", "for"):
            for end in (("case",), ("the", "case")):
                phrase = _Phrase((start, middle, *end), None, False)
                root.insert(phrase, cand(phrase, 7, 0))
    before = sum(1 for _ in root.nodes())
    share(root, {})
    assert root.children["ice"] is root.children["hsi"] is root.children["cbp"]
    assert sum(1 for _ in root.nodes()) < before
    assert all(node.frozen for node in root.nodes() if node is not root)


def test_a_number_slot_below_a_shared_subtree_is_copied_before_it_grows() -> None:
    # "per <num>" and "case <num>" of one entry share their subtree; "case <num> ice" must not
    # make "per 12 ice" match.
    root = _Node.root()
    shared: dict[tuple[object, ...], _Node] = {}
    for words in (("per", _NUM), ("case", _NUM)):
        phrase = _Phrase(words, None, False)
        root.insert(phrase, cand(phrase, 0, 0))
    share(root, shared)
    assert root.children["per"] is root.children["case"]
    longer = _Phrase(("case", _NUM, "ice"), None, False)
    root.insert(longer, cand(longer, 1, 0))

    def found(text: list[str]) -> set[tuple[int, int]]:
        out: list[tuple[_Cand, int]] = []
        _walk(root, text, 0, len(text), out)
        return {(c.entry, end) for c, end in out}

    assert found(["case", "12", "ice"]) == {(0, 2), (1, 3)}
    assert found(["per", "12", "ice"]) == {(0, 2)}
