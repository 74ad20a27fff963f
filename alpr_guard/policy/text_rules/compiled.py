"""The compiled form of the screening rules: a word trie of every phrase, entries with their
context windows, and what a scan reports (``TextMatch``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

JUNK_RULE = "vague_justification"
SEVERITIES = ("high", "medium", "low")
ACTIONS = ("refuse", "flag")
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_ACTION_RANK = {a: i for i, a in enumerate(ACTIONS)}
_NUM = "<num>"
PARTIES = ("federal", "out_of_state", "private")


@dataclass(frozen=True)
class TextMatch:
    """One rule the text triggers: what to do about it and the words that triggered it."""

    rule: str
    severity: str
    action: str
    matched: tuple[str, ...]
    # For a refusal that names who the search is for ("per FBI", "for Texas DPS", "repo company
    # asked"): "federal", "out_of_state" or "private". None otherwise.
    party: str | None = None


# --------------------------------------------------------------------------- compiled form


@dataclass(frozen=True, slots=True)
class _Phrase:
    words: tuple[str, ...]  # lower case; _NUM for any number
    exact: tuple[str, ...] | None  # original case, for case-sensitive terms
    prefix: bool  # the last word is a prefix


@dataclass(frozen=True, slots=True)
class _Cand:
    """A phrase in the trie: a trigger of ``entry``, or (entry < 0) an exclusion of ``rule``.

    The trie path is the phrase; ``phrase`` is kept only for a case-sensitive one (checked in
    case once matched). The others are one shared object per (entry, rule): see ``cand``."""

    phrase: _Phrase | None
    entry: int
    rule: int


_SHARED: dict[tuple[int, int], _Cand] = {}
_ENDS: dict[tuple[_Cand, ...], tuple[_Cand, ...]] = {}


def cand(phrase: _Phrase, entry: int, rule: int) -> _Cand:
    """The trie's candidate for ``phrase``: a phrase matched in any case needs nothing of its
    own, so every one of an entry shares one object (the expansions make some 100,000)."""
    if phrase.exact is not None:
        return _Cand(phrase, entry, rule)
    found = _SHARED.get((entry, rule))
    if found is None:
        found = _SHARED[(entry, rule)] = _Cand(None, entry, rule)
    return found


_NO_CHILDREN: dict[str, _Node | tuple[_Cand, ...]] = {}  # never written: see _Node._set


def _ends(ends: tuple[_Cand, ...], cand: _Cand) -> tuple[_Cand, ...]:
    """``ends`` with ``cand`` added (overlapping alternatives can repeat a phrase)."""
    if cand in ends:
        return ends
    more = (*ends, cand)
    # Shared: with candidates shared per entry, most phrases end the same few ways. Only lists
    # of shared candidates (plain numbers): one holding a case-sensitive phrase is that
    # compile's own, and kept here it would outlive its rules.
    if cand.phrase is None and all(c.phrase is None for c in ends):
        more = _ENDS.setdefault(more, more)
    return more


class _Node:
    """A word trie. Phrase expansion ("my {|own} {@relations}") yields thousands of phrases; the
    trie costs one dict lookup per word of text however many phrases share a start.

    A child that would be a leaf (a phrase ends there, nothing goes on from it: three in four of
    some 200,000) is stored as its tuple of candidates, not as a node holding one."""

    __slots__ = ("children", "ends", "frozen", "num", "only", "only_word", "prefixes")

    def __init__(self, ends: tuple[_Cand, ...] = ()) -> None:
        # Most nodes have no children: they share one empty mapping until a child is added.
        self.children: dict[str, _Node | tuple[_Cand, ...]] = _NO_CHILDREN
        # Phrases ending here: a tuple (an empty tuple is shared, an empty list would be one
        # more object per node).
        self.ends: tuple[_Cand, ...] = ends
        self.num: _Node | None = None  # <num>
        # Last-word prefixes by their first 3 letters; None in the many nodes without any.
        self.prefixes: dict[str, list[tuple[str, _Cand]]] | None = None
        # A node's first child is kept here, with its word; a second one moves both into
        # ``children``. Three in five nodes have a single child, and a dict holding one entry
        # costs 224 bytes: the compiled rules take about 7 MB less of every worker's memory.
        self.only_word: str | None = None
        self.only: _Node | tuple[_Cand, ...] | None = None
        # A frozen node is one of several identical subtrees kept once (see ``share``): never
        # changed, so an insertion below it changes a copy (``_thawed``) instead.
        self.frozen = False

    def __getstate__(self) -> tuple[object, ...]:
        # The shared empty mapping of childless nodes stays shared in a pickled copy.
        children = None if self.children is _NO_CHILDREN else self.children
        only, prefixes = self.only, self.prefixes
        return (children, self.ends, self.frozen, self.num, only, self.only_word, prefixes)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        children, self.ends, self.frozen, self.num, self.only, self.only_word, self.prefixes = state
        self.children = _NO_CHILDREN if children is None else children

    @classmethod
    def root(cls) -> _Node:
        """A root keeps every child in its dict: the scan looks each word of the text up in it."""
        node = cls()
        node.children = {}
        return node

    def _thawed(self) -> _Node:
        """A changeable copy of this node; its children stay shared (and frozen)."""
        node = _Node(self.ends)
        if self.children is not _NO_CHILDREN:
            node.children = dict(self.children)
        node.only_word, node.only, node.num = self.only_word, self.only, self.num
        if self.prefixes is not None:
            node.prefixes = {k: list(bucket) for k, bucket in self.prefixes.items()}
        return node

    def _get(self, word: str) -> _Node | tuple[_Cand, ...] | None:
        if word == self.only_word:
            return self.only
        return self.children.get(word)

    def _set(self, word: str, child: _Node | tuple[_Cand, ...]) -> None:
        if word == self.only_word:
            self.only = child
        elif self.only_word is None and self.children is _NO_CHILDREN:
            self.only_word, self.only = word, child
        else:
            if self.children is _NO_CHILDREN:
                self.children = {}
            if self.only_word is not None:
                assert self.only is not None
                self.children[self.only_word] = self.only
                self.only_word = self.only = None
            self.children[word] = child

    def _child(self, word: str) -> _Node:
        """The node under ``word``, made (or grown from a leaf) if need be."""
        if word == _NUM:
            if self.num is None:
                self.num = _Node()
            elif self.num.frozen:
                self.num = self.num._thawed()
            return self.num
        child = self._get(word)
        if isinstance(child, _Node):
            if child.frozen:
                child = child._thawed()
                self._set(word, child)
            return child
        node = _Node(child if child is not None else ())
        self._set(word, node)
        return node

    def insert(self, phrase: _Phrase, cand: _Cand) -> None:
        node = self
        words = phrase.words
        if phrase.prefix:
            for word in words[:-1]:
                node = node._child(word)
            stem = words[-1]
            if node.prefixes is None:
                node.prefixes = {}
            bucket = node.prefixes.setdefault(stem[:3], [])
            if (stem, cand) not in bucket:
                bucket.append((stem, cand))
            return
        for word in words[:-1]:
            node = node._child(word)
        last = words[-1]
        child = node._get(last) if last != _NUM else None
        if last == _NUM or isinstance(child, _Node):
            target = node._child(last)
            target.ends = _ends(target.ends, cand)
        else:
            node._set(last, _ends(child or (), cand))

    def starts(self, tok: str) -> bool:
        """Could a phrase start with this word? (Most words start none.)"""
        return (
            tok in self.children
            or tok == self.only_word
            or (self.num is not None and tok.isdigit())
            or (self.prefixes is not None and tok[:3] in self.prefixes)
        )

    def nodes(self) -> Iterator[_Node]:
        """This node and every node under it, each once however many parents share it (leaves
        held as tuples are not nodes)."""
        stack = [self]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            yield node
            stack.extend(c for c in node.children.values() if type(c) is _Node)
            if type(node.only) is _Node:
                stack.append(node.only)
            if node.num is not None:
                stack.append(node.num)

    def _key(self) -> tuple[object, ...]:
        """What makes two subtrees the same, for a node whose children are already shared.

        By identity: the children are the kept nodes, and the leaves and ``ends`` are the
        tuples ``_ends`` keeps one of per set of candidates (a case-sensitive phrase's are its
        own, so a subtree holding one is kept apart, which costs a few nodes and nothing else).
        Each id's object is held by the node whose key it is, so no id is reused meanwhile."""
        kids = [(word, id(child)) for word, child in self.children.items()]
        if self.only_word is not None:
            kids.append((self.only_word, id(self.only)))
        kids.sort()
        prefixes = (
            tuple(sorted((k, tuple(bucket)) for k, bucket in self.prefixes.items()))
            if self.prefixes
            else ()
        )
        return (id(self.ends), tuple(kids), id(self.num), prefixes)

    def _share_children(self, table: dict[tuple[object, ...], _Node]) -> None:
        for word, child in self.children.items():
            if type(child) is _Node:
                self.children[word] = _shared(child, table)  # (a value, not a key: allowed)
        if type(self.only) is _Node:
            self.only = _shared(self.only, table)
        if self.num is not None:
            self.num = _shared(self.num, table)


