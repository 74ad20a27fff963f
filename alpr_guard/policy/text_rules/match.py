"""Scanning a text against compiled rules: look-alike spellings repaired (digits, a lower-case L,
doubled letters, misspellings of the [fuzzy] words, words split apart or glued together), then
one pass over the words through the trie, context windows, vetoes and exclusions."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from alpr_guard.policy.text_rules.compiled import (
    _ACTION_RANK,
    _SEVERITY_RANK,
    JUNK_RULE,
    TextMatch,
    TextRules,
    _Cand,
    _exact_at,
    _Node,
    _Vague,
    _walk,
)
from alpr_guard.policy.text_rules.normalise import (
    _DOUBLE,
    _LEET_I,
    _LEET_L,
    _LETTER_SEP,
    _Field,
    _field,
)

_SKELETON_MIN = 6  # doubled letters added or dropped are repaired in words this long
# Misspellings of the [fuzzy] target words: a word typed with at least _FUZZY_TYPED letters, the
# same first letter, within one edit (insert, drop, change or swap two letters) of a target of
# _FUZZY_MIN to _FUZZY_TWO - 1 letters, or two edits of a longer one ("boarder", "bordr",
# "patrl", "immgration", "deportaton", "imigrasion").
_FUZZY_TYPED = 5
_FUZZY_MIN = 6
_FUZZY_TWO = 9
_FUZZY_LONGEST = 20  # longer words are not looked at (no target is this long)


# --------------------------------------------------------------------------- scanning

# (field, char start, -words, text, entry): sorts triggers by field, then position, longest first.
_Trigger = tuple[int, int, int, str, int]


def _repair_word(rules: TextRules, tok: str, typed: str) -> tuple[str, str] | None:
    """A word no phrase knows, spelled so that it reads as one that a phrase does know: digits for
    look-alike letters ("1CE", "ER0", "ab0rtion"), a lower-case L among capitals ("lCE", "HSl"),
    a doubled letter added or dropped in a long word ("deporrtation", "imigration"). Returns the
    word (as typed, and in lower case) or None. Only words the rules know are ever produced, so a
    plate, a case number or an unrelated word is left alone."""
    undoubled = _undoubled(rules, tok, typed)
    if undoubled is not None:
        return undoubled
    candidates: list[str] = []
    if not tok.isalpha():
        letters = sum(c.isalpha() for c in tok)
        # Mostly digits: a number, a code, a plate; except a three- or four-character word
        # starting with a letter, where one letter and digits is how an acronym is disguised
        # ("H51" for HSI). Only a word of the rules is ever produced, so a code stays a code.
        if letters <= len(tok) - letters and not (
            3 <= len(tok) <= 4 and (tok[0].isalpha() or _digit_acronym(typed))
        ):
            return None
        candidates += [tok.translate(_LEET_I), tok.translate(_LEET_L)]
        if "l" in typed and not any(c.islower() for c in typed.replace("l", "")):
            candidates.append(candidates[0].replace("l", "i"))  # "H5l": 5 for S, l for I
    elif "l" in typed and typed.replace("l", "").isupper():
        candidates.append(tok.replace("l", "i"))
    elif "l" in tok:
        candidates.append(tok.replace("l", "i"))  # "lmmigration"
    if not tok.isalpha():
        candidates += [c.replace("l", "i") for c in candidates[:2] if "l" in c]  # "lmm1gration"
    for cand in candidates:
        if cand.isalpha() and rules.known(cand):
            return (cand.upper() if typed.upper() == typed or "l" in typed else cand), cand
    if len(tok) >= _SKELETON_MIN and tok.isalpha():
        word = rules.skeletons.get(_DOUBLE.sub(r"\1", tok))
        if word is not None:
            return (word.upper() if typed.isupper() else word), word
    if rules.fuzzy and tok.isalpha():
        word = _fuzzy(rules, tok)
        if word is None and len(tok) >= 7:
            spoken = _SPOKEN_ENDING.sub("tion", tok)
            word = _fuzzy(rules, spoken) if spoken != tok else None
        if word is not None:
            return (word.upper() if typed.isupper() else word), word
    return None


# A word starting with a digit that may hide an acronym: capitals (or all lower case, "1c3 3r0"),
# and only the digits drawn like the vowels I, E and O ("1C3", "3R0"); unit numbers and plates
# ("5B1", "2A4") are left alone.
_DIGIT_ACRONYM = re.compile(r"[013](?:[A-Z013]{2,3}|[a-z013]{2,3})")
# Endings written as they sound ("aborshun", "deportashun", "imigrasion"): read as "-tion" before
# a misspelling is looked up, so the [fuzzy] words are found however the ending is spelled.
_SPOKEN_ENDING = re.compile(r"(?:shun|shon|shen|sion|cion|tian|tiun)$")


def _digit_acronym(typed: str) -> bool:
    return bool(_DIGIT_ACRONYM.fullmatch(typed)) and any(c.isalpha() for c in typed)


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


# Marks a memo entry of ``_repaired`` as "split this word here" (the second item is the cut).
_GLUED = "\x00glued"


def _needs_repair(rules: TextRules, tok: str, typed: str) -> tuple[str, str] | None:
    if tok in rules.vocab or tok.isdigit() or tok in rules.fuzzy_never:
        return None
    if len(tok) >= 6 and tok.isalpha():
        parts = _split_glued(rules, typed)
        if parts is not None:
            return _GLUED, str(len(parts[0]))
    if (
        tok.isalpha()
        and len(tok) < _FUZZY_TYPED
        and ("l" not in tok or tok == typed)
        and not (typed.isupper() and _DOUBLE.search(tok))
    ):
        return None
    if rules.known(tok):
        return None
    return _repair_word(rules, tok, typed)


def _undoubled(rules: TextRules, tok: str, typed: str) -> tuple[str, str] | None:
    """An acronym typed in capitals with letters doubled ("ICCE", "HHSSII", "CBBP"): in a word of
    four to ten capitals, doubled letters count once when that gives a word of the rules of three
    letters or more. (Ordinary words in capitals that would collapse onto one, "FEEDS" onto
    "FEDS", are listed under [fuzzy] never.)"""
    if not (4 <= len(tok) <= 10 and typed.isupper() and tok.isalpha()):
        return None
    single = _DOUBLE.sub(r"\1", tok)
    if single != tok and len(single) >= 3 and single in rules.vocab:
        return single.upper(), single
    return None


# Between two parts of a word split apart ("CB P", "I-CE", "H.SI", "de-portation").
_PART_SEP = re.compile(r" ?[-_.*~/|+:=\\\u2022\u00b7]{1,3} ?| ")
_LEET_DIGITS = frozenset("0134578")
_GLUED_PART = 5  # each part of a word glued from two ("borderpatrol") has this many letters
_GLUED_LONGEST = 40  # longer words are never split (no two words of the rules are this long)


def _join_pair(rules: TextRules, a: str, b: str, sep: str, caps: bool) -> str | None:
    """Two words read as one word of the rules, or None:

    * an acronym split unevenly, in capitals, one to three letters each and three to five
      together ("CB P", "I-CE", "H SI", "US CIS"), but not words apart by a plain space in a
      text typed all in capitals (there "M AN" is two words) nor a lone "I" or "A" after one
      ("11377 HS I saw": the pronoun, not HSI);
    * a longer word split by a hyphen, dot or the like ("de-portation", "im.migration")."""
    leet = len(a) + len(b) in (3, 4) and (a in _LEET_DIGITS or b in _LEET_DIGITS)
    if not leet and not (a.isalpha() and b.isalpha() and (a + b).lower() in rules.vocab):
        return None  # (most pairs of words: settled before the separator's pattern is tried)
    if not _PART_SEP.fullmatch(sep):
        return None
    if leet and sep.strip():
        # a digit for a letter next to the rest of an acronym: "1.C.E." (C.E already joined)
        word = (a + b).lower().translate(_LEET_I)
        letters = b if a.isdigit() else a
        if word.isalpha() and word in rules.vocab and letters.isupper():
            return word.upper()
    if not (a.isalpha() and b.isalpha()):
        return None  # (a digit that read as no letter)
    joined = (a + b).lower()  # a word of the rules: two words of letters got here only if so
    if len(a) <= 3 and len(b) <= 3 and 3 <= len(joined) <= 5 and a.isupper() and b.isupper():
        if sep == " " and (caps or b in ("I", "A")):
            return None
        return a + b
    if len(joined) < 5:
        return None
    return a + b if sep.strip() else None


def _split_glued(rules: TextRules, typed: str) -> tuple[str, str] | None:
    """A word glued from two words of the rules, or None: at a change of case ("ICEagent",
    "BorderPatrol", "HSIAgent"), or, in a word of ten letters or more, into two words of at least
    five letters each ("borderpatrol"). Short pieces are never split off ("justice" is not
    "just ice")."""
    n = len(typed)
    if n > _GLUED_LONGEST:
        return None  # (bounded work per word: a scan stays linear in the text)
    low = typed.lower()
    cuts: list[int] = []
    for i in range(1, n):
        x, y = typed[i - 1], typed[i]
        if x.islower() and y.isupper():
            cuts.append(i)  # "borderPatrol"
        elif x.isupper() and y.islower() and i >= 2 and typed[i - 2].isupper():
            cuts.append(i if typed[:i].isupper() and low[:i] in rules.vocab else i - 1)
    for i in cuts:
        left, right = low[:i], low[i:]
        if len(left) >= 2 and left in rules.vocab and len(right) >= 3 and rules.known(right):
            return typed[:i], typed[i:]
    if n >= 2 * _GLUED_PART:
        for i in range(_GLUED_PART, n - _GLUED_PART + 1):
            if low[:i] in rules.vocab and low[i:] in rules.vocab:
                return typed[:i], typed[i:]
    return None


# Only a text with one of these can hold a word split apart (see ``_regrouped``): a separator
# between two letters or digits, two short words in capitals side by side, a lone digit. Three
# patterns, not one alternation: the separated kind is only tried where a separator is, which
# is a fifth of the time one pattern took over a text (bench/screening.py).
_SEPARATOR = r"[-_.*~/|+:=\\\u2022\u00b7]"
_SEPARATOR_CHAR = re.compile(_SEPARATOR)
_SEPARATED_HINT = re.compile(
    rf"[^\W\d_]{_SEPARATOR}{{1,3}}[^\W\d_]"
    rf"|(?<![^\W_])[0134578]{_SEPARATOR}{{1,3}}[^\W\d_]"
    rf"|[^\W\d_]{_SEPARATOR}{{1,3}}[0134578](?![^\W_])"
)
_CAPITALS_HINT = re.compile(r"\b[A-Z]{1,3} [A-Z]{1,3}\b")
_LONE_DIGIT_HINT = re.compile(r"(?<![^\W_])[^\W\d_] [^\W\d_] [0134578](?![^\W_])")
# (On a text all in ASCII, the same with ASCII classes: a third faster, the same matches.)
_LONE_DIGIT_HINT_ASCII = re.compile(r"(?<![a-zA-Z0-9])[a-zA-Z] [a-zA-Z] [0134578](?![a-zA-Z0-9])")


def _regroup_hint(text: str) -> bool:
    """Could ``text`` hold a word split apart? A separated one starts right before a separator:
    the pattern is tried there only (its lookbehinds still see the text before)."""
    for m in _SEPARATOR_CHAR.finditer(text):
        start = m.start()
        if start and _SEPARATED_HINT.match(text, start - 1):
            return True
    lone = _LONE_DIGIT_HINT_ASCII if text.isascii() else _LONE_DIGIT_HINT
    return bool(_CAPITALS_HINT.search(text) or lone.search(text))


def _regrouped(rules: TextRules, f: _Field) -> _Field:
    """The field with words split apart joined again (see ``_join_pair``), and runs of single
    characters that read as a word once digits are read as letters ("I C 3", "1-C-E"). Only
    words of the rules are ever made. (Words glued together are split in ``_repaired``.)"""
    orig, spans, text = f.orig, f.spans, f.text
    caps = text == text.upper()
    n = len(orig)
    out_orig: list[str] = []
    out_spans: list[tuple[int, int]] = []
    changed = False
    k = 0
    while k < n:
        a = orig[k]
        if k + 1 < n:
            if len(a) == 1 and a.isalnum():
                m = k
                while (
                    m + 1 < n
                    and m - k < 5
                    and len(orig[m + 1]) == 1
                    and orig[m + 1].isalnum()
                    and _LETTER_SEP.fullmatch(text[spans[m][1] : spans[m + 1][0]])
                ):
                    m += 1
                run = "".join(orig[k : m + 1])
                if m > k + 1 and any(c in _LEET_DIGITS for c in run) and not run.isdigit():
                    word = run.lower().translate(_LEET_I)
                    if word.isalpha() and word in rules.vocab:
                        out_orig.append(run.upper())
                        out_spans.append((spans[k][0], spans[m][1]))
                        changed = True
                        k = m + 1
                        continue
            b = orig[k + 1]
            joined = _join_pair(rules, a, b, text[spans[k][1] : spans[k + 1][0]], caps)
            if joined is not None:
                out_orig.append(joined)
                out_spans.append((spans[k][0], spans[k + 1][1]))
                changed = True
                k += 2
                continue
        out_orig.append(a)
        out_spans.append(spans[k])
        k += 1
    if not changed:
        return f
    return _Field(text, out_spans, out_orig, [t.lower() for t in out_orig])


_FIXES_LIMIT = 50_000
_UNSEEN = ("", "")


def _repaired(rules: TextRules, f: _Field) -> _Field:
    """The field with look-alike spellings of known words repaired (see ``_repair_word``).

    Officers reuse a small vocabulary, so the answer for each word as typed is remembered (a
    bounded memo: cleared when full, so memory stays flat in the nightly review)."""
    if _regroup_hint(f.text):
        f = _regrouped(rules, f)
    orig: list[str] | None = None
    low: list[str] | None = None
    cuts: list[tuple[int, int]] | None = None  # (word, cut) of words glued from two
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
        if fixed[0] is _GLUED:
            if cuts is None:
                cuts = []
            cuts.append((k, int(fixed[1])))
            continue
        if orig is None or low is None:
            orig, low = list(f.orig), list(f.low)
        orig[k], low[k] = fixed
    if orig is not None and low is not None:
        f = _Field(f.text, f.spans, orig, low)
    if cuts is not None:
        f = _cut(f, cuts)
    return f


def _cut(f: _Field, cuts: list[tuple[int, int]]) -> _Field:
    """Split the words at ``cuts`` (word index, letters in the first part) in two."""
    orig: list[str] = []
    spans: list[tuple[int, int]] = []
    at = dict(cuts)
    for k, word in enumerate(f.orig):
        cut = at.get(k)
        s0, s1 = f.spans[k]
        if cut is None or s1 - s0 != len(word):  # (a word joined or held down: left whole)
            orig.append(word)
            spans.append((s0, s1))
            continue
        orig.extend((word[:cut], word[cut:]))
        spans.extend(((s0, s0 + cut), (s0 + cut, s1)))
    return _Field(f.text, spans, orig, [w.lower() for w in orig])


def _pattern_hits(
    rules: TextRules,
    text: str,
    spans: list[tuple[int, int]],
    hits: list[tuple[int, int, int, int, str]],
) -> None:
    """Append (entry, i, j, char start, text) for every match of the rules' patterns."""
    starts: list[int] = []
    stops: list[int] = []
    skip = rules.non_ascii_only if text.isascii() else ()
    for k, (pattern_entry, pattern) in enumerate(rules.patterns):
        if k in skip:
            continue
        for m in pattern.finditer(text):
            if not stops:  # (made on the first match only: most texts match no pattern)
                starts = [s for s, _ in spans]
                stops = [e for _, e in spans]
            i = bisect_right(stops, m.start())
            j = max(i, bisect_left(starts, m.end()))
            hits.append((pattern_entry, i, j, m.start(), m.group()))


