"""Justification text rules: which misuse patterns a search reason (or case number) shows.

Why this exists: public-records releases of ALPR audit logs (2025-2026, studied by the University
of Washington Center for Human Rights, EFF and 404 Media; see docs/access-review.md) show
California officers running searches whose typed reason was "ICE", "per HSI", "immigration",
"had an abortion, search for female", "per FBI", "protest", "my ex", "B/M", "inv" or a lone ".".
The California Values Act (Gov. Code 7284.6) and AB 1242 forbid the first kinds outright, so
they are refused before the search runs; the rest are flagged for the access review (Civil Code
1798.90.52(b): use only for the policy's purposes).

Naive keyword lists fail both ways, so this module is a generic matcher and the word lists live in
the config (``config/rules.california.toml``), where an agency can tune them without a release:

* Text is normalised the way people vary it to slip past a filter, in one linear pass: NFKC
  (full-width and mathematical letters), combining marks (accents) and zero-width/format
  characters removed, look-alike letters of other scripts folded (Cyrillic, Greek), whitespace
  collapsed.
* It is split into words (runs of letters and digits, and "#"), so punctuation never matters:
  "ICE/HSI", "ICE-ERO" and "girlfriend's car" are word sequences. Runs of single letters joined by
  dots ("I.C.E.", "i.c.e", "U. S.") or, from three letters, by any short separator ("I-C-E",
  "I_C_E", "h s i") become one word; a letter held down counts once ("ICEEE", not "USSS").
* At scan time a word no phrase knows is repaired when it reads as one that a phrase does know:
  digits for look-alike letters ("1CE", "ER0", "ab0rtion"), a lower-case L among capitals ("lCE",
  "HSl"), a doubled letter added or dropped in a long word ("deporrtation", "imigration"). Only
  words of the rules are produced, so plates and case numbers are never rewritten.
* An entry may set its own ``action`` (refuse where its rule only flags) and, for a refusal, the
  ``party`` the text says the search is for ("federal", "out_of_state", "private"): screening
  then refuses with the reason code an on_behalf_of naming such an agency gets.
  ``right_before``/``right_after`` are contexts that must touch the trigger ("for the" FBI).
* A rule is a list of match entries. Each entry has ``terms`` (word phrases, found through a word
  trie: one dict lookup per word however many phrases there are) and/or ``patterns`` (regular
  expressions), plus options: ``case_sensitive`` ("ICE" the agency, not "ice"),
  ``skip_if_all_caps`` (in a field typed all in capitals case says nothing: "STOLEN VEHICLE, ICE
  BLUE ACCORD"), ``alone`` (the term is the whole field), and context windows:
  ``near``/``before``/``after`` (one of these within ``window`` words) and
  ``not_near``/``not_before``/``not_after`` (none within ``not_window`` words; a veto). A rule's
  ``exclude`` phrases cancel any trigger lying inside them ("ice cream", "unlawful detainer").
* Phrase syntax: ``word*`` (prefix, last word only), ``<num>`` (any number), ``{a|b|@list}``
  (alternatives, expanded at load time; an empty alternative makes the slot optional) and
  ``@list`` as a whole item (every phrase of a named list in ``[lists]``).
* ``vague_justification`` is special: blank, punctuation only, one character or digits only is
  junk (``junk_action``, refused by default, and also when the table is missing: fail closed); a
  reason made only of non-informative ``words`` ("inv", "check", "per sgt"), matching a
  ``whole_text`` pattern (a case number or radio code typed as the reason) or equal to the case
  number field is vague (``action``, flagged by default).

``TextMatch.matched`` holds the words that triggered a rule as they appear in the normalised text.
For junk and whole-text vague matches it holds a label ("digits only", "case number") instead:
officers sometimes type the plate itself as the reason, and a finding must never hold a plate.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from alpr_guard.errors import ConfigError

__all__ = [
    "ACTIONS",
    "JUNK_RULE",
    "PARTIES",
    "SEVERITIES",
    "TextMatch",
    "TextRules",
    "load_text_rules",
    "scan",
]

JUNK_RULE = "vague_justification"
SEVERITIES = ("high", "medium", "low")
ACTIONS = ("refuse", "flag")
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_ACTION_RANK = {a: i for i, a in enumerate(ACTIONS)}

_TOKEN = re.compile(r"[^\W_]+|#")
_DROP_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # combining marks; zero-width/format characters
_NUM = "<num>"
_CODE = re.compile(r"[a-z][a-z0-9_]*")
_BRACES = re.compile(r"\{([^{}]*)\}")
_MAX_EXPANSION = 20_000
_DEFAULT_WINDOW = 3
_MAX_WINDOW = 12
_JUNK_DEFAULTS = ("refuse", "medium")
PARTIES = ("federal", "out_of_state", "private")
# Between single letters, a separator an officer (or an evader) types: "I.C.E.", "I-C-E", "I_C_E",
# "I*C*E", "i - c - e", "I C E". Underscore is not a word character here (see _TOKEN).
_LETTER_SEP = re.compile(r" ?[-_.*~/|+:=\u2022\u00b7]{1,2} ?| ")
# Two single letters with such a separator between them: only then is _join_acronyms needed.
_SINGLES = re.compile(
    r"(?<![^\W_])[^\W\d_](?: ?[-_.*~/|+:=\u2022\u00b7]{1,2} ?| )[^\W\d_](?![^\W_])"
)
_RUN3 = re.compile(r"([^\W\d_])\1{2,}")  # a letter held down: "ICEEE", "immigraaation"
_DOUBLE = re.compile(r"([a-z])\1+")
# Digits typed for the letters they resemble ("1CE", "ER0", "ab0rtion", "U5CIS"): 1 is tried as
# i and as l.
_LEET_I = str.maketrans("0134578", "oieastb")
_LEET_L = str.maketrans("0134578", "oleastb")
_SKELETON_MIN = 6  # doubled letters added or dropped are repaired in words this long
# Misspellings of the [fuzzy] target words: a word typed with at least _FUZZY_TYPED letters, the
# same first letter, within one edit (insert, drop, change or swap two letters) of a target of
# _FUZZY_MIN to _FUZZY_TWO - 1 letters, or two edits of a longer one ("boarder", "bordr",
# "patrl", "immgration", "deportaton", "imigrasion").
_FUZZY_TYPED = 5
_FUZZY_MIN = 6
_FUZZY_TWO = 9
_FUZZY_LONGEST = 20  # longer words are not looked at (no target is this long)


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
    """A phrase in the trie: a trigger of ``entry``, or (entry < 0) an exclusion of ``rule``."""

    phrase: _Phrase
    entry: int
    rule: int


class _Node:
    """A word trie. Phrase expansion ("my {|own} {@relations}") yields thousands of phrases; the
    trie costs one dict lookup per word of text however many phrases share a start."""

    __slots__ = ("children", "ends", "num", "prefixes")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.ends: list[_Cand] = []  # phrases ending here
        self.num: _Node | None = None  # <num>
        self.prefixes: dict[str, list[tuple[str, _Cand]]] = {}  # last-word prefixes by 3 letters

    def insert(self, phrase: _Phrase, cand: _Cand) -> None:
        node = self
        last = len(phrase.words) - 1
        for k, word in enumerate(phrase.words):
            if k == last and phrase.prefix:
                bucket = node.prefixes.setdefault(word[:3], [])
                if (word, cand) not in bucket:
                    bucket.append((word, cand))
                return
            if word == _NUM:
                if node.num is None:
                    node.num = _Node()
                node = node.num
            else:
                node = node.children.setdefault(word, _Node())
        if cand not in node.ends:  # overlapping alternatives can repeat a phrase
            node.ends.append(cand)

    def starts(self, tok: str) -> bool:
        """Could a phrase start with this word? (Most words start none.)"""
        return (
            tok in self.children
            or (self.num is not None and tok.isdigit())
            or (bool(self.prefixes) and tok[:3] in self.prefixes)
        )


def _walk(
    root: _Node,
    low: Sequence[str],
    i: int,
    limit: int,
    out: list[tuple[_Cand, int]],
    first_only: bool = False,
) -> None:
    """Append (phrase, end) for every phrase in the trie that starts at word ``i``."""
    stack = [(root, i)]
    while stack:
        node, k = stack.pop()
        for cand in node.ends:
            out.append((cand, k))
            if first_only:
                return
        if k >= limit:
            continue
        tok = low[k]
        child = node.children.get(tok)
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
                        if first_only:
                            return


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
        for k in range(max(0, i - self.longest), i):
            if self.root.starts(low[k]):
                found: list[tuple[_Cand, int]] = []
                _walk(self.root, low, k, i, found)
                if any(end == i for _, end in found):
                    return True
        return False

    def at(self, low: Sequence[str], k: int, limit: int) -> bool:
        if not self.root.starts(low[k]):
            return False
        found: list[tuple[_Cand, int]] = []
        _walk(self.root, low, k, limit, found, first_only=True)
        return bool(found)

    def before(self, low: Sequence[str], i: int, window: int) -> bool:
        return any(self.at(low, k, i) for k in range(max(0, i - window), i))

    def after(self, low: Sequence[str], j: int, window: int) -> bool:
        n = len(low)
        return any(self.at(low, k, n) for k in range(j, min(n, j + window)))


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

    def known(self, word: str) -> bool:
        """Is ``word`` a word of some phrase (or does a phrase's prefix start it)?"""
        return word in self.vocab or any(word.startswith(p) for p in self.stems.get(word[:3], ()))

    @property
    def codes(self) -> tuple[str, ...]:
        """The rule codes this configuration can raise."""
        return tuple(r.code for r in self.rules)


# --------------------------------------------------------------------------- text to words


@dataclass(frozen=True, slots=True)
class _Field:
    text: str  # normalised
    spans: list[tuple[int, int]]
    orig: list[str]  # words as typed (acronyms joined, in capitals)
    low: list[str]


# Letters of other scripts drawn like a Latin letter in common fonts (Unicode's confusables data,
# UTS #39, restricted to whole-letter look-alikes): Cyrillic "\u0406\u0421\u0415" reads as ICE.
# NFKC has already folded full-width and mathematical letters to ASCII.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "\u0410": "A",
        "\u0412": "B",
        "\u0415": "E",
        "\u041a": "K",
        "\u041c": "M",
        "\u041d": "H",
        "\u041e": "O",
        "\u0420": "P",
        "\u0421": "C",
        "\u0422": "T",
        "\u0425": "X",
        "\u0423": "Y",
        "\u0406": "I",
        "\u0408": "J",
        "\u0405": "S",
        "\u0500": "D",
        "\u051a": "Q",
        "\u051c": "W",
        "\u04c0": "I",
        "\u0430": "a",
        "\u0435": "e",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0445": "x",
        "\u0443": "y",
        "\u0456": "i",
        "\u0458": "j",
        "\u0455": "s",
        "\u04bb": "h",
        "\u0501": "d",
        "\u04cf": "l",
        "\u051b": "q",
        "\u051d": "w",
        "\u044c": "b",
        "\u043f": "n",
        "\u0442": "t",
        "\u043a": "k",
        "\u043c": "m",
        "\u0433": "r",
        # Greek
        "\u0391": "A",
        "\u0392": "B",
        "\u0395": "E",
        "\u0396": "Z",
        "\u0397": "H",
        "\u0399": "I",
        "\u039a": "K",
        "\u039c": "M",
        "\u039d": "N",
        "\u039f": "O",
        "\u03a1": "P",
        "\u03a4": "T",
        "\u03a5": "Y",
        "\u03a7": "X",
        "\u03bf": "o",
        "\u03b9": "i",
        "\u03b1": "a",
        "\u03bd": "v",
        "\u03ba": "k",
        "\u03c1": "p",
        "\u03c5": "u",
        "\u03c7": "x",
        "\u03b5": "e",
        "\u03c4": "t",
        # other
        "\u0131": "i",
        "\u0269": "i",
        "\u01c0": "l",
        "\u029f": "L",
        "\u026a": "I",
        "\u1d04": "C",
        "\u1d07": "E",
        "\ua731": "S",
        "\u029c": "H",
        "\u1d0f": "O",
        "\u0280": "R",
        "\u1d05": "D",
        "\u0299": "B",
        "\u1d18": "P",
        "\u00f8": "o",
        "\u00d8": "O",
        "\u0111": "d",
        "\u0110": "D",
        "\u0142": "l",
        "\u0141": "L",
        "\u0127": "h",
        "\u0585": "o",
        "\u057d": "u",
        "\u13aa": "A",
        "\u13f4": "B",
        "\u13df": "C",
        "\u13ac": "E",
        "\u13bb": "H",
        "\u13a5": "i",
        "\u13da": "S",
        "\u13a2": "T",
        "\u00df": "ss",  # latin small letter sharp s
    }
)