def _shared(node: _Node, table: dict[tuple[object, ...], _Node]) -> _Node:
    if node.frozen:
        return node  # already the one kept
    node._share_children(table)
    key = node._key()
    kept = table.get(key)
    if kept is None:
        node.frozen = True
        kept = table[key] = node
    return kept


def share(root: _Node, table: dict[tuple[object, ...], _Node]) -> None:
    """Keep each distinct subtree under ``root`` once, in ``table``, and point every parent at it.

    The expansions repeat whole subtrees: "{@other_states} {@agency_words}" puts the same few
    hundred agency words under each of some sixty state names, so the trie of about 275,000
    phrases has some 90,000 nodes of which under 4,000 differ (a minimal word automaton). The
    kept nodes are frozen; a later insertion copies the path it changes. Only nodes made since
    the last call are visited, so calling it after every entry costs what the insertions did."""
    root._share_children(table)


def _walk(
    root: _Node,
    low: Sequence[str],
    i: int,
    limit: int,
    out: list[tuple[_Cand, int]],
) -> None:
    """Append (phrase, end) for every phrase in the trie that starts at word ``i``."""
    stack: list[tuple[_Node | tuple[_Cand, ...], int]] = [(root, i)]
    while stack:
        node, k = stack.pop()
        if type(node) is tuple:  # a leaf: only phrases ending here
            for cand in node:
                out.append((cand, k))
            continue
        assert type(node) is _Node
        for cand in node.ends:
            out.append((cand, k))
        if k >= limit:
            continue
        tok = low[k]
        child = node.children.get(tok)
        if child is None and tok == node.only_word:
            child = node.only
        if child is not None:
            stack.append((child, k + 1))
        if node.num is not None and tok.isdigit():
            stack.append((node.num, k + 1))
        if node.prefixes:
            bucket = node.prefixes.get(tok[:3])
            if bucket is not None:
                for prefix, cand in bucket:
                    if tok.startswith(prefix):
                        out.append((cand, k + 1))