def _scan_field(rules: TextRules, f: _Field, found: dict[int, list[_Trigger]], field: int) -> None:
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
        child = children.get(tok)
        if (num is not None and tok.isdigit()) or (prefixes and tok[:3] in prefixes):
            pass  # a number or a prefix may start one too: walk
        elif child is None:
            continue
        elif (
            type(child) is _Node and not child.ends and (i + 1 == n or not child.starts(low[i + 1]))
        ):
            # Of the words that do start one ("for", "the", "in"), most are not followed by a
            # word that goes on with it: two look-ups settle that without a walk.
            continue
        walked.clear()
        _walk(root, low, i, n, walked)
        for c, j in walked:
            if c.phrase is not None and not _exact_at(c.phrase, orig, i):
                continue
            if c.entry < 0:
                excluded.setdefault(c.rule, []).append((i, j))
            else:
                s = spans[i][0]
                hits.append((c.entry, i, j, s, text[s : spans[j - 1][1]]))
    if rules.patterns and n:
        _pattern_hits(rules, text, spans, hits)
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
    """All rules the text triggers (see ``scan_words``)."""
    return scan_words(rules, justification, case_number)[0]


def scan_words(
    rules: TextRules, justification: str, case_number: str | None = None
) -> tuple[tuple[TextMatch, ...], tuple[str, ...]]:
    """All rules the text triggers, ordered: refuse before flag, then severity high→low, then code.

    The justification is checked for junk and vagueness and scanned by every rule. The case number
    field, when given, is scanned by the content rules too (case numbers like "HSI-2025-..." exist),
    but a number there is not junk; a justification that only repeats it is vague.

    Also returns the justification's words as the rules see them (``words_of``), made on the way,
    for whoever reads the text next (the second opinion, the review's verdicts).
    """
    just = _field(justification)
    case = _field(case_number) if case_number else None
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
        _scan_field(rules, just, found, 0)
    if case is not None and case.low:
        _scan_field(rules, case, found, 1)
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
    return tuple(matches), tuple(just.low)


def words_of(text: str) -> tuple[str, ...]:
    """The words of a text as the rules see them (normalised, lower case, before any repair):
    what a case number looks like inside a justification."""
    return tuple(_field(text).low)


def field_triggers(rules: TextRules, text: str) -> tuple[tuple[str, ...], bool]:
    """The words of a case-number field and whether any rule fires on it (a case number like
    "HSI-2025-..." is a finding on its own)."""
    f = _field(text)
    found: dict[int, list[_Trigger]] = {}
    _scan_field(rules, f, found, 1)
    return tuple(f.low), bool(found)