def _normalise(text: str) -> str:
    if not text.isascii():  # ASCII needs none of this, and almost every reason is ASCII
        text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
        text = "".join(c for c in text if unicodedata.category(c) not in _DROP_CATEGORIES)
        text = text.translate(_CONFUSABLES)
    return " ".join(text.split())


def _join_acronyms(
    text: str, spans: list[tuple[int, int]], orig: list[str]
) -> tuple[list[tuple[int, int]], list[str]]:
    """Join "I.C.E.", "i.c.e", "U. S.", "I-C-E", "I_C_E", "h s i" into one word, as meant.

    A run of single letters joins when the letters are separated by dots (optionally with
    spaces: "I . C . E") from two letters on, or by any other short separator (a space, "-",
    "_", "*", "~", "/", "|", ...) from three letters on, so "a b" or "B-M" stay apart. A slash
    next to a two-letter run keeps it apart: "W/M. I saw" is a descriptor and a pronoun.
    """
    out_spans: list[tuple[int, int]] = []
    out_orig: list[str] = []
    n = len(orig)
    k = 0
    while k < n:
        m = k
        dotted = slashed = False
        while (
            m + 1 < n
            and len(orig[m]) == 1
            and len(orig[m + 1]) == 1
            and orig[m].isalpha()
            and orig[m + 1].isalpha()
        ):
            sep = text[spans[m][1] : spans[m + 1][0]]
            if not _LETTER_SEP.fullmatch(sep):
                break
            core = sep.strip()
            dotted = dotted or core == "."
            slashed = slashed or "/" in core
            m += 1
        run = m - k + 1
        if run >= 3 or (run == 2 and dotted and not slashed):
            before = text[spans[k][0] - 1 : spans[k][0]] if spans[k][0] else ""
            after = text[spans[m][1] : spans[m][1] + 1]
            if run >= 3 or (before != "/" and after != "/"):
                out_spans.append((spans[k][0], spans[m][1]))
                out_orig.append("".join(orig[k : m + 1]).upper())
                k = m + 1
                continue
        out_spans.append(spans[k])
        out_orig.append(orig[k])
        k += 1
    return out_spans, out_orig