def _exact_at(p: _Phrase, orig: Sequence[str], i: int) -> bool:
    """Does case-sensitive phrase ``p`` (already matched case-insensitively) match in case?"""
    assert p.exact is not None
    last = len(p.exact) - 1
    for k, want in enumerate(p.exact):
        tok = orig[i + k]
        if p.words[k] == _NUM:
            continue
        if k == last and p.prefix:
            if not tok.startswith(want):
                return False
        elif tok != want:
            return False
    return True


@dataclass(frozen=True)
class _Words:
    """A context word list, compiled to a trie for window checks."""

    root: _Node
    longest: int  # words in the longest phrase

    def ends_at(self, low: Sequence[str], i: int) -> bool:
        """Does a phrase end exactly where word ``i`` starts ("request of" right before)?"""
        root = self.root
        for k in range(max(0, i - self.longest), i):
            if root.starts(low[k]):
                found: list[tuple[_Cand, int]] = []
                _walk(root, low, k, i, found)
                if any(end == i for _, end in found):
                    return True
        return False

    def at(self, low: Sequence[str], k: int, limit: int) -> bool:
        return self.root.starts(low[k]) and _phrase_from(self.root, low, k, limit)

    def before(self, low: Sequence[str], i: int, window: int) -> bool:
        """Does a phrase lie wholly among the ``window`` words before word ``i``?"""
        return self._any_from(low, max(0, i - window), i, i)

    def after(self, low: Sequence[str], j: int, window: int) -> bool:
        """Does a phrase start among the ``window`` words from word ``j`` on?"""
        n = len(low)
        return self._any_from(low, j, min(n, j + window), n)

    def _any_from(self, low: Sequence[str], lo: int, hi: int, limit: int) -> bool:
        # The context checks run for every trigger, over a window each: ``starts`` is inlined
        # (most words start no phrase) and the walk stops at the first phrase it finds.
        root = self.root
        children, only, num, prefixes = root.children, root.only_word, root.num, root.prefixes
        for k in range(lo, hi):
            tok = low[k]
            if (
                tok in children
                or tok == only
                or (num is not None and tok.isdigit())
                or (prefixes is not None and tok[:3] in prefixes)
            ) and _phrase_from(root, low, k, limit):
                return True
        return False


def _phrase_from(root: _Node, low: Sequence[str], i: int, limit: int) -> bool:
    """Does a phrase of the trie start at word ``i`` and end by ``limit``? (``_walk`` stopping at
    the first phrase, without collecting them.)"""
    stack: list[tuple[_Node | tuple[_Cand, ...], int]] = [(root, i)]
    while stack:
        node, k = stack.pop()
        if type(node) is not _Node or node.ends:  # a leaf holds phrases ending here, no more
            return True
        if k >= limit:
            continue
        tok = low[k]
        child = node.children.get(tok)
        if child is None and tok == node.only_word:
            child = node.only
        if child is not None:
            stack.append((child, k + 1))
        if node.num is not None and tok.isdigit():
            stack.append((node.num, k + 1))
        if node.prefixes:
            bucket = node.prefixes.get(tok[:3])
            if bucket is not None and any(tok.startswith(prefix) for prefix, _ in bucket):
                return True
    return False


@dataclass(frozen=True)
class _Entry:
    rule: int
    action: str  # the rule's, unless the entry says otherwise
    party: str | None
    alone: bool
    skip_if_all_caps: bool
    window: int
    not_window: int
    near: _Words | None
    before: _Words | None
    after: _Words | None
    not_near: _Words | None
    not_before: _Words | None
    not_after: _Words | None
    right_before: _Words | None
    right_after: _Words | None

    def accepts(self, low: Sequence[str], i: int, j: int, all_caps: bool) -> bool:
        if self.alone and (i != 0 or j != len(low)):
            return False
        if all_caps and self.skip_if_all_caps:
            return False
        v = self.not_window
        if self.not_near is not None and (
            self.not_near.before(low, i, v) or self.not_near.after(low, j, v)
        ):
            return False
        if self.not_before is not None and self.not_before.before(low, i, v):
            return False
        if self.not_after is not None and self.not_after.after(low, j, v):
            return False
        if (
            self.near is None
            and self.before is None
            and self.after is None
            and self.right_before is None
            and self.right_after is None
        ):
            return True
        w = self.window
        return (
            (self.near is not None and (self.near.before(low, i, w) or self.near.after(low, j, w)))
            or (self.before is not None and self.before.before(low, i, w))
            or (self.after is not None and self.after.after(low, j, w))
            or (self.right_before is not None and self.right_before.ends_at(low, i))
            or (
                self.right_after is not None
                and j < len(low)
                and self.right_after.at(low, j, len(low))
            )
        )


@dataclass(frozen=True)
class _Rule:
    code: str
    action: str
    severity: str


@dataclass(frozen=True)
class _Vague:
    """The non-junk half of ``vague_justification``: reasons that explain nothing."""

    rule: int
    words: frozenset[str]
    whole: tuple[tuple[re.Pattern[str], str], ...]


@dataclass(frozen=True)
class TextRules:
    """Compiled screening rules. Build with ``load_text_rules``; opaque to callers."""

    rules: tuple[_Rule, ...]
    entries: tuple[_Entry, ...]
    trie: _Node  # every trigger and exclusion phrase
    patterns: tuple[tuple[int, re.Pattern[str]], ...]  # (entry, pattern)
    vague: _Vague | None
    junk_action: str
    junk_severity: str
    # Derived from the trie (so left out of equality and hashing):
    fixes: dict[str, tuple[str, str] | None] = field(compare=False)  # _repair_word memo (bounded)
    vocab: frozenset[str] = field(compare=False)  # every word of every trigger and exclusion
    stems: Mapping[str, tuple[str, ...]] = field(compare=False)  # prefixes by first 3 letters
    skeletons: Mapping[str, str] = field(compare=False)  # long words by their undoubled form
    # Misspelling repair (see ``_fuzzy``): the target words by their deletion variants, and the
    # ordinary words that are never repaired although they are near a target.
    fuzzy: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    fuzzy_never: frozenset[str] = field(default_factory=frozenset, compare=False)
    # The patterns (by position) made only of letters outside ASCII, one alternative after
    # another (the Chinese word lists): a text all in ASCII, as most are, cannot match them.
    non_ascii_only: frozenset[int] = field(default_factory=frozenset, compare=False)

    def known(self, word: str) -> bool:
        """Is ``word`` a word of some phrase (or does a phrase's prefix start it)?"""
        return word in self.vocab or any(word.startswith(p) for p in self.stems.get(word[:3], ()))

    @property
    def codes(self) -> tuple[str, ...]:
        """The rule codes this configuration can raise."""
        return tuple(r.code for r in self.rules)