def _held_down(orig: list[str]) -> list[str]:
    """ "ICEEE" -> "ICE", "immigraaation" -> "immigration": in a word of five letters or more, a
    letter three or more times in a row is one letter. Shorter words keep theirs ("USSS" is the
    Secret Service), and so do words of one letter held down ("aaaa": junk, not a word)."""
    return [
        _RUN3.sub(r"\1", w) if len(w) >= 5 and _RUN3.search(w) and len(set(w.lower())) > 1 else w
        for w in orig
    ]


def tokenise_field(raw: str) -> _Field:
    text = _normalise(raw)
    spans = [m.span() for m in _TOKEN.finditer(text)]
    orig = [text[s:e] for s, e in spans]
    if _SINGLES.search(text):
        spans, orig = _join_acronyms(text, spans, orig)
    if _RUN3.search(text):
        orig = _held_down(orig)
    return _Field(text, spans, orig, [t.lower() for t in orig])


# --------------------------------------------------------------------------- scanning

# (field, char start, -words, text, entry): sorts triggers by field, then position, longest first.
_Trigger = tuple[int, int, int, str, int]


def _repair_word(rules: TextRules, tok: str, typed: str) -> tuple[str, str] | None:
    """A word no phrase knows, spelled so that it reads as one that a phrase does know: digits for
    look-alike letters ("1CE", "ER0", "ab0rtion"), a lower-case L among capitals ("lCE", "HSl"),
    a doubled letter added or dropped in a long word ("deporrtation", "imigration"). Returns the
    word (as typed, and in lower case) or None. Only words the rules know are ever produced, so a
    plate, a case number or an unrelated word is left alone."""
    candidates: list[str] = []
    if not tok.isalpha():
        letters = sum(c.isalpha() for c in tok)
        if letters <= len(tok) - letters:
            return None  # mostly digits: a number, a code, a plate
        candidates += [tok.translate(_LEET_I), tok.translate(_LEET_L)]
        if "l" in typed and not any(c.islower() for c in typed.replace("l", "")):
            candidates.append(candidates[0].replace("l", "i"))  # "H5l": 5 for S, l for I
    elif "l" in typed and typed.replace("l", "").isupper():
        candidates.append(tok.replace("l", "i"))
    for cand in candidates:
        if cand.isalpha() and rules.known(cand):
            return (cand.upper() if typed.upper() == typed or "l" in typed else cand), cand
    if len(tok) >= _SKELETON_MIN and tok.isalpha():
        word = rules.skeletons.get(_DOUBLE.sub(r"\1", tok))
        if word is not None:
            return (word.upper() if typed.isupper() else word), word
    if rules.fuzzy and tok.isalpha():
        word = _fuzzy(rules, tok)
        if word is not None:
            return (word.upper() if typed.isupper() else word), word
    return None


def _deletes(word: str, depth: int) -> set[str]:
    """``word`` with up to ``depth`` letters dropped (itself included)."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:k] + w[k + 1 :] for w in frontier for k in range(len(w))}
        out |= frontier
    return out


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance of two short words (a swap of neighbours is one edit),
    or ``limit + 1`` once it is certainly above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _fuzzy_limit(target: str) -> int:
    return 1 if len(target) < _FUZZY_TWO else 2


def _fuzzy(rules: TextRules, tok: str) -> str | None:
    """The [fuzzy] target word ``tok`` is a misspelling of, or None.

    Symmetric deletion: a target and the typed word are within k edits only if some variant of
    each with up to k letters dropped is the same string, so the candidates are found with a few
    dozen dict lookups (the targets' variants are indexed at load time), then each is confirmed
    by an edit distance on the two words. Bounded work per word, and each word as typed is
    remembered (``_repaired``), so a scan stays linear in the text. An ordinary word near a
    target ("depart", "detained", "patron") is listed in ``never`` and left alone."""
    if len(tok) < _FUZZY_TYPED or len(tok) > _FUZZY_LONGEST or tok in rules.fuzzy_never:
        return None
    best: tuple[int, str] | None = None
    for variant in _deletes(tok, 2):
        for target in rules.fuzzy.get(variant, ()):
            if target[0] != tok[0]:
                continue
            limit = _fuzzy_limit(target)
            d = _edits(tok, target, limit)
            if d <= limit and (best is None or (d, target) < best):
                best = (d, target)
    return None if best is None else best[1]


def _needs_repair(rules: TextRules, tok: str, typed: str) -> tuple[str, str] | None:
    if tok in rules.vocab or tok.isdigit():
        return None
    if tok.isalpha() and len(tok) < _FUZZY_TYPED and ("l" not in tok or tok == typed):
        return None
    if rules.known(tok):
        return None
    return _repair_word(rules, tok, typed)


_FIXES_LIMIT = 50_000
_UNSEEN = ("", "")


def _repaired(rules: TextRules, f: _Field) -> _Field:
    """The field with look-alike spellings of known words repaired (see ``_repair_word``).

    Officers reuse a small vocabulary, so the answer for each word as typed is remembered (a
    bounded memo: cleared when full, so memory stays flat in the nightly review)."""
    orig: list[str] | None = None
    low: list[str] | None = None
    fixes = rules.fixes
    for k, typed in enumerate(f.orig):
        fixed = fixes.get(typed, _UNSEEN)
        if fixed is _UNSEEN:
            fixed = _needs_repair(rules, f.low[k], typed)
            if len(fixes) >= _FIXES_LIMIT:
                fixes.clear()
            fixes[typed] = fixed
        if fixed is None:
            continue
        if orig is None or low is None:
            orig, low = list(f.orig), list(f.low)
        orig[k], low[k] = fixed
    if orig is None or low is None:
        return f
    return _Field(f.text, f.spans, orig, low)


def scan_field(rules: TextRules, f: _Field, found: dict[int, list[_Trigger]], field: int) -> None:
    """Add the triggers of every rule that fires on this field to ``found`` (by rule)."""
    f = _repaired(rules, f)
    low, orig, spans, text = f.low, f.orig, f.spans, f.text
    n = len(low)
    hits: list[tuple[int, int, int, int, str]] = []  # entry, i, j, char start, text
    excluded: dict[int, list[tuple[int, int]]] = {}
    root = rules.trie
    children, prefixes, num = root.children, root.prefixes, root.num
    walked: list[tuple[_Cand, int]] = []
    for i, tok in enumerate(low):
        # Most words start no phrase (inlined Node.starts: this loop is the hot path).
        if not (
            tok in children
            or (num is not None and tok.isdigit())
            or (prefixes and tok[:3] in prefixes)
        ):
            continue
        walked.clear()
        _walk(root, low, i, n, walked)
        for c, j in walked:
            if c.phrase.exact is not None and not _exact_at(c.phrase, orig, i):
                continue
            if c.entry < 0:
                excluded.setdefault(c.rule, []).append((i, j))
            else:
                s = spans[i][0]
                hits.append((c.entry, i, j, s, text[s : spans[j - 1][1]]))
    if rules.patterns and n:
        starts = [s for s, _ in spans]
        stops = [e for _, e in spans]
        for pattern_entry, pattern in rules.patterns:
            for m in pattern.finditer(text):
                i = bisect_right(stops, m.start())
                j = max(i, bisect_left(starts, m.end()))
                hits.append((pattern_entry, i, j, m.start(), m.group()))
    if not hits:
        return
    # In a field typed all in capitals, "ICE" says nothing about whether the agency is meant.
    all_caps = text == text.upper()
    kept: dict[int, list[tuple[int, int, int, str, int]]] = {}
    spans_by_rule = {rule: _Spans(spans_) for rule, spans_ in excluded.items()} if excluded else {}
    for entry_id, i, j, s, matched in hits:
        entry = rules.entries[entry_id]
        vetoes = spans_by_rule.get(entry.rule) if spans_by_rule else None
        if vetoes is not None and vetoes.covers(i, j):
            continue
        if entry.accepts(low, i, j, all_caps):
            kept.setdefault(entry.rule, []).append((i, j, s, matched, entry_id))
    entries = rules.entries
    for rule, triggers in kept.items():
        out = found.setdefault(rule, [])
        if len(triggers) == 1:  # the usual case: nothing to contain it
            i, j, s, matched, entry_id = triggers[0]
            out.append((field, s, i - j, matched, entry_id))
            continue
        every = _Spans([(a, b) for a, b, _, _, _ in triggers])
        refusing = _Spans([(a, b) for a, b, _, _, e in triggers if entries[e].action == "refuse"])
        for i, j, s, matched, entry_id in triggers:
            # "my ex" inside "my ex wife": report the longer phrase only (a refusing entry's
            # phrase is kept even inside a longer flagging one: "per FBI" in "per FBI agent").
            longer = refusing if entries[entry_id].action == "refuse" else every
            if longer.covers_longer(i, j):
                continue
            out.append((field, s, i - j, matched, entry_id))


class _Spans:
    """Word spans (start, end), to ask "does a span contain this one?" without comparing every
    pair: spans are sorted by start, and only those starting at most ``widest`` words earlier
    can contain a given one. A text of many repeated phrases stays linear."""

    __slots__ = ("items", "starts", "widest")

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.items = sorted(spans)
        self.starts = [a for a, _ in self.items]
        self.widest = max((b - a for a, b in self.items), default=0)

    def _near(self, i: int) -> list[tuple[int, int]]:
        lo = bisect_left(self.starts, i - self.widest)
        hi = bisect_right(self.starts, i)
        return self.items[lo:hi]

    def covers(self, i: int, j: int) -> bool:
        return any(j <= b for _, b in self._near(i))

    def covers_longer(self, i: int, j: int) -> bool:
        """Does a strictly longer span contain (i, j)?"""
        return any(j <= b and b - a > j - i for a, b in self._near(i))


def _junk_label(f: _Field) -> str | None:
    """Blank, punctuation only, one character or digits only: a reason that is no reason."""
    if not f.text:
        return "blank"
    core = "".join(t for t in f.low if t != "#")
    if not core:
        return "punctuation only"
    if len(core) == 1:
        return "single character"
    if core.isdigit():
        return "digits only"
    return None


def _vague_reason(vague: _Vague, low: list[str], case_words: list[str]) -> tuple[str, ...] | None:
    """Why a reason explains nothing (labels or the empty words), or None if it says something."""
    if case_words and low == case_words:
        return ("case number",)
    joined = " ".join(low)
    for pattern, label in vague.whole:
        if pattern.fullmatch(joined):
            return (label,)
    rest, labels = low, []
    if case_words:
        # The first run of the case number's words, found by a string search (linear), not by
        # comparing at every word. Words hold no spaces, so " a b " matches whole words only.
        at = f" {joined} ".find(f" {' '.join(case_words)} ")
        if at >= 0:
            k = joined.count(" ", 0, at) if at else 0
            size = len(case_words)
            rest, labels = low[:k] + low[k + size :], ["case number"]
    words = vague.words
    if all(t in words or t.isdigit() for t in rest):
        said = [t for t in rest if t in words and t != "#"]
        return tuple(dict.fromkeys(said + labels)) or ("number",)
    return None


def scan(
    rules: TextRules, justification: str, case_number: str | None = None
) -> tuple[TextMatch, ...]:
    """All rules the text triggers, ordered: refuse before flag, then severity high→low, then code.

    The justification is checked for junk and vagueness and scanned by every rule. The case number
    field, when given, is scanned by the content rules too (case numbers like "HSI-2025-..." exist),
    but a number there is not junk; a justification that only repeats it is vague.
    """
    just = tokenise_field(justification)
    case = tokenise_field(case_number) if case_number else None
    case_words = case.low if case is not None else []
    junk = _junk_label(just)
    vague = rules.vague
    vague_why: tuple[str, ...] | None = None
    if vague is not None and junk in (None, "digits only"):
        vague_why = _vague_reason(vague, just.low, case_words)
        if junk is not None and vague_why == ("number",):
            vague_why = None  # bare digits that are neither a case number nor a code stay junk
        if vague_why is not None:
            junk = None
    found: dict[int, list[_Trigger]] = {}
    matches: list[TextMatch] = []
    if junk is not None:
        matches.append(TextMatch(JUNK_RULE, rules.junk_severity, rules.junk_action, (junk,)))
    else:
        scan_field(rules, just, found, 0)
    if case is not None and case.low:
        scan_field(rules, case, found, 1)
    if vague is not None and vague_why is not None:
        found.setdefault(vague.rule, [])
    for rule_id, triggers in found.items():
        rule = rules.rules[rule_id]
        if junk is not None and rule.code == JUNK_RULE:
            continue  # the junk match already speaks for this rule
        ordered = sorted(triggers)
        words = [t[3] for t in ordered]
        if vague is not None and rule_id == vague.rule and vague_why is not None:
            words = [*vague_why, *words]
        # An entry may refuse where its rule only flags ("per FBI" against a mere "FBI"): the
        # strongest action of the entries that fired is the rule's action on this text.
        fired = [rules.entries[t[4]] for t in ordered]
        refusing = [e for e in fired if e.action == "refuse"]
        action = "refuse" if refusing else ("flag" if fired else rule.action)
        party = next((e.party for e in refusing if e.party is not None), None)
        matches.append(
            TextMatch(rule.code, rule.severity, action, tuple(dict.fromkeys(words)), party)
        )
    matches.sort(key=lambda m: (_ACTION_RANK[m.action], _SEVERITY_RANK[m.severity], m.rule))
    return tuple(matches)


# --------------------------------------------------------------------------- loading


def _at(where: str, path: str) -> str:
    # `where` is either "file: table" (continue its dotted key) or a bare file name.
    if not path:
        return where
    return f"{where}.{path}" if ": " in where else f"{where}: {path}"


def _fail(where: str, path: str, why: str) -> ConfigError:
    return ConfigError(f"{_at(where, path)}: {why}")


def _check_keys(table: Mapping[str, object], allowed: Iterable[str], where: str, path: str) -> None:
    known = frozenset(allowed)
    for key in sorted(str(k) for k in table):
        if key not in known:
            dotted = f"{path}.{key}" if path else key
            raise _fail(where, dotted, f"unknown key (allowed: {', '.join(sorted(known))})")


def _table(value: object, where: str, path: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _fail(where, path, "must be a table")
    return value


def _strings(value: object, where: str, path: str) -> list[str]:
    if not isinstance(value, list):
        raise _fail(where, path, "must be a list of strings")
    for k, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _fail(where, f"{path}[{k}]", "must be a non-empty string")
    return [str(v) for v in value]


def _choice(
    table: Mapping[str, object],
    key: str,
    allowed: tuple[str, ...],
    where: str,
    path: str,
    default: str | None = None,
) -> str:
    value = table.get(key, default)
    if value is None:
        raise _fail(where, f"{path}.{key}", f"is required (one of {', '.join(allowed)})")
    if not isinstance(value, str) or value not in allowed:
        raise _fail(where, f"{path}.{key}", f"must be one of {', '.join(allowed)}")
    return value


def _flag(table: Mapping[str, object], key: str, where: str, path: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise _fail(where, f"{path}.{key}", "must be true or false")
    return value


def _window(table: Mapping[str, object], key: str, default: int, where: str, path: str) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _MAX_WINDOW:
        raise _fail(where, f"{path}.{key}", f"must be a whole number from 1 to {_MAX_WINDOW}")
    return value


def _list_ref(name: str, lists: Mapping[str, list[str]], where: str, path: str) -> list[str]:
    if name not in lists:
        raise _fail(where, path, f"names no list in [lists]: @{name}")
    return lists[name]


def _expand(
    items: list[str], lists: Mapping[str, list[str]], where: str, path: str
) -> list[tuple[str, str]]:
    """Expand ``@list`` items and ``{a|b|@list}`` groups into (phrase, key path) pairs."""
    out: list[tuple[str, str]] = []
    for k, item in enumerate(items):
        at = f"{path}[{k}]"
        text = item.strip()
        if text.startswith("@"):
            name = text[1:]
            out.extend((p, f"lists.{name}") for p in _list_ref(name, lists, where, at))
            continue
        pieces: list[list[str]] = []
        pos = 0
        for m in _BRACES.finditer(text):
            pieces.append([text[pos : m.start()]])
            options: list[str] = []
            for option in (o.strip() for o in m.group(1).split("|")):
                if option.startswith("@"):
                    options.extend(_list_ref(option[1:], lists, where, at))
                else:
                    options.append(option)
            pieces.append(options)
            pos = m.end()
        pieces.append([text[pos:]])
        if any("{" in p[0] or "}" in p[0] for p in pieces[::2]):
            raise _fail(where, at, "has unbalanced or nested braces")
        total = 1
        for options in pieces:
            total *= len(options)
        if total > _MAX_EXPANSION:
            raise _fail(where, at, f"expands to {total} phrases (at most {_MAX_EXPANSION})")
        out.extend((" ".join("".join(combo).split()), at) for combo in itertools.product(*pieces))
    return out


_PLAIN = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")  # lower-case words, single spaces


@functools.lru_cache(maxsize=65_536)
def _phrase_words(body: str) -> tuple[str, ...]:
    """The words of a phrase, split exactly as a text is. Remembered: expansions repeat the same
    phrases across entries ("for the" before every agency list), and the rules load at start-up
    and on every settings load."""
    if _PLAIN.fullmatch(body) and not _SINGLES.search(body) and not _RUN3.search(body):
        return tuple(body.split())  # the usual phrase: already what tokenise_field would make of it
    words: list[str] = []
    for k, part in enumerate(body.split(_NUM)):
        if k:
            words.append(_NUM)
        words.extend(tokenise_field(part).orig)
    return tuple(words)


def _phrase(text: str, case_sensitive: bool, where: str, path: str) -> _Phrase:
    """Compile one phrase with exactly the normalisation and word split used on the text."""
    prefix = text.endswith("*")
    body = text[:-1] if prefix else text
    if "*" in body:
        raise _fail(where, path, f"'*' is only allowed at the end of a phrase: {text!r}")
    words = list(_phrase_words(body))
    if not words:
        raise _fail(where, path, f"has no words: {text!r}")
    if prefix and (words[-1] == _NUM or len(words[-1]) < 3 or body != body.rstrip()):
        raise _fail(where, path, f"a prefix needs at least 3 letters before '*': {text!r}")
    low = tuple(w if w == _NUM else w.lower() for w in words)
    return _Phrase(low, tuple(words) if case_sensitive else None, prefix)


def _words(value: object, lists: Mapping[str, list[str]], where: str, path: str) -> _Words:
    root = _Node()
    longest = 0
    for text, at in _expand(_strings(value, where, path), lists, where, path):
        phrase = _phrase(text, False, where, at)
        root.insert(phrase, _Cand(phrase, -1, -1))
        longest = max(longest, len(phrase.words))
    return _Words(root, longest)


def _regex(text: str, flags: int, where: str, path: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(text, flags)
    except re.error as exc:
        raise _fail(where, path, f"is not a valid regular expression ({exc.msg})") from None
    # A pattern that can match nothing at all would fire on every text: refuse it.
    if any(m.start() == m.end() for probe in ("", "a 1 a.") for m in pattern.finditer(probe)):
        raise _fail(where, path, "matches the empty string")
    return pattern


_TOP_KEYS = ("rules", "lists", "fuzzy")
_FUZZY_KEYS = ("words", "never")
_RULE_KEYS = ("action", "severity", "description", "exclude", "match")
_JUNK_RULE_KEYS = (*_RULE_KEYS, "words", "whole_text", "junk_action", "junk_severity")
_CONTEXT_KEYS = (
    "near",
    "before",
    "after",
    "not_near",
    "not_before",
    "not_after",
    "right_before",
    "right_after",
)
_ENTRY_KEYS = (
    "action",
    "party",
    "terms",
    "patterns",
    "case_sensitive",
    "skip_if_all_caps",
    "alone",
    "window",
    "not_window",
    *_CONTEXT_KEYS,
)


class _Builder:
    def __init__(self, where: str, lists: Mapping[str, list[str]]) -> None:
        self.where = where
        self.lists = lists
        self.rules: list[_Rule] = []
        self.entries: list[_Entry] = []
        self.trie = _Node()
        self.patterns: list[tuple[int, re.Pattern[str]]] = []

    def exclude(self, value: object, rule: int, path: str) -> None:
        for text, at in _expand(_strings(value, self.where, path), self.lists, self.where, path):
            phrase = _phrase(text, False, self.where, at)
            self.trie.insert(phrase, _Cand(phrase, -1, rule))

    def entry(self, body: Mapping[str, object], rule: int, path: str) -> None:
        where = self.where
        _check_keys(body, _ENTRY_KEYS, where, path)
        action = _choice(body, "action", ACTIONS, where, path, self.rules[rule].action)
        party: str | None = None
        if "party" in body:
            party = _choice(body, "party", PARTIES, where, path)
            if action != "refuse":
                raise _fail(
                    where, f"{path}.party", 'names who a refusal is for: needs action "refuse"'
                )
        case_sensitive = _flag(body, "case_sensitive", where, path)
        window = _window(body, "window", _DEFAULT_WINDOW, where, path)
        contexts = {
            key: _words(body[key], self.lists, where, f"{path}.{key}") if key in body else None
            for key in _CONTEXT_KEYS
        }
        terms = _strings(body.get("terms", []), where, f"{path}.terms")
        patterns = _strings(body.get("patterns", []), where, f"{path}.patterns")
        if not terms and not patterns:
            raise _fail(where, path, "needs at least one of terms or patterns")
        entry_id = len(self.entries)
        self.entries.append(
            _Entry(
                rule=rule,
                action=action,
                party=party,
                alone=_flag(body, "alone", where, path),
                skip_if_all_caps=_flag(body, "skip_if_all_caps", where, path),
                window=window,
                not_window=_window(body, "not_window", window, where, path),
                near=contexts["near"],
                before=contexts["before"],
                after=contexts["after"],
                not_near=contexts["not_near"],
                not_before=contexts["not_before"],
                not_after=contexts["not_after"],
                right_before=contexts["right_before"],
                right_after=contexts["right_after"],
            )
        )
        for text, at in _expand(terms, self.lists, where, f"{path}.terms"):
            phrase = _phrase(text, case_sensitive, where, at)
            self.trie.insert(phrase, _Cand(phrase, entry_id, rule))
        flags = 0 if case_sensitive else re.IGNORECASE
        for k, text in enumerate(patterns):
            self.patterns.append((entry_id, _regex(text, flags, where, f"{path}.patterns[{k}]")))

    def freeze(
        self,
        vague: _Vague | None,
        junk: tuple[str, str],
        fuzzy: tuple[list[tuple[str, str]], list[str]] = ([], []),
    ) -> TextRules:
        vocab: set[str] = set()
        stems: dict[str, list[str]] = {}
        stack = [self.trie]
        while stack:
            node = stack.pop()
            vocab.update(node.children)
            stack.extend(node.children.values())
            if node.num is not None:
                stack.append(node.num)
            for bucket in node.prefixes.values():
                for stem, _ in bucket:
                    if stem not in stems.setdefault(stem[:3], []):
                        stems[stem[:3]].append(stem)
        skeletons: dict[str, str] = {}
        for word in sorted(vocab | {s for b in stems.values() for s in b}):
            if len(word) >= _SKELETON_MIN and word.isalpha():
                skeletons.setdefault(_DOUBLE.sub(r"\1", word), word)
        index: dict[str, list[str]] = {}
        targets, never = fuzzy
        probe = TextRules(
            (),
            (),
            self.trie,
            (),
            None,
            "",
            "",
            {},
            frozenset(vocab),
            {k: tuple(v) for k, v in stems.items()},
            {},
        )
        for word, at in targets:
            if not probe.known(word):
                raise _fail(
                    self.where, at, f"is not a word of any phrase (nothing to repair to): {word!r}"
                )
            for variant in _deletes(word, _fuzzy_limit(word)):
                if word not in index.setdefault(variant, []):
                    index[variant].append(word)
        return TextRules(
            rules=tuple(self.rules),
            entries=tuple(self.entries),
            trie=self.trie,
            patterns=tuple(self.patterns),
            vague=vague,
            junk_action=junk[0],
            junk_severity=junk[1],
            fixes={},
            vocab=frozenset(vocab),
            stems={k: tuple(v) for k, v in stems.items()},
            skeletons=skeletons,
            fuzzy={k: tuple(v) for k, v in index.items()},
            fuzzy_never=frozenset(never),
        )


def _lists(value: object, where: str) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for name, items in _table(value, where, "lists").items():
        if not _CODE.fullmatch(str(name)):
            raise _fail(where, f"lists.{name}", "list names are lower-case words (a-z, 0-9, _)")
        strings = _strings(items, where, f"lists.{name}")
        for k, item in enumerate(strings):
            if item.strip().startswith("@"):
                raise _fail(where, f"lists.{name}[{k}]", "a list cannot include another list")
        # An item may hold alternatives, and {@list} of a list defined ABOVE it (so lists never
        # refer to each other in a circle): "{policia|sheriff} de {@other_states}".
        lists[str(name)] = [p for p, _ in _expand(strings, lists, where, f"lists.{name}")]
    return lists


def _vague_part(
    body: Mapping[str, object], rule: int, where: str, path: str, lists: Mapping[str, list[str]]
) -> _Vague:
    words: set[str] = set()
    raw_words = _strings(body.get("words", []), where, f"{path}.words")
    for text, at in _expand(raw_words, lists, where, f"{path}.words"):
        p = _phrase(text, False, where, at)
        if len(p.words) != 1 or p.prefix or p.words[0] == _NUM:
            raise _fail(where, at, f"must be a single plain word: {text!r}")
        words.add(p.words[0])
    whole: list[tuple[re.Pattern[str], str]] = []
    raw = body.get("whole_text", [])
    if not isinstance(raw, list):
        raise _fail(where, f"{path}.whole_text", "must be an array of tables")
    for k, item in enumerate(raw):
        at = f"{path}.whole_text[{k}]"
        table = _table(item, where, at)
        _check_keys(table, ("pattern", "label"), where, at)
        pattern, label = table.get("pattern"), table.get("label")
        if not isinstance(pattern, str) or not pattern:
            raise _fail(where, f"{at}.pattern", "must be a non-empty string")
        if not isinstance(label, str) or not label.strip():
            raise _fail(where, f"{at}.label", "must be a non-empty string")
        whole.append((_regex(pattern, re.IGNORECASE, where, f"{at}.pattern"), label.strip()))
    return _Vague(rule, frozenset(words), tuple(whole))


_COMPILED: dict[tuple[str, str], TextRules] = {}
_COMPILED_LIMIT = 8


def load_text_rules(table: Mapping[str, object], where: str) -> TextRules:
    """Parse and compile the ``[screening]`` table; see ``_load_text_rules``.

    The same table is compiled once per process: the shipped lists expand to tens of thousands
    of phrases (about a second), and settings are loaded again for every job, every CLI command
    and every test. Compiled rules are immutable (their only state is a bounded memo of word
    repairs), so sharing them is safe."""
    try:
        key = (where, json.dumps(table, sort_keys=True))
    except (TypeError, ValueError):  # not plain TOML data: compile it, every time
        return _load_text_rules(table, where)
    rules = _COMPILED.get(key)
    if rules is None:
        rules = _load_text_rules(table, where)
        if len(_COMPILED) >= _COMPILED_LIMIT:
            _COMPILED.clear()
        _COMPILED[key] = rules
    return rules


def _load_text_rules(table: Mapping[str, object], where: str) -> TextRules:
    """Parse and compile the ``[screening]`` table (fails closed: every doubt is a ConfigError).

    ``where`` names the source, e.g. "config/california.toml: screening" (messages then read
    "config/california.toml: screening.rules.profiling.severity: must be one of high, medium,
    low") or a bare file name (then "rules.california.toml: rules.profiling.severity: ...").
    Unknown keys, wrong types, bad regexes, references to missing lists and phrases without words
    are all errors: a typo in a word list must not silently switch a legal protection off.
    """
    root = _table(table, where, "")
    _check_keys(root, _TOP_KEYS, where, "")
    lists = _lists(root.get("lists", {}), where)
    if "rules" not in root:
        raise _fail(where, "rules", "is required (a table of rules by code)")
    raw_rules = _table(root["rules"], where, "rules")
    if not raw_rules:
        raise _fail(where, "rules", "must define at least one rule")
    build = _Builder(where, lists)
    vague: _Vague | None = None
    junk = _JUNK_DEFAULTS  # fail closed: junk is refused even without a vague_justification table
    for code, raw in raw_rules.items():
        path = f"rules.{code}"
        if not _CODE.fullmatch(str(code)):
            raise _fail(where, path, "rule codes are lower-case words (a-z, 0-9, _)")
        body = _table(raw, where, path)
        is_junk_rule = code == JUNK_RULE
        _check_keys(body, _JUNK_RULE_KEYS if is_junk_rule else _RULE_KEYS, where, path)
        if not isinstance(body.get("description", ""), str):
            raise _fail(where, f"{path}.description", "must be a string")
        rule_id = len(build.rules)
        build.rules.append(
            _Rule(
                str(code),
                _choice(body, "action", ACTIONS, where, path),
                _choice(body, "severity", SEVERITIES, where, path),
            )
        )
        build.exclude(body.get("exclude", []), rule_id, f"{path}.exclude")
        raw_entries = body.get("match", [])
        if not isinstance(raw_entries, list):
            raise _fail(where, f"{path}.match", "must be an array of tables ([[...match]])")
        if not raw_entries and not is_junk_rule:
            raise _fail(where, f"{path}.match", "needs at least one [[match]] entry")
        for k, raw_entry in enumerate(raw_entries):
            at = f"{path}.match[{k}]"
            build.entry(_table(raw_entry, where, at), rule_id, at)
        if is_junk_rule:
            vague = _vague_part(body, rule_id, where, path, lists)
            junk = (
                _choice(body, "junk_action", ACTIONS, where, path, _JUNK_DEFAULTS[0]),
                _choice(body, "junk_severity", SEVERITIES, where, path, _JUNK_DEFAULTS[1]),
            )
    return build.freeze(vague, junk, _fuzzy_part(root.get("fuzzy", {}), where))


def _fuzzy_part(value: object, where: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``[fuzzy]``: ``words`` (the agency and act words whose misspellings are repaired; each a
    single word of at least six letters that some phrase uses) and ``never`` (ordinary words near
    one of them that stay as typed)."""
    table = _table(value, where, "fuzzy")
    _check_keys(table, _FUZZY_KEYS, where, "fuzzy")
    out: dict[str, list[tuple[str, str]]] = {}
    for key in _FUZZY_KEYS:
        out[key] = []
        for k, text in enumerate(_strings(table.get(key, []), where, f"fuzzy.{key}")):
            at = f"fuzzy.{key}[{k}]"
            words = tokenise_field(text).low
            if len(words) != 1 or not words[0].isalpha():
                raise _fail(where, at, f"must be a single word of letters: {text!r}")
            if key == "words" and not _FUZZY_MIN <= len(words[0]) <= _FUZZY_LONGEST:
                raise _fail(
                    where, at, f"must have {_FUZZY_MIN} to {_FUZZY_LONGEST} letters: {text!r}"
                )
            out[key].append((words[0], at))
    return out["words"], [w for w, _ in out["never"]]
